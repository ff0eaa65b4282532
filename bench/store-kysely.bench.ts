/**
 * `$connect` throughput over the Kysely store, on SQLite (better-sqlite3; a WAL file and memory)
 * and PostgreSQL (pg), with 32 concurrent callers. Each `$connect` that `gateway.handle` accepts
 * costs four statements: the per-IP limit hit, the token consume, the per-user limit hit and the
 * connection insert. It is measured next to (a) the same four statements executed directly with
 * the driver (better-sqlite3 prepared statements; a pg Pool of the same size as the store's),
 * which is the ceiling, and (b) the store's four calls without the gateway, which splits the gap
 * into store and gateway overhead. On SQLite the store also runs over `cachedStatements()`, since
 * Kysely's SQLite driver otherwise prepares every statement anew. Every variant works on tables
 * of its own created by the same migration, with a fresh token, address, user and connection id
 * per operation. PostgreSQL runs only with `DATABASE_URL`.
 *
 * Messages (issue 14 C1): `gateway.handle` of messages with the per-connection message limit on,
 * 32 concurrent callers spread over 32 connections, side by side in alternating rounds
 * (`support/rounds.ts`). On PostgreSQL the store with its one-round-trip `admitMessage` runs next
 * to the same store forced through the composition (`defineStore` of its parts without the
 * method: touch, then hit, two round trips), whose ratio is the "≥ 2× today's" target, and next
 * to the store's two statements executed directly with the driver (the ceiling of two round
 * trips) and the function selected directly (the ceiling of one). SQLite composes the two steps
 * in process (no round trips to save); it is measured against its two statements run directly.
 * Environment: APIGW_BENCH_MESSAGES (messages per round, default 3000), APIGW_BENCH_ROUNDS
 * (message rounds, default 5), APIGW_BENCH_PART (`connect` or `messages` to run one part only).
 */
import { createHash, randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineHandler } from '../packages/core/src/handlers.js'
import {
  createGateway,
  defineStore,
  type Gateway,
  type GatewayRequest,
} from '../packages/core/src/index.js'
import type { Store } from '../packages/core/src/store.js'
import { httpRequests } from '../packages/core/src/testing/requests.js'
import { cachedStatements, kyselyStore, migrate } from '../packages/store-kysely/src/index.js'
import { admitFunctionName } from '../packages/store-kysely/src/postgres-admit.js'
import { admitMessageFunctionName } from '../packages/store-kysely/src/postgres-admit-message.js'
import type { QueryRunner } from '../packages/store-kysely/src/prepared.js'
import { type StoreDatabase, tableNames } from '../packages/store-kysely/src/schema.js'
import { directSqliteRunner } from '../packages/store-kysely/src/sqlite-direct.js'
import { statements } from '../packages/store-kysely/src/statements.js'
import { tablePrefixPlugin } from '../packages/store-kysely/src/table-prefix-plugin.js'
import {
  Database,
  Kysely,
  PostgresDialect,
  pg,
  SqliteDialect,
} from '../packages/store-kysely/test/drivers.js'
import { compare, type Measurement, measure, opsPerSecond, report } from './lib.js'
import {
  alternate,
  printRounds,
  ratiosTo,
  type Sample,
  type Variant,
  verdict,
} from './support/rounds.js'

const CONCURRENCY = 32
const ROUNDS = 5
const SQLITE_OPS = 3_000
const POSTGRES_OPS = 3_000
const SECRET = 'bench-integration-secret'
const ORIGIN = 'https://app.example.com'
const WINDOW_MS = 60_000
/** Limits high enough that every hit is counted and allowed: the work, not the refusals. */
const OPEN_RULE = { limit: 1_000_000_000, windowMs: WINDOW_MS }

