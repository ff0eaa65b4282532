/**
 * `cachedStatements()`: an optional wrapper for a better-sqlite3 database that makes Kysely's
 * `SqliteDialect` prepare each distinct SQL text once instead of on every query. Preparing costs
 * more than running the store's short statements, so on a CPU-bound SQLite deployment this
 * roughly doubles store throughput (see `pnpm bench store-kysely`). It changes nothing else:
 * Kysely still runs one query at a time on the connection.
 */
import type { SqliteDatabase, SqliteStatement } from 'kysely'

/** Options for {@link cachedStatements}. */
export interface StatementCacheOptions {
  /**
   * Most statements kept; the least recently used one is dropped beyond it, so applications
   * that generate many distinct SQL texts stay bounded. A positive integer; default 256.
   */
  readonly maxStatements?: number | undefined
}

const DEFAULT_MAX_STATEMENTS = 256

/**
 * Returns a `SqliteDatabase` for `new SqliteDialect({ database })` that delegates to `database`
 * and reuses prepared statements by SQL text (least recently used first out). Safe with Kysely
 * because its SQLite driver serialises every query (and every stream) on the one connection, so
 * a cached statement is never run twice at once; SQLite re-prepares a cached statement by itself
 * after a schema change. Statement modes (`safeIntegers`, …) are those in effect when a text is
 * first prepared. `close()` empties the cache and closes `database`. Throws `TypeError` for an
 * invalid `maxStatements`.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3'
 * import { Kysely, SqliteDialect } from 'kysely'
 * import { cachedStatements } from '@apigw-ws/store-kysely'
 *
 * const database = cachedStatements(new Database('ws.db'))
 * const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) })
 * ```
 */
export function cachedStatements(
  database: SqliteDatabase,
  options: StatementCacheOptions = {},
): SqliteDatabase {
  const max = options.maxStatements ?? DEFAULT_MAX_STATEMENTS
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
    throw new TypeError('cachedStatements: option "maxStatements" must be a positive integer')
  }
  // A Map iterates in insertion order; re-inserting on every hit keeps the least recently used
  // statement first, where eviction takes it from.
  const cache = new Map<string, SqliteStatement>()
  return {
    close(): void {
      cache.clear()
      database.close()
    },
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql)
      if (cached !== undefined) {
        cache.delete(sql)
        cache.set(sql, cached)
        return cached
      }
      const statement = database.prepare(sql)
      cache.set(sql, statement)
      if (cache.size > max) {
        const oldest = cache.keys().next()
        if (oldest.done !== true) cache.delete(oldest.value)
      }
      return statement
    },
  }
}
