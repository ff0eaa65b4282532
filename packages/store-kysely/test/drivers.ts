/**
 * The database drivers and Kysely dialects, re-exported from inside this package so the root
 * benchmark (`bench/store-kysely.bench.ts`) loads exactly the copies the store itself resolves:
 * the store recognises its dialect with `instanceof`, which a second copy of kysely would defeat.
 */
export { default as Database } from 'better-sqlite3'
export { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
export { default as pg } from 'pg'
