/**
 * Sending throughput and CPU: the sender (`createSender` over `awsConnections`, the real AWS
 * SDK) broadcasting to 10,000 connections through a local `@connections` server, next to raw
 * `node:http` keep-alive POSTs at the same concurrency, once signed with SigV4
 * (`support/sigv4.ts`: the least work any client must do per send) and once unsigned (the HTTP
 * floor). The server runs in a child process and holds each response for a simulated network
 * latency; 0 ms is the setting that shows the client's CPU cost. CPU is this process's own
 * (`process.cpuUsage()`), so sends per second per core = 1 / CPU per send. Variants alternate
 * round by round (`support/rounds.ts`); the SDK does strictly more work than raw signed HTTP, and
 * raw signed more than raw unsigned, so a row measured faster than its lighter variant is flagged.
 * Target: at 0 ms, at least 10,000 sends/s per core through the SDK (API Gateway's default
 * account budget is 10,000 requests per second).
 */
import { fork } from 'node:child_process'
import { Agent, request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { awsConnections } from '../packages/core/src/aws/index.js'
import { systemClock } from '../packages/core/src/clock.js'
import { createSender } from '../packages/core/src/send/index.js'
import { startConnectionsServer } from '../packages/core/test/connections-server.js'
import { fakeStore } from '../packages/core/test/fake-store.js'
import { alternate, printRounds, type Sample, type Variant } from './support/rounds.js'
import { sigv4Signer } from './support/sigv4.js'

const RECIPIENTS = 10_000
const CONCURRENCY = 32
const ROUNDS = Number(process.env.APIGW_BENCH_ROUNDS ?? 5)
const LATENCIES_MS = [0, 10]
const TARGET_PER_CORE = 10_000
const REGION = 'us-east-1'
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

function rawPost(
  agent: Agent,
  url: URL,
  id: string,
  body: Uint8Array,
  sign?: (path: string, body: Uint8Array) => Record<string, string>,
): Promise<void> {
  const path = `${url.pathname}/@connections/${encodeURIComponent(id)}`
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        headers: {
          'content-length': body.byteLength,
          'content-type': 'application/octet-stream',
          ...sign?.(path, body),
        },
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

/** Runs `total` operations with `concurrency` workers: throughput and this process's CPU per op. */
async function timed(
  total: number,
  concurrency: number,
  fn: (i: number) => Promise<void>,
): Promise<Sample> {
  const cpu = process.cpuUsage()
  const start = performance.now()
  let next = 0
  const worker = async () => {
    for (let i = next++; i < total; i = next++) await fn(i)
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const ms = performance.now() - start
  const { user, system } = process.cpuUsage(cpu)
  return { perSecond: (total * 1000) / ms, cpuUs: (user + system) / total }
}

async function run(latencyMs: number): Promise<void> {
  const { origin, stop } = await serverProcess(latencyMs)
  const endpoint = `${origin}/bench`
  const store = fakeStore()
  const ids = Array.from({ length: RECIPIENTS }, (_, i) => `conn${String(i).padStart(6, '0')}=`)
  store.seed(ids, { apiId: 'benchapi', stage: 'bench' })
  const message = { type: 'chat.message', room: 'lobby', text: 'hello, everyone', at: 1 }
  const body = new TextEncoder().encode(JSON.stringify(message))

  const connections = awsConnections({ region: REGION, credentials, endpoint })
  const send = createSender({ store, connections, clock: systemClock, concurrency: CONCURRENCY })
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  const url = new URL(endpoint)
  const sign = sigv4Signer({ host: url.host, region: REGION, ...credentials })

  const unsigned: Variant = {
    name: `raw node:http keep-alive, unsigned (concurrency ${CONCURRENCY})`,
    run: () => timed(RECIPIENTS, CONCURRENCY, (i) => rawPost(agent, url, ids[i] as string, body)),
  }
  const signed: Variant = {
    name: `raw node:http keep-alive, SigV4-signed (concurrency ${CONCURRENCY})`,
    moreWorkThan: [unsigned.name],
    run: () =>
      timed(RECIPIENTS, CONCURRENCY, (i) => rawPost(agent, url, ids[i] as string, body, sign)),
  }
  const sdk: Variant = {
    name: `sender.broadcast via the AWS SDK (concurrency ${CONCURRENCY})`,
    moreWorkThan: [signed.name, unsigned.name],
    run: async () => {
      const cpu = process.cpuUsage()
      const start = performance.now()
      const result = await send.broadcast(message)
      const ms = performance.now() - start
      const { user, system } = process.cpuUsage(cpu)
      if (result.delivered !== RECIPIENTS) throw new Error(`delivered ${result.delivered}`)
      return { perSecond: (RECIPIENTS * 1000) / ms, cpuUs: (user + system) / RECIPIENTS }
    },
  }
  try {
    const result = await alternate(ROUNDS, [signed, sdk, unsigned])
    printRounds(
      `broadcast to ${RECIPIENTS.toLocaleString('en-US')}, ${latencyMs} ms simulated latency (client process CPU)`,
      result,
      { unit: 'sends' },
    )
    for (const [i, variant] of result.variants.entries()) {
      const cpus = (result.samples[i] ?? []).map((s) => s.cpuUs ?? Number.NaN).sort((a, b) => a - b)
      const perCore = 1e6 / (cpus[(cpus.length - 1) >> 1] ?? Number.NaN)
      const target =
        variant === sdk
          ? `  (${perCore >= TARGET_PER_CORE ? 'meets' : 'BELOW'} the ${TARGET_PER_CORE.toLocaleString('en-US')} target)`
          : ''
      console.log(
        `${variant.name}: ${Math.round(perCore).toLocaleString('en-US')} sends/s per core${target}`,
      )
    }
  } finally {
    agent.destroy()
    connections.destroy()
    await stop()
  }
}

/** Runs the comparison once per simulated latency. */
export default async function sendBench(): Promise<void> {
  for (const latencyMs of LATENCIES_MS) await run(latencyMs)
}
