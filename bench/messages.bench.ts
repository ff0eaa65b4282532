/**
 * Message events over real HTTP on PostgreSQL, the store for fleets: `@apigw-ws/adapter-hono`
 * under `@hono/node-server` on the Kysely store, loaded by wrk from a process of its own, with
 * the server measuring its own CPU per request (`support/server-process.ts`). Two stores on the
 * same pool and tables are compared side by side, round by round (`support/rounds.ts`):
 * - **one call**: the Kysely store as shipped, whose `admitMessage` is one call of the
 *   `<prefix>admit_message` PL/pgSQL function (one round trip; the server keeps the plans of
 *   the function's statements, so they are prepared once per session);
 * - **by steps**: the same store with `admitMessage` left to `defineStore`'s composition, i.e.
 *   `connections.touch` then `limits.hit` as separate Kysely statements, which is what a message
 *   cost before the one-call path existed.
 * Each runs with the per-connection message limit off (the default: touch only) and on (touch
 * and a limit hit: two round trips by steps, one in one call). The issue's reference figure for
 * this load (wrk -t1 -c16, Hono keep-alive, PostgreSQL, before this work) is printed next to
 * the one-call result, with the load average, since absolute rates drift between runs.
 *
 * Environment: DATABASE_URL (required; the bench says so and stops without it), APIGW_BENCH_MS
 * (per run, default 3000), APIGW_BENCH_CONNECTIONS (wrk connections, default 16),
 * APIGW_BENCH_ROUNDS (default 5), APIGW_BENCH_POOL (PostgreSQL pool size, default 8).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { loadavg } from 'node:os'
import { websocketRoutes } from '@apigw-ws/adapter-hono'
import { createGateway, defineHandler, defineStore, type Store } from '@apigw-ws/core'
import { kyselyStore, migrate } from '@apigw-ws/store-kysely'
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { Kysely, PostgresDialect, pg } from '../packages/store-kysely/test/drivers.js'
import { messageRequests, seedConnections } from './support/message-load.js'
import { alternate, printRounds, ratiosTo } from './support/rounds.js'
import {
  listening,
  serveForBench,
  startServerProcess,
  wrkVariants,
} from './support/server-process.js'
import { ensureWrk } from './support/wrk.js'

const SECRET = 'bench-secret-0123456789abcdef'
const CONNECTIONS = 256
const DURATION_MS = Number(process.env.APIGW_BENCH_MS ?? 3_000)
const WRK_CONNECTIONS = Number(process.env.APIGW_BENCH_CONNECTIONS ?? 16)
const ROUNDS = Number(process.env.APIGW_BENCH_ROUNDS ?? 5)
const POOL = Number(process.env.APIGW_BENCH_POOL ?? 8)
const ROLE_FLAG = '--messages-bench-server'
/** Issue 14's measurement of this load before the work (main fd01555): messages per second. */
const REFERENCE_PER_SECOND = 2_806
const TARGET_RATIO = 2
/** A per-connection limit that every message passes, so the limit hit is work, not refusals. */
const OPEN_LIMIT = { limit: 1_000_000_000, windowMs: 60_000 }

function database(url: string, schema: string, max: number): Kysely<unknown> {
  const pool = new pg.Pool({ connectionString: url, max, options: `-c search_path=${schema}` })
  return new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
}

/** The same store with `admitMessage` left to `defineStore`'s composition of its parts. */
function bySteps(store: Store): Store {
  const { connections, tokens, limits, admit, cleanup } = store
  return defineStore({ connections, tokens, limits, admit, cleanup })
}

// ---------------------------------------------------------------------------------------------
// Server role (child process)

