/**
 * `kyselyStore()`: the apigw-ws store SPI over a user-owned Kysely instance, for SQLite
 * (better-sqlite3) on one machine and PostgreSQL (pg) when many backend instances share state.
 * Every atomic operation is a single SQL statement (upsert, conditional update, or guarded
 * insert with `RETURNING`), so atomicity comes from the database, never from a read followed
 * by a write. Fixed-shape statements are compiled once per store; only `cleanup` builds its
 * queries per call. The schema comes from this package's migrations; the store runs no DDL.
 */
import {
  type CleanupCounts,
  type CleanupRequest,
  type ConnectionFilter,
  type ConnectionRecord,
  defineStore,
  type LimitResult,
  type LimitRule,
  type NewConnection,
  type Page,
  type PageRequest,
  type Store,
  type SubscribeResult,
  type TokenRecord,
} from '@apigw-ws/core'
import { type Kysely, sql } from 'kysely'
import { type KyselyStoreDialect, resolveDialect } from './dialect.js'
import { postgresAdmit } from './postgres-admit.js'
import { prepare, type QueryRunner } from './prepared.js'
import { checkTablePrefix, DEFAULT_TABLE_PREFIX, type StoreDatabase, tableNames } from './schema.js'
import { type DirectSqliteDatabase, directSqliteRunner } from './sqlite-direct.js'
import { tablePrefixPlugin } from './table-prefix-plugin.js'

/** Options for {@link kyselyStore}. */
export interface KyselyStoreOptions<DB> {
  /**
   * The Kysely instance to run on, owned by the caller (the store never destroys it). Its
   * plugins are not applied to the store's queries: the store's SQL must not be rewritten by,
   * say, `CamelCasePlugin`. Pass the root instance, not a transaction.
   */
  readonly db: Kysely<DB>
  /**
   * Prefix of every table the store uses, as created by `migrate(db, { tablePrefix })` with the
   * same value. Must match `^[a-z_][a-z0-9_]{0,30}$`. Default `'apigw_'`.
   */
  readonly tablePrefix?: string | undefined
  /**
   * The SQL dialect. Detected from the instance's adapter (`SqliteAdapter`, `PostgresAdapter`)
   * when omitted; set it for a third-party dialect that speaks SQLite or PostgreSQL SQL.
   */
  readonly dialect?: KyselyStoreDialect | undefined
  /**
   * SQLite only: the better-sqlite3 `Database` that `db`'s `SqliteDialect` was given. The store
   * then runs its statements on it directly, as cached prepared statements, synchronously
   * (about twice the throughput on a CPU-bound store; see `pnpm bench store-kysely`); while a
   * transaction is open on the connection, they go through `db` as usual and wait for it.
   * Passing another database than `db`'s would split the store across two databases.
   */
  readonly sqliteDatabase?: DirectSqliteDatabase | undefined
}

/** How many ids one `IN (…)` list binds at most (well under every driver's parameter limit). */
const ID_CHUNK = 500

const CONNECTION_COLUMNS = [
  'connections.id',
  'connections.user_id',
  'connections.api_id',
  'connections.stage',
  'connections.domain_name',
  'connections.connected_at',
  'connections.last_seen_at',
  'connections.request_count',
  'connections.disconnected_at',
] as const

const TOKEN_COLUMNS = ['hash', 'user_id', 'session_hash', 'channel', 'expires_at'] as const

interface ConnectionRow {
  readonly id: string
  readonly user_id: string | null
  readonly api_id: string | null
  readonly stage: string | null
  readonly domain_name: string | null
  readonly connected_at: number | string | bigint
  readonly last_seen_at: number | string | bigint
  readonly request_count: number | string | bigint
  readonly disconnected_at: number | string | bigint | null
}

interface TokenRow {
  readonly hash: string
  readonly user_id: string
  readonly session_hash: string | null
  readonly channel: string | null
  readonly expires_at: number | string | bigint
}

function toConnection(row: ConnectionRow): ConnectionRecord {
  return Object.freeze({
    connectionId: row.id,
    userId: row.user_id,
    apiId: row.api_id,
    stage: row.stage,
    domainName: row.domain_name,
    connectedAt: Number(row.connected_at),
    lastSeenAt: Number(row.last_seen_at),
    requestCount: Number(row.request_count),
    disconnectedAt: row.disconnected_at === null ? null : Number(row.disconnected_at),
  })
}

