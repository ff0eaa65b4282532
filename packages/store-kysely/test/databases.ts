/**
 * Test databases for the Kysely store: SQLite in memory, SQLite in a temporary file, and
 * PostgreSQL from `DATABASE_URL`. Every PostgreSQL test file works in a schema of its own
 * (dropped at the end) and every store in a table prefix of its own, so concurrent test runs and
 * test files never see each other's rows. Without `DATABASE_URL` the PostgreSQL cases are skipped
 * with a printed reason.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely'
import pg from 'pg'
import { describe } from 'vitest'
import type { KyselyStoreDialect } from '../src/index.js'
import { migrationTableNames } from '../src/migrations.js'
import { tableNames } from '../src/schema.js'

/** The PostgreSQL server for tests, or `undefined` when none is configured. */
export const DATABASE_URL: string | undefined = process.env.DATABASE_URL || undefined

/** Why PostgreSQL tests are skipped, printed once per test file that skips them. */
export function warnIfNoPostgres(what: string): boolean {
  if (DATABASE_URL !== undefined) return false
  console.warn(
    `[store-kysely] skipping PostgreSQL ${what}: DATABASE_URL is not set ` +
      '(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)',
  )
  return true
}

/** A unique, valid table prefix (≤ 31 characters). */
export function uniquePrefix(tag = 't'): string {
  return `${tag}_${randomBytes(5).toString('hex')}_`
}

/** One database the store can run on. */
export interface TestDatabase {
  readonly name: string
  readonly dialect: KyselyStoreDialect
  readonly db: Kysely<unknown>
  readonly close: () => Promise<void>
}

/** A fresh in-memory SQLite database. */
export function sqliteMemory(): TestDatabase {
  const db = new Kysely<unknown>({
    dialect: new SqliteDialect({ database: new Database(':memory:') }),
  })
  return {
    name: 'sqlite (memory)',
    dialect: 'sqlite',
    db,
    close: () => db.destroy(),
  }
}

/** A fresh SQLite database file in a temporary directory, removed on close. */
export function sqliteFile(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'apigw-store-kysely-'))
  const file = join(dir, 'store.sqlite')
  const database = new Database(file)
  database.pragma('journal_mode = WAL')
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) })
  return {
    name: 'sqlite (file)',
    dialect: 'sqlite',
    db,
    close: async () => {
      await db.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function pgPool(searchPath: readonly string[], max: number): pg.Pool {
  return new pg.Pool({
    connectionString: DATABASE_URL,
    max,
    options: `-c search_path=${searchPath.join(',')}`,
  })
}

/** A PostgreSQL test database: a schema of its own, with access to its pools. */
export interface PostgresTestDatabase extends TestDatabase {
  /** The schema every pool's `search_path` points at. */
  readonly schema: string
  /** The pool behind `db`. */
  readonly pool: pg.Pool
  /**
   * Opens another pool (its own connections) on the schema, closed with the database;
   * `searchPath` replaces the pool's `search_path` (default: the schema alone).
   */
  readonly openPool: (
    max: number,
    searchPath?: readonly string[],
  ) => { readonly db: Kysely<unknown>; readonly pool: pg.Pool }
}

/**
 * A PostgreSQL schema of its own on `DATABASE_URL`, with a pool of `max` connections whose
 * `search_path` points at it. Closing ends every pool and drops the schema with its tables.
 */
export async function postgresSchema(max = 10): Promise<PostgresTestDatabase> {
  if (DATABASE_URL === undefined) throw new Error('DATABASE_URL is not set')
  const schema = `apigw_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 })
  await admin.query(`create schema "${schema}"`)
  const opened: Kysely<unknown>[] = []
  const openPool = (size: number, searchPath: readonly string[] = [schema]) => {
    const pool = pgPool(searchPath, size)
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    opened.push(db)
    return { db, pool }
  }
  const main = openPool(max)
  return {
    name: 'postgres',
    dialect: 'postgres',
    db: main.db,
    schema,
    pool: main.pool,
    openPool,
    close: async () => {
      for (const db of opened) await db.destroy()
      try {
        await admin.query(`drop schema "${schema}" cascade`)
      } finally {
        await admin.end()
      }
    },
  }
}

/** A database the store is tested on. */
export interface DatabaseTarget {
  readonly name: string
  /** `false` for PostgreSQL without `DATABASE_URL`: its tests are reported as skipped. */
  readonly available: boolean
  readonly open: () => Promise<TestDatabase>
}

/** Every database: SQLite always, PostgreSQL when `DATABASE_URL` is set (skipped otherwise). */
export const DATABASES: readonly DatabaseTarget[] = [
  { name: 'sqlite (memory)', available: true, open: async () => sqliteMemory() },
  { name: 'sqlite (file)', available: true, open: async () => sqliteFile() },
  { name: 'postgres', available: DATABASE_URL !== undefined, open: () => postgresSchema() },
]

/**
 * Registers `body` once per database in a `describe` titled `<title> on <database>`; the
 * PostgreSQL block is registered as skipped (so it shows in the report) without `DATABASE_URL`.
 */
export function describeEachDatabase(title: string, body: (target: DatabaseTarget) => void): void {
  for (const target of DATABASES) {
    describe.skipIf(!target.available)(`${title} on ${target.name}`, () => body(target))
  }
}

/**
 * Every row of every table of the store with `prefix` (including its migration tables), as
 * JSON text: what the database holds at rest.
 */
export async function dumpTables(db: Kysely<unknown>, prefix: string): Promise<string> {
  const names = [
    ...Object.values(tableNames(prefix)),
    ...Object.values(migrationTableNames(prefix)),
  ]
  const dump: Record<string, unknown[]> = {}
  for (const name of names) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(
      db,
    )
    dump[name] = rows
  }
  return JSON.stringify(dump, (_key, value) =>
    typeof value === 'bigint' ? value.toString() : value,
  )
}