async function serveAll(url: string, schema: string): Promise<Record<string, Server>> {
  const store = kyselyStore({ db: database(url, schema, POOL) })
  const app = (s: Store, limited: boolean) => {
    const gateway = createGateway({
      store: s,
      integrationSecret: SECRET,
      allowedOrigins: ['https://app.example.com'],
      handlers: { echo: defineHandler({ handle: (ctx) => ({ echo: ctx.message.text }) }) },
      ...(limited ? { rateLimits: { messagePerConnection: OPEN_LIMIT } } : {}),
    })
    const hono = new Hono()
    hono.route('/ws', websocketRoutes(gateway))
    return listening(createServer(getRequestListener(hono.fetch)))
  }
  return {
    stepsOff: await app(bySteps(store), false),
    oneOff: await app(store, false),
    stepsOn: await app(bySteps(store), true),
    oneOn: await app(store, true),
  }
}

if (process.argv[2] === ROLE_FLAG) {
  serveForBench(await serveAll(process.env.DATABASE_URL as string, process.argv[3] as string))
}

// ---------------------------------------------------------------------------------------------
// Load role (the `pnpm bench` process)

/** A fresh schema, migrated and seeded with the connections the messages arrive on. */
async function prepareSchema(url: string): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `apigw_bench_messages_${randomBytes(4).toString('hex')}`
  const admin = new pg.Pool({ connectionString: url, max: 1 })
  await admin.query(`create schema "${schema}"`)
  const db = database(url, schema, 1)
  try {
    await migrate(db)
    await seedConnections(kyselyStore({ db }), CONNECTIONS)
  } finally {
    await db.destroy()
  }
  return {
    schema,
    async drop() {
      await admin.query(`drop schema "${schema}" cascade`)
      await admin.end()
    },
  }
}

export default async function messages(): Promise<void> {
  const url = process.env.DATABASE_URL
  if (url === undefined || url === '') {
    console.log('DATABASE_URL is not set: the PostgreSQL message benchmark needs it (skipped)')
    return
  }
  ensureWrk()
  const { schema, drop } = await prepareSchema(url)
  const server = await startServerProcess(import.meta.url, [ROLE_FLAG, schema])
  const variant = wrkVariants(server, messageRequests(CONNECTIONS, SECRET), {
    connections: WRK_CONNECTIONS,
    durationMs: DURATION_MS,
  })
  try {
    console.log(
      `wrk -t1 -c${WRK_CONNECTIONS}, ${DURATION_MS} ms per run, pool ${POOL}, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    )
    const off = await alternate(ROUNDS, [
      variant('by steps: touch', 'stepsOff'),
      variant('one call: admit_message()', 'oneOff'),
    ])
    const on = await alternate(ROUNDS, [
      variant('by steps: touch, then limits.hit', 'stepsOn'),
      variant('one call: admit_message() with the limit', 'oneOn'),
    ])
    printRounds('PostgreSQL messages, per-connection limit off (the default)', off, {
      unit: 'events',
    })
    printRounds('PostgreSQL messages, per-connection limit on', on, { unit: 'events' })
    console.log('')
    const median = (result: typeof off, i: number) =>
      [...(result.samples[i] ?? [])].map((s) => s.perSecond).sort((a, b) => a - b)[
        Math.floor((result.samples[i]?.length ?? 0) / 2)
      ] ?? 0
    for (const [label, result] of [
      ['limit off', off],
      ['limit on', on],
    ] as const) {
      const { throughput, cpu } = ratiosTo(result, 1, 0)
      console.log(
        `one call vs by steps, ${label}: throughput ${throughput.median.toFixed(2)}×, CPU efficiency ${cpu.median.toFixed(2)}×`,
      )
      const ratio = median(result, 1) / REFERENCE_PER_SECOND
      console.log(
        `one call, ${label}: ${Math.round(median(result, 1))} events/s = ${ratio.toFixed(2)}× the issue's ${REFERENCE_PER_SECOND} (${ratio >= TARGET_RATIO ? 'meets' : 'BELOW'} the ${TARGET_RATIO}× target; absolute rates drift between machines and runs)`,
      )
    }
  } finally {
    await server.stop()
    await drop()
  }
}