/** The statements `$connect` runs, as the store compiles them (`?` or `$n` placeholders). */
function connectSql(prefix: string, placeholder: (n: number) => string) {
  const p = placeholder
  const limits = `"${prefix}rate_limits"`
  return {
    hit:
      `insert into ${limits} ("key", "count", "reset_at") values (${p(1)}, 1, ${p(2)}) ` +
      `on conflict ("key") do update set "count" = case when ${limits}."reset_at" <= ${p(3)} ` +
      `then 1 else ${limits}."count" + 1 end, "reset_at" = case when ${limits}."reset_at" <= ` +
      `${p(4)} then "excluded"."reset_at" else ${limits}."reset_at" end ` +
      `returning "count", "reset_at"`,
    consume:
      `update "${prefix}tokens" set "used_at" = ${p(1)} where "hash" = ${p(2)} and "used_at" is ` +
      `null and "expires_at" > ${p(3)} and ("session_hash" is null or "session_hash" = ${p(4)}) ` +
      `returning "hash", "user_id", "session_hash", "channel", "expires_at"`,
    insert:
      `insert into "${prefix}connections" ("id", "user_id", "api_id", "stage", "domain_name", ` +
      `"connected_at", "last_seen_at", "request_count", "disconnected_at") values (${p(1)}, ` +
      `${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, 0, null) on conflict ("id") do ` +
      `nothing returning "id"`,
    putToken:
      `insert into "${prefix}tokens" ("hash", "user_id", "expires_at") ` +
      `values (${p(1)}, ${p(2)}, ${p(3)})`,
  }
}

/** One `$connect`'s inputs. */
interface ConnectCase {
  readonly token: string
  readonly hash: string
  readonly ip: string
  readonly userId: string
  readonly connectionId: string
}

let caseSeq = 0

/** Fresh, never reused inputs for `count` connects. */
function connectCases(count: number): ConnectCase[] {
  return Array.from({ length: count }, () => {
    const n = caseSeq++
    const token = randomBytes(32).toString('base64url')
    return {
      token,
      hash: createHash('sha256').update(token).digest('hex'),
      ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      userId: `user-${n}`,
      connectionId: `bench${n.toString(36).padStart(10, '0')}=`,
    }
  })
}

/** A gateway configured like production, with limits that count every hit but never refuse. */
function benchGateway(store: Store): Gateway {
  return createGateway({
    store,
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    rateLimits: { connectPerIp: OPEN_RULE, connectPerUser: OPEN_RULE, tokenPerUser: false },
  })
}

/** Issues a real token per case through the gateway (not timed) and builds each `$connect`. */
async function gatewayRequests(gateway: Gateway, cases: ConnectCase[]): Promise<GatewayRequest[]> {
  const requests: GatewayRequest[] = []
  for (let i = 0; i < cases.length; i += CONCURRENCY) {
    const batch = cases.slice(i, i + CONCURRENCY)
    const issued = await Promise.all(
      batch.map((c) =>
        gateway.issueToken({ method: 'POST', headers: { origin: ORIGIN }, userId: c.userId }),
      ),
    )
    for (const [j, response] of issued.entries()) {
      const c = batch[j] as ConnectCase
      if (response.status !== 200) throw new Error(`issueToken answered ${response.status}`)
      const { token } = JSON.parse(response.body ?? '') as { token: string }
      requests.push(
        httpRequests({ secret: SECRET, clientIp: c.ip }).connect({
          token,
          connectionId: c.connectionId,
        }),
      )
    }
  }
  return requests
}

/** Measures `gateway.handle` over fresh `$connect`s and checks every one was accepted. */
async function measureGateway(name: string, gateway: Gateway, ops: number): Promise<Measurement> {
  const requests = await gatewayRequests(gateway, connectCases(ops))
  let refused = 0
  const m = await measure(
    name,
    ops,
    async (i) => {
      const response = await gateway.handle(requests[i] as GatewayRequest)
      if (response.status !== 200) refused++
    },
    CONCURRENCY,
  )
  if (refused > 0) throw new Error(`${name}: ${refused} of ${ops} connects were refused`)
  return m
}

/** Measures the store's four `$connect` calls without the gateway. */
async function measureStore(name: string, store: Store, ops: number): Promise<Measurement> {
  const cases = connectCases(ops)
  const now = Date.now()
  for (let i = 0; i < cases.length; i += CONCURRENCY) {
    await Promise.all(
      cases.slice(i, i + CONCURRENCY).map((c) =>
        store.tokens.put({
          hash: c.hash,
          userId: c.userId,
          sessionHash: null,
          channel: null,
          expiresAt: now + WINDOW_MS,
        }),
      ),
    )
  }
  return measure(
    name,
    ops,
    async (i) => {
      const c = cases[i] as ConnectCase
      const at = Date.now()
      await store.limits.hit(`connect.ip:${c.ip}`, OPEN_RULE, at)
      const token = await store.tokens.consume(c.hash, null, at)
      if (token === null) throw new Error('token not consumed')
      await store.limits.hit(`connect.user:${c.userId}`, OPEN_RULE, at)
      const created = await store.connections.create(
        {
          connectionId: c.connectionId,
          userId: c.userId,
          channels: [],
          apiId: 'testapi123',
          stage: null,
          domainName: null,
        },
        at,
      )
      if (!created) throw new Error('connection not created')
    },
    CONCURRENCY,
  )
}

