/**
 * Sustained traffic through the local gateway: N WebSocket connections and M messages, each
 * answered by the backend with a two-way reply, every reply counted against every message sent
 * (zero lost), reporting messages/s and p50/p99 round-trip latency. The gateway and the backend
 * each run in a child process of their own, as they would in a deployment, so the clients in
 * this process do not share an event loop with them.
 *
 * `measureLocalGateway` is exported so other variants (a real backend, e.g. Hono on
 * PostgreSQL) reuse the same clients and accounting by passing their own backend base URL.
 * The default run measures the ceiling in a burst (every client sends its 20 messages at once): a
 * backend that echoes each message at once, reached through the gateway's default keep-alive pool
 * and through a pool as wide as the burst, and the same gateway invoking an in-process Lambda
 * echo handler (no HTTP hop), in alternating rounds (`support/rounds.ts`).
 *
 * Environment: BENCH_LG_CONNECTIONS (default 200), BENCH_LG_MESSAGES (default 4000),
 * BENCH_LG_ROUNDS (default 3), BENCH_LG_WINDOW (messages in flight per connection, default 20).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { startLocalGateway } from '../packages/local-gateway/src/index.js'
import { openSocket } from '../packages/local-gateway/src/test-helpers.js'
import type { Measurement } from './lib.js'
import { alternate, medianRound, printRounds, type Sample } from './support/rounds.js'

type WsClient = Awaited<ReturnType<typeof openSocket>>

const ROLE_FLAG = '--local-gateway-bench-role'

/** How the gateway under test reaches its backend. */
export type BenchIntegration =
  | { readonly type: 'http'; readonly baseUrl: string }
  /** An in-process Lambda handler that echoes each message body (the gateway's own ceiling). */
  | { readonly type: 'lambda-echo' }

/** Options of one measured run. */
export interface LocalGatewayRunOptions {
  readonly name: string
  readonly integration: BenchIntegration
  readonly connections: number
  readonly messages: number
  /** Messages in flight per connection; default 1 (send the next when the reply arrived). */
  readonly window?: number
  /** Custom route keys the gateway routes (default: any `action` value). */
  readonly routes?: readonly string[]
  /** Static secret header value sent to an HTTP backend. */
  readonly secret?: string
  /** The gateway's `maxIntegrationSockets` (its default when omitted). */
  readonly maxIntegrationSockets?: number
  /** The text of message `seq`; default `{"action":"echo","seq":<seq>}`. */
  readonly makeMessage?: (seq: number) => string
  /** The `seq` a reply answers, or undefined for a frame that is not a reply. */
  readonly readSeq?: (reply: string) => number | undefined
  /** Query string and headers of connection `index` (tokens, Origin, cookies). */
  readonly prepareConnection?: (
    index: number,
  ) => Promise<{ readonly query?: string; readonly headers?: Record<string, string> }>
  /** How long to wait for the last replies before counting the rest as lost; default 30 s. */
  readonly replyTimeoutMs?: number
}

/** A measurement with latency and loss accounting. */
export interface LocalGatewayMeasurement extends Measurement {
  readonly p50Ms: number
  readonly p99Ms: number
  /** Messages sent whose reply never arrived. */
  readonly lost: number
  /** `Internal server error` frames received instead of replies. */
  readonly failed: number
  /** Wall time to open every connection (each one's `$connect` included). */
  readonly connectMs: number
}

const defaultMessage = (seq: number): string => `{"action":"echo","seq":${seq}}`
const defaultReadSeq = (reply: string): number | undefined => {
  try {
    const parsed = JSON.parse(reply) as { seq?: unknown }
    return typeof parsed.seq === 'number' ? parsed.seq : undefined
  } catch {
    return undefined
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, index)] ?? Number.NaN
}

/** Starts a process running `role`; resolves the first IPC message (its URL) and a stopper. */
async function child(
  role: string,
  config: unknown,
): Promise<{ url: string; stop(): Promise<void> }> {
  const proc: ChildProcess = fork(
    fileURLToPath(import.meta.url),
    [ROLE_FLAG, role, JSON.stringify(config)],
    { execArgv: process.execArgv },
  )
  const url = await new Promise<string>((resolve, reject) => {
    proc.once('message', (m) => resolve(String(m)))
    proc.once('error', reject)
    proc.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)))
  })
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve())
        proc.disconnect()
      }),
  }
}

