/**
 * Test databases for the Kysely store: SQLite in memory, SQLite in a temporary file, and
 * PostgreSQL from `DATABASE_URL`. Every PostgreSQL test file works in a schema of its own
 * (dropped at the end) and every store in a table prefix of its own, so concurrent test runs and
 * test files never see each other's rows. Without `DATABASE_URL` the PostgreSQL cases are skipped
 * with a printed reason on a developer's machine, and fail with `APIGW_WS_REQUIRE_SERVICES=1`
 * (see `test/services.ts` at the repository root).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely'
import pg from 'pg'
import { describe } from 'vitest'
import { DATABASE_URL, skipWithout } from '../../../test/services.js'
import type { KyselyStoreDialect } from '../src/index.js'
import { migrationTableNames } from '../src/migrations.js'
import { tableNames } from '../src/schema.js'

/**
 * `true` when the PostgreSQL tests named by `what` must be skipped (no `DATABASE_URL`, printed);
 * throws instead when `APIGW_WS_REQUIRE_SERVICES=1`, so CI cannot pass by skipping them.
 */
export function skipWithoutPostgres(what: string): boolean {
  return skipWithout('postgres', `[store-kysely] ${what}`)
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
  /** SQLite only: the better-sqlite3 database behind `db` (for the store's direct path). */
  readonly sqlite?: Database.Database
  readonly close: () => Promise<void>
}

/** A fresh in-memory SQLite database. */
export function sqliteMemory(): TestDatabase {
  const sqlite = new Database(':memory:')
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) })
  return {
    name: 'sqlite (memory)',
    dialect: 'sqlite',
    db,
    sqlite,
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
    sqlite: database,
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
  /** Whether the database is a service that may be missing (PostgreSQL) rather than a file. */
  readonly isService: boolean
  readonly open: () => Promise<TestDatabase>
}

/** Every database: SQLite always, PostgreSQL from `DATABASE_URL`. */
export const DATABASES: readonly DatabaseTarget[] = [
  { name: 'sqlite (memory)', isService: false, open: async () => sqliteMemory() },
  { name: 'sqlite (file)', isService: false, open: async () => sqliteFile() },
  { name: 'postgres', isService: true, open: () => postgresSchema() },
]

/**
 * Registers `body` once per database in a `describe` titled `<title> on <database>`. Without
 * `DATABASE_URL` the PostgreSQL block is registered as skipped (so it shows in the report), or,
 * with `APIGW_WS_REQUIRE_SERVICES=1`, the test file fails.
 */
export function describeEachDatabase(title: string, body: (target: DatabaseTarget) => void): void {
  for (const target of DATABASES) {
    const skip = target.isService && skipWithoutPostgres(`${title} on ${target.name}`)
    describe.skipIf(skip)(`${title} on ${target.name}`, () => body(target))
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
