/**
 * End to end under sustained load: N WebSocket connections and M messages through the local API
 * Gateway to the Hono backend (`@apigw-ws/adapter-hono` under `@hono/node-server`) running the
 * end-to-end tests' application on the Kysely store on PostgreSQL. Every connection gets a
 * single-use token from the backend's token route and passes every `$connect` check; every
 * message is routed, checked (secret, gateway shape, known connection with its atomic `touch`,
 * JSON, handler) and answered with a two-way reply, and every reply is counted against every
 * message sent (zero lost). Measured in the same run, the ceiling: the same gateway in front of a
 * backend that answers 200 at once (echoing message bodies), from `local-gateway.bench.ts`. The
 * ceiling and the variant alternate round by round, and each row is its median round
 * (`support/rounds.ts`); the variant does strictly more work than the ceiling, so a variant row
 * measured faster is flagged.
 *
 * The gateway, the backend and the load generator each run in a process of their own. The store
 * works in a PostgreSQL schema of its own (its tables under a table prefix of their own), dropped
 * at the end. Rate limits are switched off for this run only: a thousand connections from one
 * loopback address would otherwise be, correctly, refused.
 *
 * Environment: DATABASE_URL (PostgreSQL; without it only the ceiling runs, and says so),
 * BENCH_E2E_CONNECTIONS (default 1000), BENCH_E2E_MESSAGES (default 20000), BENCH_E2E_WINDOW
 * (messages in flight per connection, default 1), BENCH_E2E_POOL (PostgreSQL pool size,
 * default 10), BENCH_E2E_ROUNDS (default 3).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { honoListener } from '../examples/chat/test/support/backends.js'
import {
  APP_ORIGIN,
  createE2eGateway,
  INTEGRATION_SECRET,
  USER_HEADER,
} from '../examples/chat/test/support/e2e-app.js'
import { kyselyStore, migrate } from '../packages/store-kysely/src/index.js'
import { Kysely, PostgresDialect, pg } from '../packages/store-kysely/test/drivers.js'
import {
  type LocalGatewayMeasurement,
  type LocalGatewayRunOptions,
  measureLocalGateway,
  startEchoBackend,
} from './local-gateway.bench.js'
import { alternate, printRounds, type Sample, type Variant } from './support/rounds.js'

const ROLE_FLAG = '--e2e-bench-role'
const TABLE_PREFIX = 'bench_e2e_'

function envInt(name: string, fallback: number): number {
  const raw = process.env[name]
  const value = raw === undefined ? fallback : Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`)
  return value
}

function loadAverage(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ')
}

/** The backend's configuration, passed to its process. */
interface BackendConfig {
  readonly databaseUrl: string
  readonly schema: string
  readonly poolSize: number
}

/** Starts the Hono-on-PostgreSQL backend in a child process; resolves its origin and a stopper. */
async function startHonoPostgresBackend(
  config: BackendConfig,
): Promise<{ origin: string; stop(): Promise<void> }> {
  const proc: ChildProcess = fork(
    fileURLToPath(import.meta.url),
    [ROLE_FLAG, 'hono-postgres', JSON.stringify(config)],
    { execArgv: process.execArgv },
  )
  const origin = await new Promise<string>((resolve, reject) => {
    proc.once('message', (m) => resolve(String(m)))
    proc.once('error', reject)
    proc.once('exit', (code) => reject(new Error(`the Hono backend exited with ${code}`)))
  })
  return {
    origin,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve())
        proc.disconnect()
      }),
  }
}

