/**
 * The store's tables as Kysely types, under their logical names, and the mapping from logical
 * names to the physical, prefixed names in the database. Store queries are written against the
 * logical names (so they stay type-checked) and `tablePrefixPlugin` rewrites them when compiled.
 */
import type { ColumnType, Generated } from 'kysely'

/**
 * A `bigint` column holding milliseconds or a counter. pg returns `int8` as a string and
 * better-sqlite3 may return a `bigint` (with `safeIntegers`), so reads are converted with `Number`,
 * which is exact for millisecond timestamps and counters below 2^53.
 */
type Int8 = ColumnType<number | string | bigint, number, number>
type NullableInt8 = ColumnType<number | string | bigint | null, number | null, number | null>

/** `connections`: one row per API Gateway connection, kept after disconnect until cleanup. */
export interface ConnectionsTable {
  id: string
  user_id: string | null
  api_id: string | null
  stage: string | null
  domain_name: string | null
  connected_at: Int8
  last_seen_at: Int8
  request_count: Int8
  disconnected_at: NullableInt8
  /** How many subscriptions the connection has (migration 0002), kept with every change. */
  channel_count: Int8
}

/** `subscriptions`: one row per (connection, channel); `seq` orders a connection's channels. */
export interface SubscriptionsTable {
  seq: Generated<number | string | bigint>
  connection_id: string
  channel: string
}

/** `tokens`: connect tokens by SHA-256 hash; the token itself is never stored. */
export interface TokensTable {
  hash: string
  user_id: string
  session_hash: string | null
  channel: string | null
  expires_at: Int8
  used_at: NullableInt8
}

/** `rate_limits`: one fixed window per key. */
export interface RateLimitsTable {
  key: string
  count: Int8
  reset_at: Int8
}

/** The store's tables under their logical (unprefixed) names. */
export interface StoreDatabase {
  connections: ConnectionsTable
  subscriptions: SubscriptionsTable
  tokens: TokensTable
  rate_limits: RateLimitsTable
}

/** The logical table names, in creation order (subscriptions references connections). */
export const TABLES = ['connections', 'subscriptions', 'tokens', 'rate_limits'] as const

/** The table prefix used when none is given. */
export const DEFAULT_TABLE_PREFIX = 'apigw_'

const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,30}$/

/**
 * Validates a table prefix and returns it. The pattern (`^[a-z_][a-z0-9_]{0,30}$`) keeps every
 * derived identifier (tables, indexes, the migration tables) unquoted-safe and within
 * PostgreSQL's 63-byte identifier limit. Throws `TypeError` naming the option otherwise.
 */
export function checkTablePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new TypeError(
      `kysely store: option "tablePrefix" must match ${PREFIX_PATTERN} ` +
        `(got ${JSON.stringify(prefix)})`,
    )
  }
  return prefix
}

/** The physical table names for a prefix, keyed by logical name. */
export function tableNames(prefix: string): Readonly<Record<(typeof TABLES)[number], string>> {
  return Object.freeze({
    connections: `${prefix}connections`,
    subscriptions: `${prefix}subscriptions`,
    tokens: `${prefix}tokens`,
    rate_limits: `${prefix}rate_limits`,
  })
}