/** Starts the ceiling backend (200 at once, message bodies echoed) in a child process. */
export function startEchoBackend(): Promise<{ url: string; stop(): Promise<void> }> {
  return child('echo-backend', null)
}

/**
 * Starts a gateway (in a child process) in front of `options.integration`, opens the
 * connections, sends `messages` spread evenly over them with `window` in flight per connection,
 * and waits for every reply. Throws when a connection cannot be opened; loss is reported, not
 * thrown, so the caller decides.
 */
export async function measureLocalGateway(
  options: LocalGatewayRunOptions,
): Promise<LocalGatewayMeasurement> {
  const window = options.window ?? 1
  const makeMessage = options.makeMessage ?? defaultMessage
  const readSeq = options.readSeq ?? defaultReadSeq
  const gateway = await child('gateway', {
    integration: options.integration,
    routes: options.routes,
    secret: options.secret,
    maxIntegrationSockets: options.maxIntegrationSockets,
  })

  const clients: WsClient[] = []
  try {
    const connectStart = performance.now()
    let nextIndex = 0
    const opener = async (): Promise<void> => {
      for (let i = nextIndex++; i < options.connections; i = nextIndex++) {
        const prepared = (await options.prepareConnection?.(i)) ?? {}
        const url = prepared.query ? `${gateway.url}?${prepared.query}` : gateway.url
        clients[i] = await openSocket(url, prepared.headers ?? {})
      }
    }
    await Promise.all(Array.from({ length: Math.min(32, options.connections) }, opener))
    const connectMs = performance.now() - connectStart

    const sentAt = new Float64Array(options.messages)
    const answered = new Uint8Array(options.messages)
    const latencies: number[] = []
    let received = 0
    let failed = 0
    let finish: () => void = () => {}
    const allReplied = new Promise<void>((resolve) => {
      finish = resolve
    })

    // Connection c sends seq c, c + N, c + 2N, …: every connection carries a fair share.
    const cursor = new Int32Array(clients.length)
    const sendNext = (c: number): void => {
      const seq = cursor[c]! * clients.length + c
      if (seq >= options.messages) return
      cursor[c]!++
      sentAt[seq] = performance.now()
      clients[c]?.send(makeMessage(seq))
    }
    clients.forEach((ws, c) => {
      ws.on('message', (data) => {
        const text = data.toString()
        const seq = readSeq(text)
        if (seq === undefined || seq < 0 || seq >= options.messages || answered[seq] === 1) {
          if (text.includes('"Internal server error"')) failed++
          sendNext(c)
          return
        }
        answered[seq] = 1
        latencies.push(performance.now() - (sentAt[seq] ?? 0))
        received++
        if (received === options.messages) finish()
        sendNext(c)
      })
    })

    const start = performance.now()
    clients.forEach((_ws, c) => {
      for (let k = 0; k < window; k++) sendNext(c)
    })
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      allReplied,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.replyTimeoutMs ?? 30_000)
      }),
    ])
    clearTimeout(timer)
    const ms = performance.now() - start

    latencies.sort((a, b) => a - b)
    return {
      name: options.name,
      ops: received,
      ms,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      lost: options.messages - received,
      failed,
      connectMs,
    }
  } finally {
    await Promise.all(
      clients.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve()
            ws.once('close', () => resolve())
            ws.close()
          }),
      ),
    )
    await gateway.stop()
  }
}