/** Prints each gateway variant's throughput as a multiple of the first row (direct SQL). */
function printRatios(title: string, rows: readonly Measurement[]): void {
  const [direct] = rows
  if (direct === undefined) return
  for (const row of rows.filter((r) => r.name.startsWith('gateway.handle'))) {
    const ratio = opsPerSecond(row) / opsPerSecond(direct)
    console.log(`${title}: ${row.name} / direct SQL = ${ratio.toFixed(2)}× (target ≥ 0.60×)`)
  }
}

/**
 * SQLite in a WAL file (`synchronous = NORMAL`, the usual production setting) or in memory
 * (no I/O at all: only the software overhead is left). The store runs over Kysely's stock
 * `SqliteDialect` and, separately, over `cachedStatements()`.
 */
async function sqliteBench(storage: 'file' | 'memory'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'apigw-bench-sqlite-'))
  const raw = new Database(storage === 'file' ? join(dir, 'bench.sqlite') : ':memory:')
  raw.pragma('journal_mode = WAL')
  raw.pragma('synchronous = NORMAL')
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) })
  // A second Kysely instance on the same connection, preparing each SQL text once.
  const cached = new Kysely<unknown>({
    dialect: new SqliteDialect({
      database: cachedStatements({ prepare: (text) => raw.prepare(text), close: () => {} }),
    }),
  })
  try {
    for (const prefix of [
      'direct_',
      'store_',
      'gateway_',
      'cstore_',
      'cgateway_',
      'dstore_',
      'dgateway_',
    ]) {
      await migrate(db, { tablePrefix: prefix })
    }
    const q = connectSql('direct_', () => '?')
    const hit = raw.prepare(q.hit)
    const consume = raw.prepare(q.consume)
    const insert = raw.prepare(q.insert)
    const putToken = raw.prepare(q.putToken)
    const store = kyselyStore({ db, tablePrefix: 'store_' })
    const gateway = benchGateway(kyselyStore({ db, tablePrefix: 'gateway_' }))
    const cachedStore = kyselyStore({ db: cached, tablePrefix: 'cstore_' })
    const cachedGateway = benchGateway(kyselyStore({ db: cached, tablePrefix: 'cgateway_' }))
    const directStore = kyselyStore({ db, tablePrefix: 'dstore_', sqliteDatabase: raw })
    const directGateway = benchGateway(
      kyselyStore({ db, tablePrefix: 'dgateway_', sqliteDatabase: raw }),
    )

    const rows = await compare(ROUNDS, [
      async () => {
        const cases = connectCases(SQLITE_OPS)
        const now = Date.now()
        for (const c of cases) putToken.run(c.hash, c.userId, now + WINDOW_MS)
        return measure(
          'direct SQL (better-sqlite3 prepared)',
          SQLITE_OPS,
          async (i) => {
            const c = cases[i] as ConnectCase
            const at = Date.now()
            hit.get(`connect.ip:${c.ip}`, at + WINDOW_MS, at, at)
            if (consume.get(at, c.hash, at, null) === undefined) {
              throw new Error('token not consumed')
            }
            hit.get(`connect.user:${c.userId}`, at + WINDOW_MS, at, at)
            if (
              insert.get(c.connectionId, c.userId, 'testapi123', null, null, at, at) === undefined
            ) {
              throw new Error('connection not created')
            }
          },
          CONCURRENCY,
        )
      },
      () => measureStore('kyselyStore calls (no gateway)', store, SQLITE_OPS),
      () => measureGateway('gateway.handle + kyselyStore', gateway, SQLITE_OPS),
      () => measureStore('kyselyStore calls, cachedStatements', cachedStore, SQLITE_OPS),
      () =>
        measureGateway('gateway.handle + kyselyStore, cachedStatements', cachedGateway, SQLITE_OPS),
      () => measureStore('kyselyStore calls, sqliteDatabase (direct)', directStore, SQLITE_OPS),
      () =>
        measureGateway(
          'gateway.handle + kyselyStore, sqliteDatabase (direct)',
          directGateway,
          SQLITE_OPS,
        ),
    ])
    report(`$connect on SQLite (${storage}, WAL), ${CONCURRENCY} concurrent callers`, rows)
    printRatios(`SQLite (${storage})`, rows)
  } finally {
    await cached.destroy()
    await db.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}