/** A fresh schema on `url`, migrated for the store; `drop` removes it with everything in it. */
async function createSchema(url: string): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `bench_e2e_${randomBytes(5).toString('hex')}`
  const admin = new pg.Pool({ connectionString: url, max: 1 })
  await admin.query(`create schema "${schema}"`)
  const pool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` })
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
  try {
    await migrate(db, { tablePrefix: TABLE_PREFIX })
  } finally {
    await db.destroy()
  }
  return {
    schema,
    async drop() {
      try {
        await admin.query(`drop schema "${schema}" cascade`)
      } finally {
        await admin.end()
      }
    },
  }
}

/** Fetches a connect token for user `index` from the backend's token route. */
async function tokenFor(origin: string, index: number): Promise<string> {
  const response = await fetch(`${origin}/ws-token`, {
    method: 'POST',
    headers: { origin: APP_ORIGIN, [USER_HEADER]: `bench-user-${index}` },
  })
  const body = (await response.json()) as { token?: unknown }
  if (response.status !== 200 || typeof body.token !== 'string') {
    throw new Error(`the token route answered ${response.status}`)
  }
  return body.token
}

/** One run as a round sample: messages per second, latency, and every loss counted as failed. */
async function sample(options: LocalGatewayRunOptions): Promise<Sample> {
  const m: LocalGatewayMeasurement = await measureLocalGateway(options)
  return {
    perSecond: (m.ops * 1000) / m.ms,
    p50Ms: m.p50Ms,
    p99Ms: m.p99Ms,
    failed: m.lost + m.failed,
  }
}

/** The end-to-end benchmark: the ceiling and Hono on PostgreSQL, in alternating rounds. */
export default async function e2eBench(): Promise<void> {
  const connections = envInt('BENCH_E2E_CONNECTIONS', 1_000)
  const messages = envInt('BENCH_E2E_MESSAGES', 20_000)
  const window = envInt('BENCH_E2E_WINDOW', 1)
  const poolSize = envInt('BENCH_E2E_POOL', 10)
  const rounds = envInt('BENCH_E2E_ROUNDS', 3)
  const databaseUrl = process.env.DATABASE_URL
  const common = { connections, messages, window }
  const started = performance.now()
  console.log(`\nload average (1 / 5 / 15 min) at start: ${loadAverage()}`)

  const stops: (() => Promise<void>)[] = []
  try {
    const echo = await startEchoBackend()
    stops.push(echo.stop)
    const ceiling: Variant = {
      name: 'ceiling: gateway → backend answering 200',
      run: () =>
        sample({ ...common, name: 'ceiling', integration: { type: 'http', baseUrl: echo.url } }),
    }
    const variants: Variant[] = [ceiling]
    if (databaseUrl === undefined || databaseUrl === '') {
      console.log(
        '\n## Hono on PostgreSQL: skipped — DATABASE_URL is not set ' +
          '(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test pnpm bench e2e)',
      )
    } else {
      const { schema, drop } = await createSchema(databaseUrl)
      stops.push(drop)
      const backend = await startHonoPostgresBackend({ databaseUrl, schema, poolSize })
      stops.push(backend.stop)
      const prepareConnection = async (index: number) => ({
        query: `token=${encodeURIComponent(await tokenFor(backend.origin, index))}`,
        headers: { origin: APP_ORIGIN },
      })
      variants.push({
        name: 'gateway → Hono → core → PostgreSQL',
        moreWorkThan: [ceiling.name],
        run: () =>
          sample({
            ...common,
            name: 'postgres',
            integration: { type: 'http', baseUrl: `${backend.origin}/ws` },
            secret: INTEGRATION_SECRET,
            prepareConnection,
            replyTimeoutMs: 120_000,
          }),
      })
    }
    // The warm-up round is a short one: JIT and keep-alive pools, not a measurement.
    await sample({
      ...common,
      name: 'warm-up',
      messages: Math.min(messages, 2_000),
      connections: Math.min(connections, 100),
      integration: { type: 'http', baseUrl: echo.url },
    })
    const result = await alternate(rounds, variants, 0)
    printRounds(
      `end to end: ${connections.toLocaleString('en-US')} connections, ` +
        `${messages.toLocaleString('en-US')} messages, ${window} in flight per connection`,
      result,
      { unit: 'msgs' },
    )
    const lost = result.samples.flat().reduce((sum, s) => sum + (s.failed ?? 0), 0)
    if (lost > 0) throw new Error(`${lost} messages were lost or failed`)
    console.log(
      `every one of the ${(messages * rounds * variants.length).toLocaleString('en-US')} measured messages got its reply`,
    )
  } finally {
    for (const stop of stops.reverse()) await stop()
  }
  console.log(
    `load average at end: ${loadAverage()}; wall time ${Math.round((performance.now() - started) / 1000)} s`,
  )
}

// Child process role: the Hono backend on PostgreSQL.
if (process.argv[2] === ROLE_FLAG && process.argv[3] === 'hono-postgres') {
  const config = JSON.parse(process.argv[4] ?? '{}') as BackendConfig
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: config.poolSize,
    options: `-c search_path=${config.schema}`,
  })
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
  const gateway = createE2eGateway({
    store: kyselyStore({ db, tablePrefix: TABLE_PREFIX }),
    integration: 'http',
    // Every reply here is a two-way reply: nothing is sent through `@connections`.
    managementEndpoint: () => 'http://127.0.0.1:9/unused',
    rateLimits: { connectPerIp: false, connectPerUser: false, tokenPerUser: false },
  })
  const server = createServer(honoListener(gateway))
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo
    process.send?.(`http://127.0.0.1:${port}`)
  })
  process.once('disconnect', () => {
    server.closeAllConnections()
    server.close(() => {
      db.destroy().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    })
  })
}