/** Prints latency and loss next to `report`'s throughput table. */
export function reportLatency(rows: readonly LocalGatewayMeasurement[]): void {
  for (const m of rows) {
    console.log(
      `${m.name.padEnd(48)} p50 ${m.p50Ms.toFixed(2)} ms  p99 ${m.p99Ms.toFixed(2)} ms  ` +
        `lost ${m.lost}  errors ${m.failed}  connect ${Math.round(m.connectMs)} ms`,
    )
  }
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name]
  const value = raw === undefined ? fallback : Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`)
  return value
}

/** One run as a round sample: messages per second, latency, and every loss counted as failed. */
async function sample(options: LocalGatewayRunOptions): Promise<Sample> {
  const m = await measureLocalGateway(options)
  return {
    perSecond: (m.ops * 1000) / m.ms,
    p50Ms: m.p50Ms,
    p99Ms: m.p99Ms,
    failed: m.lost + m.failed,
  }
}

/**
 * The ceiling benchmark: HTTP echo backend (through the default keep-alive pool, and through a
 * pool as large as the burst's connections, which behaves like one backend connection per call)
 * and in-process Lambda echo, in alternating rounds. The default run is a burst: 200 clients
 * each sending 20 messages at once; target p99 < 3× p50 through the default pool, 0 lost.
 */
export default async function localGatewayBench(): Promise<void> {
  const connections = envInt('BENCH_LG_CONNECTIONS', 200)
  const messages = envInt('BENCH_LG_MESSAGES', 4_000)
  const rounds = envInt('BENCH_LG_ROUNDS', 3)
  const window = envInt('BENCH_LG_WINDOW', 20)
  const backend = await startEchoBackend()
  try {
    const common = { connections, messages, window }
    const http = { type: 'http', baseUrl: backend.url } as const
    const result = await alternate(rounds, [
      {
        name: 'gateway → HTTP backend, default pool (32, FIFO)',
        run: () => sample({ ...common, name: 'pool', integration: http }),
      },
      {
        name: 'gateway → HTTP backend, 256 sockets (a connection per call)',
        run: () =>
          sample({ ...common, name: 'wide', integration: http, maxIntegrationSockets: 256 }),
      },
      {
        name: 'gateway → Lambda handler (in-process echo)',
        run: () => sample({ ...common, name: 'lambda', integration: { type: 'lambda-echo' } }),
      },
    ])
    printRounds(
      `local gateway: ${connections} connections, ${messages.toLocaleString('en-US')} messages, ` +
        `${window} in flight per connection`,
      result,
      { unit: 'msgs' },
    )
    for (const [i, variant] of result.variants.entries()) {
      const rows = result.samples[i] ?? []
      const row = rows[medianRound(rows)]
      if (row?.p50Ms === undefined || row.p99Ms === undefined) continue
      const ratio = row.p99Ms / row.p50Ms
      console.log(
        `${variant.name}: p99 ${ratio.toFixed(2)}× p50 (${ratio < 3 ? 'meets' : 'ABOVE'} the < 3× target)`,
      )
    }
    const lost = result.samples.flat().reduce((sum, s) => sum + (s.failed ?? 0), 0)
    if (lost > 0) throw new Error(`${lost} messages were lost or failed`)
  } finally {
    await backend.stop()
  }
}

// Child process roles: the echo backend and the gateway under test.
if (process.argv[2] === ROLE_FLAG) {
  const role = process.argv[3]
  const config = JSON.parse(process.argv[4] ?? 'null') as {
    integration: BenchIntegration
    routes?: string[]
    secret?: string
    maxIntegrationSockets?: number
  } | null
  if (role === 'echo-backend') {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const route = req.url?.split('?')[0]?.split('/').pop()
        const isEvent = route === 'connect' || route === 'disconnect'
        res.writeHead(200).end(isEvent ? '' : Buffer.concat(chunks))
      })
    })
    server.keepAliveTimeout = 60_000
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      process.send?.(`http://127.0.0.1:${port}/ws`)
    })
    process.once('disconnect', () => {
      server.closeAllConnections()
      server.close(() => process.exit(0))
    })
  } else if (role === 'gateway' && config) {
    const gateway = await startLocalGateway({
      integration:
        config.integration.type === 'http'
          ? { type: 'http', baseUrl: config.integration.baseUrl }
          : {
              type: 'lambda',
              handler: async (event) => ({ statusCode: 200, body: event.body ?? '' }),
            },
      ...(config.routes && { routes: config.routes }),
      ...(config.secret && { secret: { value: config.secret } }),
      ...(config.maxIntegrationSockets && { maxIntegrationSockets: config.maxIntegrationSockets }),
    })
    process.send?.(gateway.url)
    process.once('disconnect', () => {
      void gateway.close().then(() => process.exit(0))
    })
  }
}
