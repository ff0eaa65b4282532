/**
 * Broadcast throughput: the sender (`createSender` over `awsConnections`, real AWS SDK) fanning
 * out to 10,000 connections through a local `@connections` server, measured next to (a) the
 * reference implementation's approach, a sequential loop of PostToConnection calls, and (b) the
 * server's raw capacity, the same POSTs fired with the same concurrency by a bare `node:http`
 * client with keep-alive. The server runs in a child process so it does not share an event loop
 * with the clients, and holds each response for a fixed simulated network latency: the
 * `@connections` API is a network call, and the latency is what a sequential loop pays per
 * message. Each latency setting is reported on its own.
 */
import { fork } from 'node:child_process'
import { Agent, request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { awsConnections } from '../packages/core/src/aws/index.js'
import { systemClock } from '../packages/core/src/clock.js'
import { createSender } from '../packages/core/src/send/index.js'
import { startConnectionsServer } from '../packages/core/test/connections-server.js'
import { fakeStore } from '../packages/core/test/fake-store.js'
import { compare, type Measurement, measure, opsPerSecond, report } from './lib.js'

const RECIPIENTS = 10_000
const SEQUENTIAL_SAMPLE = 200
const CONCURRENCY = 32
const ROUNDS = 3
const LATENCIES_MS = [0, 10, 25]
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' }

const SERVE_FLAG = '--connections-server'

// Child-process mode: serve `@connections` until the parent disconnects.
if (process.argv[2] === SERVE_FLAG) {
  const server = await startConnectionsServer({
    latencyMs: Number(process.argv[3]),
    record: false,
  })
  process.send?.(server.origin)
  process.once('disconnect', () => {
    void server.close()
  })
}

/** Starts the `@connections` server in a child process; resolves its origin and a stopper. */
async function serverProcess(latencyMs: number) {
  const child = fork(fileURLToPath(import.meta.url), [SERVE_FLAG, String(latencyMs)], {
    execArgv: process.execArgv,
  })
  const origin = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve(String(m)))
    child.once('error', reject)
  })
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.disconnect()
    })
  return { origin, stop }
}

function rawPost(agent: Agent, url: URL, id: string, body: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: `${url.pathname}/@connections/${encodeURIComponent(id)}`,
        headers: { 'content-length': body.byteLength, 'content-type': 'application/octet-stream' },
      },
      (res) => {
        res.resume()
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error('status'))))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function run(latencyMs: number): Promise<void> {
  const { origin, stop } = await serverProcess(latencyMs)
  const endpoint = `${origin}/bench`
  const store = fakeStore()
  const ids = Array.from({ length: RECIPIENTS }, (_, i) => `conn${String(i).padStart(6, '0')}=`)
  store.seed(ids, { apiId: 'benchapi', stage: 'bench' })
  const message = { type: 'chat.message', room: 'lobby', text: 'hello, everyone', at: 1 }
  const body = new TextEncoder().encode(JSON.stringify(message))

  const connections = awsConnections({ region: 'us-east-1', credentials, endpoint })
  const send = createSender({ store, connections, clock: systemClock, concurrency: CONCURRENCY })
  // The reference loop: one PostToConnection at a time through its own SDK client.
  const sequentialClient = awsConnections({ region: 'us-east-1', credentials, endpoint })
  const target = (connectionId: string) => ({
    connectionId,
    apiId: 'benchapi',
    stage: 'bench',
    domainName: null,
  })
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  const url = new URL(endpoint)

  // Warm every path (JIT, sockets, signing-key cache) before measuring.
  await send.broadcast(message)
  for (const id of ids.slice(0, 200)) await sequentialClient.post(target(id), body)
  await measure('warm raw', 2_000, (i) => rawPost(agent, url, ids[i] as string, body), CONCURRENCY)

  const rows = await compare(ROUNDS, [
    () =>
      measure(
        `sequential PostToConnection (${SEQUENTIAL_SAMPLE} sampled)`,
        SEQUENTIAL_SAMPLE,
        (i) => sequentialClient.post(target(ids[i] as string), body),
      ),
    async (): Promise<Measurement> => {
      const start = performance.now()
      const result = await send.broadcast(message)
      if (result.delivered !== RECIPIENTS) throw new Error(`delivered ${result.delivered}`)
      return {
        name: `sender.broadcast (concurrency ${CONCURRENCY})`,
        ops: RECIPIENTS,
        ms: performance.now() - start,
      }
    },
    () =>
      measure(
        `raw node:http keep-alive (concurrency ${CONCURRENCY})`,
        RECIPIENTS,
        (i) => rawPost(agent, url, ids[i] as string, body),
        CONCURRENCY,
      ),
  ])

  report(`broadcast to ${RECIPIENTS.toLocaleString('en-US')}, ${latencyMs} ms latency`, rows)
  const [sequential, sender, raw] = rows
  if (sequential !== undefined && sender !== undefined && raw !== undefined) {
    const vsSequential = opsPerSecond(sender) / opsPerSecond(sequential)
    const vsRaw = opsPerSecond(sender) / opsPerSecond(raw)
    console.log(
      `sender vs sequential ${vsSequential.toFixed(1)}× (target ≥ 20×)  ` +
        `sender vs raw ${vsRaw.toFixed(2)}× (target ≥ 0.7×)`,
    )
  }

  agent.destroy()
  sequentialClient.destroy()
  connections.destroy()
  await stop()
}

/** Runs the broadcast comparison once per simulated latency. */
export default async function sendBench(): Promise<void> {
  for (const latencyMs of LATENCIES_MS) await run(latencyMs)
}
