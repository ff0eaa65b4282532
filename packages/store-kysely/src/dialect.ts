/**
 * Which SQL dialect a user's `Kysely` instance speaks. The store writes the same statements for
 * both dialects except where their SQL differs (channel aggregation, identity columns), so the
 * dialect is settled once, at construction: from the explicit option, or from the instance's
 * adapter.
 */
import { PostgresAdapter, type QueryExecutor, SqliteAdapter } from 'kysely'

/** The dialects the Kysely store supports. */
export type KyselyStoreDialect = 'sqlite' | 'postgres'

const DIALECTS: ReadonlySet<string> = new Set<KyselyStoreDialect>(['sqlite', 'postgres'])

/** Returns `value` if it names a supported dialect; `TypeError` naming the option otherwise. */
export function checkDialect(value: unknown): KyselyStoreDialect {
  if (typeof value === 'string' && DIALECTS.has(value)) return value as KyselyStoreDialect
  throw new TypeError(
    `kysely store: option "dialect" must be 'sqlite' or 'postgres' (got ${JSON.stringify(value)})`,
  )
}

/**
 * Returns `explicit` when given (after checking it names a supported dialect), otherwise the
 * dialect of `db`'s adapter (`SqliteAdapter` → `'sqlite'`, `PostgresAdapter` → `'postgres'`,
 * subclasses included). Throws `TypeError` naming the `dialect` option for anything else, e.g.
 * MySQL, or an adapter from a second copy of kysely that `instanceof` cannot recognise.
 */
export function resolveDialect(
  db: { getExecutor(): QueryExecutor },
  explicit: unknown,
): KyselyStoreDialect {
  if (explicit !== undefined) return checkDialect(explicit)
  const adapter = db.getExecutor().adapter
  if (adapter instanceof SqliteAdapter) return 'sqlite'
  if (adapter instanceof PostgresAdapter) return 'postgres'
  throw new TypeError(
    `kysely store: unsupported Kysely dialect (adapter ${adapter.constructor.name}); ` +
      `the store supports SQLite and PostgreSQL. If this adapter speaks one of them, pass the ` +
      `option "dialect": 'sqlite' | 'postgres'`,
  )
}
