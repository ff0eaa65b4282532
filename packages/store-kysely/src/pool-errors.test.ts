import { randomBytes } from 'node:crypto'
import { createGateway, defineHandler, type Gateway, type GatewayResponse } from '@apigw-ws/core'
import { fakeClock, httpRequests } from '@apigw-ws/core/testing'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DATABASE_URL } from '../../../test/services.js'
import {
  type PostgresTestDatabase,
  postgresSchema,
  skipWithoutPostgres,
  uniquePrefix,
} from '../test/databases.js'
import { handlePoolErrors, kyselyStore, migrate } from './index.js'
import { tableNames } from './schema.js'

const noPostgres = skipWithoutPostgres('the pool error tests (pool-errors.test.ts)')

const SECRET = 'store-kysely-pool-error-secret'
const ORIGIN = 'https://app.example.com'
const POOL_SIZE = 5

describe('handlePoolErrors', () => {
  it('refuses what is not an event emitter', () => {
    expect(() => handlePoolErrors({} as never)).toThrow(TypeError)
    expect(() => handlePoolErrors({ on: () => undefined }, { onError: 'log' as never })).toThrow(
      /onError/,
    )
  })

  it('listens on the pool and on every client it connects, and survives a throwing onError', () => {
    const listeners: Record<string, ((value: never) => void)[]> = {}
    const emitter = (into: Record<string, ((value: never) => void)[]>) => ({
      on(event: string, listener: (value: never) => void) {
        into[event] = [...(into[event] ?? []), listener]
      },
    })
    const seen: string[] = []
    const pool = handlePoolErrors(emitter(listeners), {
      onError: (error) => {
        seen.push(error.message)
        throw new Error('logger down')
      },
    })
    const clientListeners: Record<string, ((value: never) => void)[]> = {}
    for (const connect of listeners.connect ?? []) connect(emitter(clientListeners) as never)
    for (const onError of listeners.error ?? []) onError(new Error('pool') as never)
    for (const onError of clientListeners.error ?? []) onError(new Error('client') as never)
    expect(pool.on).toBeTypeOf('function')
    expect(seen).toEqual(['pool', 'client'])
  })
})

describe.skipIf(noPostgres)('a PostgreSQL backend dying mid-query', () => {
  let database: PostgresTestDatabase
  let pool: pg.Pool
  let db: Kysely<unknown>
  let prefix: string
  let applicationName: string
  let errors: Error[]
  let gateway: Gateway
  const closers: (() => Promise<void>)[] = []

  beforeEach(async () => {
    database = await postgresSchema(1)
    prefix = uniquePrefix('pe')
    applicationName = `apigw_pool_errors_${randomBytes(4).toString('hex')}`
    errors = []
    // As the store README sets it up: the pool wrapped by handlePoolErrors before any query.
    pool = handlePoolErrors(
      new pg.Pool({
        connectionString: DATABASE_URL,
        max: POOL_SIZE,
        application_name: applicationName,
        options: `-c search_path=${database.schema}`,
      }),
      { onError: (error) => errors.push(error) },
    )
    db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    await migrate(db, { tablePrefix: prefix })
    gateway = createGateway({
      store: kyselyStore({ db, tablePrefix: prefix }),
      integrationSecret: SECRET,
      allowedOrigins: [ORIGIN],
      clock: fakeClock(),
      rateLimits: { connectPerIp: { limit: 1_000, windowMs: 60_000 } },
      handlers: { ping: defineHandler({ handle: () => undefined }) },
    })
  })

  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
    await db?.destroy()
    await database?.close()
  })

  /** A client outside the pool, closed after the test. */
  async function outsideClient(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: DATABASE_URL,
      options: `-c search_path=${database.schema}`,
    })
    await client.connect()
    closers.push(() => client.end())
    return client
  }

  async function token(userId: string): Promise<string> {
    const response = await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId,
    })
    expect(response.status).toBe(200)
    return (JSON.parse(response.body ?? '{}') as { token: string }).token
  }

  it('terminated connections: those requests get a generic 503, the next succeed, nothing lost or doubled', async () => {
    const http = httpRequests({ secret: SECRET })
    const connect = (connectionId: string, t: string) =>
      gateway.handle(http.connect({ connectionId, token: t }))
    const ping = () =>
      gateway.handle(http.message({ connectionId: 'before000000001=', body: { action: 'ping' } }))
    expect((await connect('before000000001=', await token('owner'))).status).toBe(200)
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => token(`user-${i}`)))

    // Hold every store table so each request blocks on its first statement, holding a pooled
    // connection; then terminate the pool's backends while nothing can have committed.
    const locker = await outsideClient()
    const observer = await outsideClient()
    const tables = Object.values(tableNames(prefix))
    await locker.query('begin')
    await locker.query(
      `lock table ${tables.map((t) => `"${t}"`).join(', ')} in access exclusive mode`,
    )
    const connects = tokens.map((t, i) => connect(`during${String(i).padStart(8, '0')}=`, t))
    const pings = Array.from({ length: 10 }, () => ping())
    let blocked = 0
    for (let i = 0; i < 2_000 && blocked < POOL_SIZE; i++) {
      const { rows } = await observer.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity
          where application_name = $1 and wait_event_type = 'Lock'`,
        [applicationName],
      )
      blocked = Number(rows[0]?.n)
    }
    expect(blocked).toBe(POOL_SIZE)
    const { rows: killed } = await observer.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
      [applicationName],
    )
    expect(killed.length).toBeGreaterThanOrEqual(POOL_SIZE)
    await locker.query('rollback')

    const connectResults: GatewayResponse[] = await Promise.all(connects)
    const pingResults: GatewayResponse[] = await Promise.all(pings)
    const all = [...connectResults, ...pingResults]
    // Only two outcomes: done, or a generic 503 that names nothing.
    for (const response of all) {
      expect([200, 503]).toContain(response.status)
      if (response.status === 503) {
        expect(response.body).toBe(JSON.stringify({ message: 'Service Unavailable' }))
      }
    }
    expect(all.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(POOL_SIZE)
    // The connections' errors reached the listeners instead of crashing the process.
    expect(errors.length).toBeGreaterThan(0)

    // The next requests succeed, and every token is consumed exactly once: a connect refused
    // with 503 never consumed its token, so it succeeds now; one that succeeded cannot repeat.
    for (const [i, t] of tokens.entries()) {
      const first = connectResults[i]?.status
      const again = await connect(`after${String(i).padStart(9, '0')}=`, t)
      expect(again.status).toBe(first === 503 ? 200 : 401)
      expect((await connect(`twice${String(i).padStart(9, '0')}=`, t)).status).toBe(401)
    }
    expect((await ping()).status).toBe(200)

    // Counts are exact: one touch per message that got 200 (plus the one above), and one
    // connect-per-IP hit per connect attempt that was not cut off.
    const okPings = pingResults.filter((r) => r.status === 200).length
    const record = await kyselyStore({ db, tablePrefix: prefix }).connections.get(
      'before000000001=',
    )
    expect(record?.requestCount).toBe(okPings + 1)
    const okConnects = connectResults.filter((r) => r.status === 200).length
    const { rows } = await sql<{ key: string; count: string | number }>`
      select key, count from ${sql.table(tableNames(prefix).rate_limits)}
       where key like 'connect.ip:%'`.execute(db)
    expect(rows.map((r) => Number(r.count))).toEqual([1 + okConnects + 2 * tokens.length])
  })
})
