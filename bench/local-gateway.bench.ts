/**
 * Sustained traffic through the local gateway: N WebSocket connections and M messages, each
 * answered by the backend with a two-way reply, every reply counted against every message sent
 * (zero lost), reporting messages/s and p50/p99 round-trip latency. The gateway and the backend
 * each run in a child process of their own, as they would in a deployment, so the clients in
 * this process do not share an event loop with them.
 *
 * `measureLocalGateway` is exported so other variants (a real backend, e.g. Hono on
 * PostgreSQL) reuse the same clients and accounting by passing their own backend base URL.
 * The default run measures the ceiling: a backend that echoes each message at once, and the same
 * gateway invoking an in-process Lambda echo handler (no HTTP hop) for comparison.
 *
 * Environment: BENCH_LG_CONNECTIONS (default 200), BENCH_LG_MESSAGES (default 10000),
 * BENCH_LG_ROUNDS (default 2), BENCH_LG_WINDOW (messages in flight per connection, default 1).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { startLocalGateway } from '../packages/local-gateway/src/index.js'
import { openSocket } from '../packages/local-gateway/src/test-helpers.js'
import { compare, type Measurement, report } from './lib.js'

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

/** The ceiling benchmark: HTTP echo backend and in-process Lambda echo. */
export default async function localGatewayBench(): Promise<void> {
  const connections = envInt('BENCH_LG_CONNECTIONS', 200)
  const messages = envInt('BENCH_LG_MESSAGES', 10_000)
  const rounds = envInt('BENCH_LG_ROUNDS', 2)
  const window = envInt('BENCH_LG_WINDOW', 1)
  const backend = await startEchoBackend()
  try {
    const common = { connections, messages, window }
    // Warm the JIT and the keep-alive pools before anything is measured.
    await measureLocalGateway({
      ...common,
      name: 'warm-up',
      messages: Math.min(messages, 2_000),
      integration: { type: 'http', baseUrl: backend.url },
    })
    const rows = (await compare(rounds, [
      () =>
        measureLocalGateway({
          ...common,
          name: 'gateway → HTTP backend (200 + echo)',
          integration: { type: 'http', baseUrl: backend.url },
        }),
      () =>
        measureLocalGateway({
          ...common,
          name: 'gateway → Lambda handler (in-process echo)',
          integration: { type: 'lambda-echo' },
        }),
    ])) as LocalGatewayMeasurement[]
    report(
      `local gateway: ${connections} connections, ${messages.toLocaleString('en-US')} messages, ` +
        `${window} in flight per connection (messages/s)`,
      rows,
    )
    reportLatency(rows)
    const lost = rows.reduce((sum, m) => sum + m.lost + m.failed, 0)
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
    })
    process.send?.(gateway.url)
    process.once('disconnect', () => {
      void gateway.close().then(() => process.exit(0))
    })
  }
}
