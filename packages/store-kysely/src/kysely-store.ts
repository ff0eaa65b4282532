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
import type { Kysely } from 'kysely'
import { type KyselyStoreDialect, resolveDialect } from './dialect.js'
import { postgresAdmit } from './postgres-admit.js'
import { postgresAdmitMessage } from './postgres-admit-message.js'
import type { QueryRunner } from './prepared.js'
import { checkTablePrefix, DEFAULT_TABLE_PREFIX, type StoreDatabase, tableNames } from './schema.js'
import { type DirectSqliteDatabase, directSqliteRunner } from './sqlite-direct.js'
import { chunks, ID_CHUNK, statements, toConnection, toToken } from './statements.js'
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

  // PostgreSQL admits a connection, and a message, in one round trip each; SQLite composes the
  // steps (in process, where a statement costs no round trip).
  const postgres = dialect === 'postgres'
  const admit = postgres ? postgresAdmit(runner, prefix) : undefined
  const admitMessage = postgres ? postgresAdmitMessage(runner, prefix) : undefined
  return defineStore({ connections, tokens, limits, cleanup, admit, admitMessage })
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