function toToken(row: TokenRow): TokenRecord {
  return Object.freeze({
    hash: row.hash,
    userId: row.user_id,
    sessionHash: row.session_hash,
    channel: row.channel,
    expiresAt: Number(row.expires_at),
  })
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** The store's statements, compiled once for one dialect and table prefix. */
function statements(db: Kysely<StoreDatabase>, dialect: KyselyStoreDialect) {
  const live = () =>
    db
      .selectFrom('connections')
      .select([...CONNECTION_COLUMNS])
      .where('connections.disconnected_at', 'is', null)
  // On PostgreSQL a subscription change locks the connection row first, so changes to one
  // connection's channels run one at a time; SQLite has one writer at a time anyway.
  const locked = <Q extends { forUpdate(): Q }>(query: Q): Q =>
    dialect === 'postgres' ? query.forUpdate() : query

  return {
    createConnection: prepare(
      (p: {
        id: string
        userId: string | null
        apiId: string | null
        stage: string | null
        domainName: string | null
        channelCount: number
        now: number
      }) =>
        db
          .insertInto('connections')
          .values({
            id: p.id,
            user_id: p.userId,
            api_id: p.apiId,
            stage: p.stage,
            domain_name: p.domainName,
            connected_at: p.now,
            last_seen_at: p.now,
            request_count: 0,
            disconnected_at: null,
            channel_count: p.channelCount,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id'),
    ),
    // The channel counter of a connected record, read under the row's lock.
    channelCount: prepare((p: { id: string }) =>
      db
        .selectFrom('connections')
        .select('connections.channel_count')
        .where('connections.id', '=', p.id)
        .where('connections.disconnected_at', 'is', null)
        .$call(locked),
    ),
    hasChannel: prepare((p: { id: string; channel: string }) =>
      db
        .selectFrom('subscriptions')
        .select('seq')
        .where('connection_id', '=', p.id)
        .where('channel', '=', p.channel),
    ),
    addChannel: prepare((p: { id: string; channel: string }) =>
      db.insertInto('subscriptions').values({ connection_id: p.id, channel: p.channel }),
    ),
    countChannel: prepare((p: { id: string; delta: number }) =>
      db
        .updateTable('connections')
        .set({
          channel_count: sql<number>`${sql.ref('connections.channel_count')} + ${p.delta}`,
        })
        .where('connections.id', '=', p.id),
    ),
    channels: prepare((p: { id: string }) =>
      db
        .selectFrom('subscriptions')
        .select('channel')
        .where('connection_id', '=', p.id)
        .orderBy('seq'),
    ),
    unsubscribe: prepare((p: { id: string; channel: string }) =>
      db
        .deleteFrom('subscriptions')
        .where('connection_id', '=', p.id)
        .where('channel', '=', p.channel)
        .returning('seq'),
    ),
    get: prepare((p: { id: string }) =>
      db
        .selectFrom('connections')
        .select([...CONNECTION_COLUMNS])
        .where('connections.id', '=', p.id),
    ),
    touch: prepare((p: { id: string; now: number }) =>
      db
        .updateTable('connections')
        .set({
          request_count: sql<number>`${sql.ref('connections.request_count')} + 1`,
          last_seen_at: p.now,
        })
        .where('connections.id', '=', p.id)
        .where('connections.disconnected_at', 'is', null)
        .returning([...CONNECTION_COLUMNS]),
    ),
    disconnect: prepare((p: { id: string; now: number }) =>
      db
        .updateTable('connections')
        .set({ disconnected_at: p.now })
        .where('connections.id', '=', p.id)
        .where('connections.disconnected_at', 'is', null)
        .returning('connections.id'),
    ),
    listAll: prepare((p: { cursor: string; limit: number }) =>
      live().where('connections.id', '>', p.cursor).orderBy('connections.id').limit(p.limit),
    ),
    listByUser: prepare((p: { userId: string; cursor: string; limit: number }) =>
      live()
        .where('connections.user_id', '=', p.userId)
        .where('connections.id', '>', p.cursor)
        .orderBy('connections.id')
        .limit(p.limit),
    ),
    // Keyset on the subscription's connection id so the (channel, connection_id) index serves
    // both the filter and the order.
    listByChannel: prepare((p: { channel: string; cursor: string; limit: number }) =>
      db
        .selectFrom('subscriptions as s')
        .innerJoin('connections', 'connections.id', 's.connection_id')
        .select([...CONNECTION_COLUMNS])
        .where('s.channel', '=', p.channel)
        .where('s.connection_id', '>', p.cursor)
        .where('connections.disconnected_at', 'is', null)
        .orderBy('s.connection_id')
        .limit(p.limit),
    ),
    putToken: prepare(
      (p: {
        hash: string
        userId: string
        sessionHash: string | null
        channel: string | null
        expiresAt: number
      }) =>
        db
          .insertInto('tokens')
          .values({
            hash: p.hash,
            user_id: p.userId,
            session_hash: p.sessionHash,
            channel: p.channel,
            expires_at: p.expiresAt,
            used_at: null,
          })
          .onConflict((oc) => oc.column('hash').doNothing())
          .returning('hash'),
    ),
    // The whole check-and-mark is the WHERE clause of one UPDATE: under concurrency the row
    // lock serializes the updates and every loser re-checks `used_at IS NULL` and matches nothing.
    consume: prepare((p: { hash: string; sessionHash: string | null; now: number }) =>
      db
        .updateTable('tokens')
        .set({ used_at: p.now })
        .where('hash', '=', p.hash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', p.now)
        .where((eb) =>
          eb.or([eb('session_hash', 'is', null), eb('session_hash', '=', p.sessionHash)]),
        )
        .returning([...TOKEN_COLUMNS]),
    ),
    // Count and window reset are decided inside the upsert. Both SET expressions read the row
    // as it was before this statement (SQL semantics in PostgreSQL and SQLite alike), so the
    // second CASE sees the old `reset_at`; the new window's end comes from `excluded`.
    hit: prepare((p: { key: string; now: number; resetAt: number }) => {
      const resetAt = sql.ref('rate_limits.reset_at')
      const count = sql.ref('rate_limits.count')
      const ended = sql<boolean>`${resetAt} <= ${p.now}`
      const fresh = sql.ref('excluded.reset_at')
      return db
        .insertInto('rate_limits')
        .values({ key: p.key, count: 1, reset_at: p.resetAt })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            count: sql<number>`case when ${ended} then 1 else ${count} + 1 end`,
            reset_at: sql<number>`case when ${ended} then ${fresh} else ${resetAt} end`,
          }),
        )
        .returning(['count', 'reset_at'])
    }),
  }
}

/**
 * Creates a store over `options.db`. The tables must exist: run {@link migrate} (or apply
 * {@link migrations} with your own `Migrator`) with the same `tablePrefix` first; the store never
 * creates or alters tables.
 *
 * Atomicity and concurrency: `tokens.consume`, `limits.hit`, `connections.touch`,
 * `connections.disconnect`, `connections.create` (without channels) and `connections.subscribe`
 * are each one statement, so they hold under any number of concurrent callers, in one process
 * or across many processes sharing a PostgreSQL database: N concurrent consumes of one token
 * yield exactly one record, N concurrent hits yield counts 1..N. `connections.create` with
 * channels and the connection part of `cleanup` run two statements in one transaction.
 * Records with `channels` read them in the same statement (a correlated subquery).
 *
 * Failures: database errors reject the returned promise unchanged (the gateway fails closed on
 * them); programmer errors (non-finite times, invalid rules, an invalid `list` page or filter)
 * reject with `TypeError`. `tokens.put` rejects when the hash exists.
 *
 * Throws `TypeError` at construction, naming the option, for a missing `db` (or a transaction
 * instead of the root instance), an invalid `tablePrefix`, or a dialect other than SQLite or
 * PostgreSQL.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3'
 * import { Kysely, SqliteDialect } from 'kysely'
 * import { kyselyStore, migrate } from '@apigw-ws/store-kysely'
 *
 * const database = new Database('ws.db')
 * const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) })
 * await migrate(db)
 * const store = kyselyStore({ db })
 * ```
 */
export function kyselyStore<DB>(options: KyselyStoreOptions<DB>): Store {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('kyselyStore: options must be an object')
  }
  const { db: userDb } = options
  if (
    typeof userDb !== 'object' ||
    userDb === null ||
    typeof (userDb as { getExecutor?: unknown }).getExecutor !== 'function'
  ) {
    throw new TypeError('kyselyStore: option "db" must be a Kysely instance')
  }
  if (userDb.isTransaction) {
    // The store opens transactions of its own and outlives any one transaction.
    throw new TypeError(
      'kyselyStore: option "db" must be the root Kysely instance, not a transaction',
    )
  }
  const dialect = resolveDialect(userDb, options.dialect)
  const prefix = checkTablePrefix(options.tablePrefix ?? DEFAULT_TABLE_PREFIX)
  // The user's Kysely is typed with the user's tables; the store's own view of the same
  // connection is typed with its logical tables, which the prefix plugin maps to the real ones.
  const bare = userDb.withoutPlugins() as unknown as Kysely<StoreDatabase>
  const db = bare.withPlugin(tablePrefixPlugin(tableNames(prefix)))
  const q = statements(db, dialect)
  // Compiled statements already carry the physical table names, so they run on the instance
  // without plugins: nothing left to transform, in the query or in its result.
  const runner = bare
  // Single statements outside the store's transactions: directly on SQLite when allowed.
  const exec = directRunner(options.sqliteDatabase, dialect, bare)

  const connections = {
    async create(connection: NewConnection, now: number): Promise<boolean> {
      const params = {
        id: connection.connectionId,
        userId: connection.userId,
        apiId: connection.apiId,
        stage: connection.stage,
        domainName: connection.domainName,
        channelCount: connection.channels.length,
        now,
      }
      if (connection.channels.length === 0) {
        return (await q.createConnection.run(exec, params)).rows.length > 0
      }
      // The record and its channels appear together or not at all.
      return runner.transaction().execute(async (trx) => {
        const created = await q.createConnection.run(trx, params)
        if (created.rows.length === 0) return false
        for (const channel of connection.channels) {
          await q.addChannel.run(trx, { id: connection.connectionId, channel })
        }
        return true
      })
    },

    async get(connectionId: string): Promise<ConnectionRecord | null> {
      const [row] = (await q.get.run(exec, { id: connectionId })).rows
      return row === undefined ? null : toConnection(row)
    },

    async touch(connectionId: string, now: number): Promise<ConnectionRecord | null> {
      const [row] = (await q.touch.run(exec, { id: connectionId, now })).rows
      return row === undefined ? null : toConnection(row)
    },

    async disconnect(connectionId: string, now: number): Promise<boolean> {
      return (await q.disconnect.run(exec, { id: connectionId, now })).rows.length > 0
    },

    async channels(connectionId: string): Promise<readonly string[]> {
      const { rows } = await q.channels.run(exec, { id: connectionId })
      return Object.freeze(rows.map((row) => row.channel))
    },

    // Check and change under the connection's row lock (PostgreSQL) or the single writer
    // (SQLite), in one transaction: the counter and the subscriptions always agree, and
    // concurrent subscribes cannot both take the last place.
    subscribe(
      connectionId: string,
      channel: string,
      maxChannels: number,
    ): Promise<SubscribeResult> {
      return runner.transaction().execute(async (trx): Promise<SubscribeResult> => {
        const [row] = (await q.channelCount.run(trx, { id: connectionId })).rows
        if (row === undefined) return 'gone'
        if ((await q.hasChannel.run(trx, { id: connectionId, channel })).rows.length > 0) {
          return 'subscribed'
        }
        if (Number(row.channel_count) >= maxChannels) return 'limit'
        await q.addChannel.run(trx, { id: connectionId, channel })
        await q.countChannel.run(trx, { id: connectionId, delta: 1 })
        return 'subscribed'
      })
    },

    unsubscribe(connectionId: string, channel: string): Promise<boolean> {
      return runner.transaction().execute(async (trx) => {
        const gone = await q.unsubscribe.run(trx, { id: connectionId, channel })
        if (gone.rows.length === 0) return false
        await q.countChannel.run(trx, { id: connectionId, delta: -1 })
        return true
      })
    },

    async list(filter: ConnectionFilter, request: PageRequest): Promise<Page<ConnectionRecord>> {
      const { limit } = request
      // `defineStore` let through exactly one selector.
      const f = filter as { readonly userId?: string; readonly channel?: string }
      // One row more than asked tells whether another page exists. Connection ids are never
      // empty, so '' sorts before every id and serves as the first page's cursor.
      const p = { cursor: request.cursor ?? '', limit: limit + 1 }
      const { rows } =
        f.userId !== undefined
          ? await q.listByUser.run(exec, { ...p, userId: f.userId })
          : f.channel !== undefined
            ? await q.listByChannel.run(exec, { ...p, channel: f.channel })
            : await q.listAll.run(exec, p)
      const items = rows.slice(0, limit).map(toConnection)
      const last = items[items.length - 1]
      return Object.freeze({
        items: Object.freeze(items),
        nextCursor: rows.length > limit && last !== undefined ? last.connectionId : null,
      })
    },
  }

  const tokens = {
    async put(token: TokenRecord): Promise<boolean> {
      const { rows } = await q.putToken.run(exec, {
        hash: token.hash,
        userId: token.userId,
        sessionHash: token.sessionHash,
        channel: token.channel,
        expiresAt: token.expiresAt,
      })
      return rows.length > 0
    },

    async consume(
      hash: string,
      sessionHash: string | null,
      now: number,
    ): Promise<TokenRecord | null> {
      const [row] = (await q.consume.run(exec, { hash, sessionHash, now })).rows
      return row === undefined ? null : toToken(row)
    },
  }

  const limits = {
    async hit(key: string, rule: LimitRule, now: number): Promise<LimitResult> {
      const [row] = (await q.hit.run(exec, { key, now, resetAt: now + rule.windowMs })).rows
      if (row === undefined) throw new Error('limits.hit: the upsert returned no row')
      const count = Number(row.count)
      return Object.freeze({ allowed: count <= rule.limit, count, resetAt: Number(row.reset_at) })
    },
  }

  // On PostgreSQL, cleanups running at once on several instances take disjoint batches instead
  // of queueing on (or deadlocking over) the same rows; SQLite has one writer at a time anyway.
  function skipLocked<Q extends { forUpdate(): Q; skipLocked(): Q }>(query: Q): Q {
    return dialect === 'postgres' ? query.forUpdate().skipLocked() : query
  }

  async function cleanupConnections(request: CleanupRequest): Promise<number> {
    // Subscriptions reference connections with ON DELETE CASCADE, but SQLite enforces foreign
    // keys only when the connection enabled them, so they are deleted explicitly as well, in the
    // same transaction so a failure cannot leave orphans behind.
    return db.transaction().execute(async (trx) => {
      const gone = await trx
        .deleteFrom('connections')
        .where('connections.id', 'in', (eb) =>
          eb
            .selectFrom('connections')
            .select('connections.id')
            .where((w) =>
              w.or([
                w('connections.disconnected_at', '<=', request.disconnectedBefore),
                w('connections.connected_at', '<=', request.connectedBefore),
              ]),
            )
            .limit(request.batchSize)
            .$call(skipLocked),
        )
        .returning('connections.id')
        .execute()
      const ids = gone.map((row) => row.id)
      for (const chunk of chunks(ids, ID_CHUNK)) {
        await trx.deleteFrom('subscriptions').where('connection_id', 'in', chunk).execute()
      }
      return ids.length
    })
  }

  async function cleanup(request: CleanupRequest, now: number): Promise<CleanupCounts> {
    const { batchSize } = request
    const tokensDeleted = await db
      .deleteFrom('tokens')
      .where('hash', 'in', (eb) =>
        eb
          .selectFrom('tokens')
          .select('hash')
          .where((w) => w.or([w('expires_at', '<=', now), w('used_at', 'is not', null)]))
          .limit(batchSize)
          .$call(skipLocked),
      )
      .executeTakeFirst()
    const limitsDeleted = await db
      .deleteFrom('rate_limits')
      .where('key', 'in', (eb) =>
        eb
          .selectFrom('rate_limits')
          .select('key')
          .where('reset_at', '<=', now)
          .limit(batchSize)
          .$call(skipLocked),
      )
      .executeTakeFirst()
    return Object.freeze({
      tokens: Number(tokensDeleted.numDeletedRows),
      rateLimits: Number(limitsDeleted.numDeletedRows),
      connections: await cleanupConnections(request),
    })
  }

  // PostgreSQL admits a connection in one round trip; SQLite composes the steps (in process).
  const admit = dialect === 'postgres' ? postgresAdmit(runner, prefix) : undefined
  return defineStore({ connections, tokens, limits, cleanup, admit })
}

function directRunner(
  database: DirectSqliteDatabase | undefined,
  dialect: KyselyStoreDialect,
  bare: Kysely<StoreDatabase>,
): QueryRunner {
  if (database === undefined) return bare
  if (
    dialect !== 'sqlite' ||
    typeof database !== 'object' ||
    database === null ||
    typeof database.prepare !== 'function' ||
    typeof database.inTransaction !== 'boolean'
  ) {
    throw new TypeError(
      'kyselyStore: option "sqliteDatabase" must be the better-sqlite3 Database of an SQLite "db"',
    )
  }
  return directSqliteRunner(database, bare)
}
