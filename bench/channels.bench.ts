/**
 * Message cost against channel count (issue 9 item 1): `gateway.handle` of a message from a
 * connection in 1 channel and from one in the maximum (`maxChannelsPerConnection`, default 100),
 * on the memory store, SQLite (better-sqlite3, in memory) and PostgreSQL (`DATABASE_URL`; skipped
 * with a message when unset). The handler does not read the channels, so the message path itself
 * must not depend on them: the target is that the maximum costs at most 1.2× one channel, that
 * is throughput at least 0.83× (printed as a verdict per store). Rounds alternate between the
 * two connections (`support/rounds.ts`); messages run one at a time, so the figures are latency.
 */
import { randomBytes } from 'node:crypto'
import Database from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import { defineHandler } from '../packages/core/src/handlers.js'
import { createGateway, type Gateway, type StoreParts } from '../packages/core/src/index.js'
import { fakeClock } from '../packages/core/src/testing/fake-clock.js'
import { httpRequests } from '../packages/core/src/testing/requests.js'
import { kyselyStore, migrate } from '../packages/store-kysely/src/index.js'
import { memoryStore } from '../packages/store-memory/src/index.js'
import { alternate, printRounds, ratiosTo, type Sample, verdict } from './support/rounds.js'

const SECRET = 'bench-integration-secret-0123'
const ORIGIN = 'https://app.example.com'
const MAX_CHANNELS = 100
const MESSAGES = 2_000
const ROUNDS = 5

async function gatewayOn(store: StoreParts): Promise<{ gateway: Gateway; ids: [string, string] }> {
  const clock = fakeClock()
  const gateway = createGateway({
    store,
    clock,
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    rateLimits: { connectPerIp: false, connectPerUser: false, tokenPerUser: false },
    handlers: {
      ping: defineHandler({ handle: () => ({ pong: true }) }),
      join: defineHandler({ handle: (ctx, input) => ctx.join((input as { room: string }).room) }),
    },
  })
  const http = httpRequests({ secret: SECRET })
  const ids: string[] = []
  for (const name of ['one', 'many']) {
    const response = await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId: `user-${name}`,
    })
    const { token } = JSON.parse(response.body ?? '{}') as { token: string }
    const connectionId = `bench${name}${randomBytes(4).toString('hex')}`
    const connected = await gateway.handle(
      http.connect({ connectionId, token, channel: 'lobby', origin: ORIGIN }),
    )
    if (connected.status !== 200) throw new Error(`connect answered ${connected.status}`)
    ids.push(connectionId)
  }
  const many = ids[1] as string
  for (let i = 1; i < MAX_CHANNELS; i++) {
    const joined = await gateway.handle(
      http.message({ connectionId: many, body: { action: 'join', room: `room-${i}` } }),
    )
    if (joined.status !== 200) throw new Error(`join answered ${joined.status}`)
  }
  return { gateway, ids: ids as [string, string] }
}

async function compareOn(label: string, store: StoreParts): Promise<void> {
  const { gateway, ids } = await gatewayOn(store)
  const http = httpRequests({ secret: SECRET })
  const run = (connectionId: string) => async (): Promise<Sample> => {
    const requests = Array.from({ length: MESSAGES }, () =>
      http.message({ connectionId, body: { action: 'ping' } }),
    )
    const cpu = process.cpuUsage()
    const start = performance.now()
    for (const request of requests) {
      const response = await gateway.handle(request)
      if (response.status !== 200) throw new Error(`ping answered ${response.status}`)
    }
    const seconds = (performance.now() - start) / 1000
    const used = process.cpuUsage(cpu)
    return { perSecond: MESSAGES / seconds, cpuUs: (used.user + used.system) / MESSAGES }
  }
  const result = await alternate(ROUNDS, [
    { name: '1 channel', run: run(ids[0]) },
    { name: `${MAX_CHANNELS} channels`, run: run(ids[1]) },
  ])
  printRounds(`message latency by channel count, ${label}`, result, { unit: 'messages' })
  verdict(
    `${label}: ${MAX_CHANNELS} channels / 1 channel (throughput; 0.83 = 1.2× latency)`,
    ratiosTo(result, 1, 0).throughput,
    0.83,
  )
}

export default async function channelsBench(): Promise<void> {
  await compareOn('memory', memoryStore())

  const sqlite = new Kysely<unknown>({
    dialect: new SqliteDialect({ database: new Database(':memory:') }),
  })
  await migrate(sqlite)
  await compareOn('SQLite (memory)', kyselyStore({ db: sqlite }))
  await sqlite.destroy()

  const url = process.env.DATABASE_URL
  if (url === undefined) {
    console.log('\nPostgreSQL: skipped (set DATABASE_URL to include it)')
    return
  }
  const prefix = `bench_${randomBytes(4).toString('hex')}_`
  const postgres = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }) }),
  })
  try {
    await migrate(postgres, { tablePrefix: prefix })
    await compareOn('PostgreSQL', kyselyStore({ db: postgres, tablePrefix: prefix }))
  } finally {
    for (const table of [
      'subscriptions',
      'connections',
      'tokens',
      'rate_limits',
      'migrations',
      'migrations_lock',
    ]) {
      await postgres.schema.dropTable(`${prefix}${table}`).ifExists().execute()
    }
    await postgres.destroy()
  }
}
