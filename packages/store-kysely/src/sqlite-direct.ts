/**
 * The direct SQLite path: the store's compiled statements executed straight on the
 * better-sqlite3 `Database` behind the Kysely instance, as cached prepared statements, run
 * synchronously. Kysely's SQLite driver prepares every statement anew and hands each query
 * through its connection mutex and a chain of promises; for the store's short statements that
 * costs more than running them. The SQL is the same text Kysely compiled, with the same
 * parameters, so results are identical.
 *
 * Safety with Kysely on the same connection: a synchronous statement cannot interleave with
 * another statement, but a Kysely transaction spans awaits, and a statement run directly while
 * one is open would join it. So while the connection is inside a transaction
 * (`database.inTransaction`) every query goes through Kysely instead, which waits for the
 * transaction to end.
 */
import type { CompiledQuery, QueryResult } from 'kysely'
import type { QueryRunner } from './prepared.js'

/** The part of a better-sqlite3 statement the direct path uses. */
export interface DirectSqliteStatement {
  /** Whether the statement returns rows (a `select` or a `returning` clause). */
  readonly reader: boolean
  all(...parameters: unknown[]): unknown[]
  run(...parameters: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint }
}

/** The part of a better-sqlite3 `Database` the direct path uses. */
export interface DirectSqliteDatabase {
  /** `true` while a transaction is open on the connection. */
  readonly inTransaction: boolean
  prepare(sql: string): DirectSqliteStatement
}

/**
 * A `QueryRunner` executing on `database` directly, each distinct SQL text prepared once (the
 * store compiles a fixed set of statements, so the cache stays small); through `fallback` while
 * a transaction is open. Resolves or rejects as the statement did; never throws synchronously.
 */
export function directSqliteRunner(
  database: DirectSqliteDatabase,
  fallback: QueryRunner,
): QueryRunner {
  const statements = new Map<string, DirectSqliteStatement>()
  return {
    executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
      if (database.inTransaction) return fallback.executeQuery(query)
      try {
        let statement = statements.get(query.sql)
        if (statement === undefined) {
          statement = database.prepare(query.sql)
          statements.set(query.sql, statement)
        }
        const parameters = query.parameters as unknown[]
        if (statement.reader) {
          return Promise.resolve({ rows: statement.all(...parameters) as R[] })
        }
        const { changes, lastInsertRowid } = statement.run(...parameters)
        return Promise.resolve({
          rows: [],
          numAffectedRows: BigInt(changes),
          insertId: BigInt(lastInsertRowid),
        })
      } catch (error) {
        return Promise.reject(error)
      }
    },
  }
}