const MESSAGES = Number(process.env.APIGW_BENCH_MESSAGES ?? 3_000)
const MESSAGE_ROUNDS = Number(process.env.APIGW_BENCH_ROUNDS ?? ROUNDS)
const MESSAGE_RULE = OPEN_RULE

/** `count` connections created directly in `store` (setup, not timed); resolves their ids. */
async function messageConnections(store: Store, label: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `msg${label}${i}`)
  await Promise.all(
    ids.map((connectionId) =>
      store.connections.create(
        {
          connectionId,
          userId: 'user-1',
          channels: [],
          apiId: 'testapi123',
          stage: null,
          domainName: null,
        },
        Date.now(),
      ),
    ),
  )
  return ids
}

/** Runs `op(i)` for `MESSAGES` messages with `CONCURRENCY` callers: throughput and CPU per op. */
async function messageRound(op: (i: number) => Promise<void>): Promise<Sample> {
  const cpu = process.cpuUsage()
  const m = await measure('messages', MESSAGES, op, CONCURRENCY)
  const used = process.cpuUsage(cpu)
  return { perSecond: opsPerSecond(m), cpuUs: (used.user + used.system) / MESSAGES }
}

/**
 * A variant sending messages through `gateway.handle` of a gateway over `store` (the message
 * limit on, every message allowed), spread over `CONCURRENCY` connections of its own.
 */
async function gatewayMessages(name: string, store: Store, label: string): Promise<Variant> {
  const gateway = createGateway({
    store,
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    rateLimits: {
      connectPerIp: false,
      connectPerUser: false,
      tokenPerUser: false,
      messagePerConnection: MESSAGE_RULE,
    },
    handlers: { ping: defineHandler({ handle: () => undefined }) },
  })
  const http = httpRequests({ secret: SECRET })
  const ids = await messageConnections(store, label, CONCURRENCY)
  const requests = ids.map((connectionId) =>
    http.message({ connectionId, body: { action: 'ping' } }),
  )
  return {
    name,
    run: () =>
      messageRound(async (i) => {
        const response = await gateway.handle(requests[i % requests.length] as GatewayRequest)
        if (response.status !== 200)
          throw new Error(`${name}: a message answered ${response.status}`)
      }),
  }
}

/**
 * A variant running the store's own touch and hit statements (the SQL text the store compiled)
 * directly through `runner`, one after the other: what a message costs the database.
 */
async function directMessages(
  name: string,
  db: Kysely<unknown>,
  runner: QueryRunner,
  dialect: 'sqlite' | 'postgres',
  prefix: string,
): Promise<Variant> {
  const logical = (db as unknown as Kysely<StoreDatabase>)
    .withoutPlugins()
    .withPlugin(tablePrefixPlugin(tableNames(prefix)))
  const q = statements(logical, dialect)
  const ids = await messageConnections(
    kyselyStore({ db, tablePrefix: prefix }),
    prefix,
    CONCURRENCY,
  )
  return {
    name,
    run: () =>
      messageRound(async (i) => {
        const id = ids[i % ids.length] as string
        const now = Date.now()
        const touched = await q.touch.run(runner, { id, now })
        if (touched.rows.length !== 1) throw new Error(`${name}: touch found no connection`)
        await q.hit.run(runner, { key: `message.connection:${id}`, now, resetAt: now + WINDOW_MS })
      }),
  }
}

/** The same store without its native `admitMessage`: the composition, two calls per message. */
function composed(store: Store): Store {
  const { connections, tokens, limits, admit, cleanup } = store
  return defineStore({ connections, tokens, limits, admit, cleanup })
}

