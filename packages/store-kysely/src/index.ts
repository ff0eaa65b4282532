/**
 * `@apigw-ws/store-kysely`: the apigw-ws store over Kysely, for SQLite (better-sqlite3) and
 * PostgreSQL (pg), with its schema as Kysely migrations. The public API is `kyselyStore` and the
 * migration helpers; everything else is internal.
 */
export type { KyselyStoreDialect } from './dialect.js'
export type { KyselyStoreOptions } from './kysely-store.js'
export { kyselyStore } from './kysely-store.js'
export type { MigrationOptions, MigrationResult, StoreMigration } from './migrations.js'
export { migrate, migrations, migrationTableNames } from './migrations.js'
export type { ErrorEmittingClient, ErrorEmittingPool, PoolErrorOptions } from './pool-errors.js'
export { handlePoolErrors } from './pool-errors.js'
export type { DirectSqliteDatabase, DirectSqliteStatement } from './sqlite-direct.js'
export type { StatementCacheOptions } from './sqlite-statement-cache.js'
export { cachedStatements } from './sqlite-statement-cache.js'
