/**
 * `node --cpu-prof --conditions=@apigw-ws/source --import ./bench/support/register.mjs bench/send-profile.ts`: broadcasts
 * to 10,000 connections through the AWS SDK transport against a local `@connections` server (in
 * a child process, 0 ms latency) for a few rounds, so a CPU profile of this process shows where
 * the client's time per send goes. Prints sends per second per core of this process.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { awsConnections } from '../packages/core/src/aws/index.js'
import { systemClock } from '../packages/core/src/clock.js'
import { createSender } from '../packages/core/src/send/index.js'
import { startConnectionsServer } from '../packages/core/test/connections-server.js'
import { fakeStore } from '../packages/core/test/fake-store.js'

const SERVE_FLAG = '--serve'
if (process.argv[2] === SERVE_FLAG) {
  const server = await startConnectionsServer({ latencyMs: 0, record: false })
  process.send?.(server.origin)
  process.once('disconnect', () => void server.close())
} else {
  const child = fork(fileURLToPath(import.meta.url), [SERVE_FLAG], {
    execArgv: process.execArgv.filter((a) => !a.startsWith('--cpu-prof')),
  })
  const origin = await new Promise<string>((resolve) =>
    child.once('message', (m) => resolve(String(m))),
  )
  const store = fakeStore()
  const ids = Array.from({ length: 10_000 }, (_, i) => `conn${String(i).padStart(6, '0')}=`)
  store.seed(ids, { apiId: 'benchapi', stage: 'bench' })
  const connections = awsConnections({
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    endpoint: `${origin}/bench`,
  })
  const send = createSender({ store, connections, clock: systemClock, concurrency: 32 })
  const message = { type: 'chat.message', text: 'hello, everyone' }
  await send.broadcast(message)
  const cpu = process.cpuUsage()
  const rounds = Number(process.env.ROUNDS ?? 3)
  for (let r = 0; r < rounds; r++) await send.broadcast(message)
  const { user, system } = process.cpuUsage(cpu)
  console.log(`${Math.round((rounds * 10_000 * 1e6) / (user + system))} sends/s per core`)
  connections.destroy()
  child.disconnect()
}