/** Messages on SQLite (WAL file): the store over the direct path against its two statements. */
async function sqliteMessageBench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'apigw-bench-sqlite-msg-'))
  const raw = new Database(join(dir, 'bench.sqlite'))
  raw.pragma('journal_mode = WAL')
  raw.pragma('synchronous = NORMAL')
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) })
  try {
    for (const prefix of ['mdirect_', 'mgateway_']) await migrate(db, { tablePrefix: prefix })
    const store = kyselyStore({ db, tablePrefix: 'mgateway_', sqliteDatabase: raw })
    const result = await alternate(MESSAGE_ROUNDS, [
      await directMessages(
        'direct SQL: touch + hit (better-sqlite3 prepared)',
        db,
        directSqliteRunner(raw, db),
        'sqlite',
        'mdirect_',
      ),
      await gatewayMessages('gateway.handle + kyselyStore, sqliteDatabase (composed)', store, 'g'),
    ])
    printRounds(
      `messages on SQLite (file, WAL), per-connection limit on, ${CONCURRENCY} concurrent callers`,
      result,
      { unit: 'messages' },
    )
  } finally {
    await db.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * A fresh PostgreSQL schema on `url` for one section: a direct pg pool and a Kysely instance on
 * a pool of its own, both with the schema as `search_path`; `drop` closes both and removes the
 * schema with everything in it.
 */
async function postgresSchema(url: string) {
  const schema = `apigw_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Pool({ connectionString: url, max: 1 })
  await admin.query(`create schema "${schema}"`)
  const poolFor = () =>
    new pg.Pool({ connectionString: url, max: CONCURRENCY, options: `-c search_path=${schema}` })
  const directPool = poolFor()
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: poolFor() }) })
  return {
    directPool,
    db,
    async drop() {
      await directPool.end()
      await db.destroy()
      try {
        await admin.query(`drop schema "${schema}" cascade`)
      } finally {
        await admin.end()
      }
    },
  }
}

/** Messages on PostgreSQL: one round trip against the composition, and the direct ceilings. */
async function postgresMessageBench(url: string): Promise<void> {
  const { directPool, db, drop } = await postgresSchema(url)
  const poolRunner: QueryRunner = {
    async executeQuery(query) {
      const { rows } = await directPool.query(query.sql, query.parameters as unknown[])
      return { rows }
    },
  }
  try {
    for (const prefix of ['mdirect_', 'mfunc_', 'msteps_', 'mone_']) {
      await migrate(db, { tablePrefix: prefix })
    }
    const fn = admitMessageFunctionName('mfunc_')
    const fnIds = await messageConnections(
      kyselyStore({ db, tablePrefix: 'mfunc_' }),
      'f',
      CONCURRENCY,
    )
    const oneTrip: Variant = {
      name: `direct SQL: select ${fn}(…) (pg Pool)`,
      run: () =>
        messageRound(async (i) => {
          const id = fnIds[i % fnIds.length] as string
          const now = Date.now()
          const { rows } = await directPool.query(
            `select o_outcome from "${fn}"($1, $2, $3, $4, $5)`,
            [id, `message.connection:${id}`, MESSAGE_RULE.limit, MESSAGE_RULE.windowMs, now],
          )
          if (rows[0]?.o_outcome !== 'admitted') throw new Error('function did not admit')
        }),
    }
    const result = await alternate(MESSAGE_ROUNDS, [
      await gatewayMessages(
        'gateway.handle + kyselyStore, admitMessage composed (2 trips)',
        composed(kyselyStore({ db, tablePrefix: 'msteps_' })),
        's',
      ),
      await gatewayMessages(
        'gateway.handle + kyselyStore, admitMessage (1 trip)',
        kyselyStore({ db, tablePrefix: 'mone_' }),
        'o',
      ),
      await directMessages(
        `direct SQL: touch + hit (pg Pool, max ${CONCURRENCY})`,
        db,
        poolRunner,
        'postgres',
        'mdirect_',
      ),
      oneTrip,
    ])
    printRounds(
      `messages on PostgreSQL (pool max ${CONCURRENCY}), per-connection limit on, ${CONCURRENCY} concurrent callers`,
      result,
      { unit: 'messages' },
    )
    verdict(
      'PostgreSQL messages: admitMessage in 1 trip / composed (throughput)',
      ratiosTo(result, 1, 0).throughput,
      2,
    )
  } finally {
    await drop()
  }
}

/** Fresh connect cases whose tokens `putToken` stored through `pool`, valid for the window. */
async function putTokens(pool: pg.Pool, putToken: string): Promise<ConnectCase[]> {
  const cases = connectCases(POSTGRES_OPS)
  const now = Date.now()
  for (let i = 0; i < cases.length; i += CONCURRENCY) {
    await Promise.all(
      cases
        .slice(i, i + CONCURRENCY)
        .map((c) => pool.query(putToken, [c.hash, c.userId, now + WINDOW_MS])),
    )
  }
  return cases
}

async function postgresBench(url: string): Promise<void> {
  const { directPool, db, drop } = await postgresSchema(url)
  try {
    for (const prefix of ['direct_', 'store_', 'gateway_', 'steps_', 'func_'])
      await migrate(db, { tablePrefix: prefix })
    const q = connectSql('direct_', (n) => `$${n}`)
    const fq = connectSql('func_', (n) => `$${n}`)
    const admitFn = admitFunctionName('func_')
    const gateway = benchGateway(kyselyStore({ db, tablePrefix: 'gateway_' }))
    const store = kyselyStore({ db, tablePrefix: 'store_' })
    // The same store with admit composed from its steps (four round trips), as before the
    // one-round-trip admit: the side-by-side "before".
    const stepwise = kyselyStore({ db, tablePrefix: 'steps_' })
    const stepsGateway = benchGateway(
      defineStore({
        connections: stepwise.connections,
        tokens: stepwise.tokens,
        limits: stepwise.limits,
        cleanup: stepwise.cleanup,
      }),
    )

    const rows = await compare(ROUNDS, [
      async () => {
        const cases = await putTokens(directPool, q.putToken)
        return measure(
          `direct SQL (pg Pool, max ${CONCURRENCY})`,
          POSTGRES_OPS,
          async (i) => {
            const c = cases[i] as ConnectCase
            const at = Date.now()
            await directPool.query(q.hit, [`connect.ip:${c.ip}`, at + WINDOW_MS, at, at])
            const consumed = await directPool.query(q.consume, [at, c.hash, at, null])
            if (consumed.rowCount !== 1) throw new Error('token not consumed')
            await directPool.query(q.hit, [`connect.user:${c.userId}`, at + WINDOW_MS, at, at])
            const inserted = await directPool.query(q.insert, [
              c.connectionId,
              c.userId,
              'testapi123',
              null,
              null,
              at,
              at,
            ])
            if (inserted.rowCount !== 1) throw new Error('connection not created')
          },
          CONCURRENCY,
        )
      },
      () => measureStore('kyselyStore calls (no gateway)', store, POSTGRES_OPS),
      () => measureGateway('gateway.handle + kyselyStore', gateway, POSTGRES_OPS),
      () =>
        measureGateway('gateway.handle + kyselyStore, admit by steps', stepsGateway, POSTGRES_OPS),
      // The floor of the one-round-trip path: the admit function called straight through pg,
      // with no gateway, store or Kysely around it.
      async () => {
        const cases = await putTokens(directPool, fq.putToken)
        return measure(
          `direct SQL: select ${admitFn}(…) (pg Pool)`,
          POSTGRES_OPS,
          async (i) => {
            const c = cases[i] as ConnectCase
            const { rows } = await directPool.query(
              `select o_outcome from "${admitFn}"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
              [
                `connect.ip:${c.ip}`,
                OPEN_RULE.limit,
                WINDOW_MS,
                c.hash,
                null,
                null,
                'connect.user:',
                OPEN_RULE.limit,
                WINDOW_MS,
                c.connectionId,
                'testapi123',
                null,
                null,
                Date.now(),
              ],
            )
            if (rows[0]?.o_outcome !== 'admitted') throw new Error('function did not admit')
          },
          CONCURRENCY,
        )
      },
    ])
    report(
      `$connect on PostgreSQL (pool max ${CONCURRENCY}), ${CONCURRENCY} concurrent callers`,
      rows,
    )
    printRatios('PostgreSQL', rows)
    const [, , oneTrip, bySteps, floor] = rows.map(opsPerSecond)
    if (oneTrip !== undefined && bySteps !== undefined && floor !== undefined) {
      const ratio = oneTrip / bySteps
      console.log(
        `PostgreSQL $connect: admit in 1 trip / by steps = ${ratio.toFixed(2)}× (${ratio >= 3 ? 'meets' : 'BELOW'} the 3× target); ` +
          `the function called directly / by steps = ${(floor / bySteps).toFixed(2)}× (the ceiling of the one-trip path)`,
      )
    }
  } finally {
    await drop()
  }
}

export default async function storeKyselyBench(): Promise<void> {
  const part = process.env.APIGW_BENCH_PART
  const connects = part === undefined || part === '' || part === 'connect'
  const messages = part === undefined || part === '' || part === 'messages'
  if (connects) {
    await sqliteBench('file')
    await sqliteBench('memory')
  }
  if (messages) await sqliteMessageBench()
  const url = process.env.DATABASE_URL
  if (url === undefined || url === '') {
    console.log(
      '\n## $connect and messages on PostgreSQL: skipped — DATABASE_URL is not set ' +
        '(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test pnpm bench store-kysely)',
    )
    return
  }
  if (connects) await postgresBench(url)
  if (messages) await postgresMessageBench(url)
}
