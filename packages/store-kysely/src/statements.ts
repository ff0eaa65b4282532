/**
 * The Kysely store's SQL: the columns it reads, the row shapes drivers return, and every
 * fixed-shape statement, compiled once per store for one dialect and table prefix. The store
 * itself (`kysely-store.ts`) only binds parameters and maps rows.
 */
import type { ConnectionRecord, TokenRecord } from '@apigw-ws/core'
import { type Kysely, sql } from 'kysely'
import type { KyselyStoreDialect } from './dialect.js'
import { prepare } from './prepared.js'
import type { StoreDatabase } from './schema.js'

/** How many ids one `IN (…)` list binds at most (well under every driver's parameter limit). */
export const ID_CHUNK = 500

export const CONNECTION_COLUMNS = [
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

export const TOKEN_COLUMNS = ['hash', 'user_id', 'session_hash', 'channel', 'expires_at'] as const

export interface ConnectionRow {
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

export interface TokenRow {
  readonly hash: string
  readonly user_id: string
  readonly session_hash: string | null
  readonly channel: string | null
  readonly expires_at: number | string | bigint
}

export function toConnection(row: ConnectionRow): ConnectionRecord {
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

export function toToken(row: TokenRow): TokenRecord {
  return Object.freeze({
    hash: row.hash,
    userId: row.user_id,
    sessionHash: row.session_hash,
    channel: row.channel,
    expiresAt: Number(row.expires_at),
  })
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** The store's statements, compiled once for one dialect and table prefix. */
export function statements(db: Kysely<StoreDatabase>, dialect: KyselyStoreDialect) {
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
