/**
 * Opens the database a `DATABASE_URL` names, for `migrate` and `cleanup`: `postgres://` or
 * `postgresql://` through pg, `sqlite:<path>` through better-sqlite3 (an optional peer, loaded
 * only when asked for). The URL's password never appears in messages.
 */
import { handlePoolErrors } from '@apigw-ws/store-kysely'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import { UsageError } from './io.js'

/** An open database and how to close it. */
export interface OpenDatabase {
  readonly db: Kysely<unknown>
  readonly dialect: 'postgres' | 'sqlite'
  /** The URL without its password, for messages. */
  readonly displayUrl: string
  readonly close: () => Promise<void>
}

/** `url` with any password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@')
  }
}

/**
 * Opens `url`. Throws `UsageError` for a missing or unsupported URL or a missing driver. A
 * PostgreSQL connection dropped by the server is reported to `onError` instead of crashing the
 * process (the query in flight still fails).
 */
export async function openDatabase(
  url: string | undefined,
  onError: (error: Error) => void = () => {},
): Promise<OpenDatabase> {
  if (url === undefined || url === '') {
    throw new UsageError(
      'no database: pass --database-url or set DATABASE_URL (postgres://… or sqlite:<path>)',
    )
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { default: pg } = await import('pg')
    const pool = handlePoolErrors(new pg.Pool({ connectionString: url, max: 2 }), { onError })
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    return { db, dialect: 'postgres', displayUrl: redactUrl(url), close: () => db.destroy() }
  }
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (path === '') throw new UsageError('sqlite: URLs need a path (sqlite:./app.sqlite)')
    let Database: typeof import('better-sqlite3')
    try {
      // A CommonJS module: Node's ESM loader puts it under `default`.
      const module = (await import('better-sqlite3')) as unknown as {
        readonly default: typeof import('better-sqlite3')
      }
      Database = module.default
    } catch {
      throw new UsageError(
        'sqlite: URLs need the better-sqlite3 package: npm install better-sqlite3',
      )
    }
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(path) }) })
    return { db, dialect: 'sqlite', displayUrl: url, close: () => db.destroy() }
  }
  throw new UsageError(
    `unsupported database URL ${redactUrl(url)}: use postgres://… or sqlite:<path>`,
  )
}
