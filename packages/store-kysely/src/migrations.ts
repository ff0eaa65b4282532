/**
 * The store's schema as migrations, and `migrate()`, a small migrator of our own (Kysely's
 * `Migrator` moved between the versions our peer range admits) that applies them under
 * migration tables of their own (`<prefix>migrations`, `<prefix>migrations_lock`, with the
 * columns Kysely's `Migrator` uses, so databases it migrated stay valid), so they never mix with
 * the application's migrations. Every table name is unqualified, so PostgreSQL resolves it
 * through `search_path`. DDL runs only here, when the application asks for it; the store itself
 * never creates or alters tables.
 */
import { type Kysely, sql } from 'kysely'
import { checkDialect, type KyselyStoreDialect, resolveDialect } from './dialect.js'
import { createAdmitFunction, dropAdmitFunction } from './postgres-admit.js'
import { createAdmitMessageFunction, dropAdmitMessageFunction } from './postgres-admit-message.js'
import { checkTablePrefix, DEFAULT_TABLE_PREFIX, tableNames } from './schema.js'

/**
 * One migration: `up` applies it, `down` reverts it. Structurally a Kysely `Migration`, so the
 * record {@link migrations} returns also fits a `Migrator` of the application's own.
 */
export interface StoreMigration {
  /** Applies the migration on `db` (inside a transaction when run by {@link migrate}). */
  up(db: Kysely<unknown>): Promise<void>
  /** Reverts the migration on `db`. */
  down(db: Kysely<unknown>): Promise<void>
}

/** A migration that {@link migrate} ran; the shape of Kysely's `MigrationResult` on success. */
export interface MigrationResult {
  /** The migration's name, a key of {@link migrations}. */
  readonly migrationName: string
  /** Always `'Up'`: `migrate` only migrates up. */
  readonly direction: 'Up'
  /** Always `'Success'`: a failure rejects instead. */
  readonly status: 'Success'
}

/** Options for {@link migrations} and {@link migrate}. */
export interface MigrationOptions {
  /** Prefix of every table; must equal the store's `tablePrefix`. Default `'apigw_'`. */
  readonly tablePrefix?: string | undefined
  /** The SQL dialect; detected from the instance's adapter when omitted. */
  readonly dialect?: KyselyStoreDialect | undefined
}

/** Names of the migration bookkeeping tables for a prefix. */
export function migrationTableNames(tablePrefix: string = DEFAULT_TABLE_PREFIX): {
  readonly migrationTableName: string
  readonly migrationLockTableName: string
} {
  const prefix = checkTablePrefix(tablePrefix)
  return Object.freeze({
    migrationTableName: `${prefix}migrations`,
    migrationLockTableName: `${prefix}migrations_lock`,
  })
}

/** Column type of connection ids: byte-order collation on PostgreSQL, so pages sort like JS. */
function idType(dialect: KyselyStoreDialect) {
  return dialect === 'postgres' ? sql`varchar(128) collate "C"` : sql`varchar(128)`
}

function initial(prefix: string, explicit: KyselyStoreDialect | undefined): StoreMigration {
  const t = tableNames(prefix)
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const dialect = resolveDialect(db, explicit)
      // `migrate` runs every migration in a transaction; an application's own Kysely `Migrator`
      // runs SQLite migrations outside one, so a transaction of our own keeps the schema
      // all-or-nothing there too.
      if (dialect === 'sqlite' && !db.isTransaction) {
        await db.transaction().execute((trx) => createSchema(trx, t, dialect))
      } else {
        await createSchema(db, t, dialect)
      }
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable(t.rate_limits).ifExists().execute()
      await db.schema.dropTable(t.tokens).ifExists().execute()
      await db.schema.dropTable(t.subscriptions).ifExists().execute()
      await db.schema.dropTable(t.connections).ifExists().execute()
    },
  }
}

/**
 * 0002: a per-connection channel counter, so `subscribe` can enforce the channel limit exactly
 * by checking and bumping one column under the connection's row lock. Existing rows are counted.
 */
function channelCount(prefix: string, explicit: KyselyStoreDialect | undefined): StoreMigration {
  const t = tableNames(prefix)
  const run = async (db: Kysely<unknown>) => {
    await db.schema
      .alterTable(t.connections)
      .addColumn('channel_count', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute()
    await sql`update ${sql.table(t.connections)} set ${sql.ref('channel_count')} = (select count(*) from ${sql.table(t.subscriptions)} where ${sql.ref(`${t.subscriptions}.connection_id`)} = ${sql.ref(`${t.connections}.id`)})`.execute(
      db,
    )
  }
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const dialect = resolveDialect(db, explicit)
      if (dialect === 'sqlite' && !db.isTransaction) {
        await db.transaction().execute(run)
      } else {
        await run(db)
      }
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable(t.connections).dropColumn('channel_count').execute()
    },
  }
}

/**
 * A migration that, on PostgreSQL only, creates a PL/pgSQL function of the store with `create`
 * (and drops it with `drop`); nothing on SQLite, which runs the store's steps in process.
 */
function postgresFunction(
  prefix: string,
  explicit: KyselyStoreDialect | undefined,
  create: (db: Kysely<unknown>, prefix: string) => Promise<void>,
  drop: (db: Kysely<unknown>, prefix: string) => Promise<void>,
): StoreMigration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (resolveDialect(db, explicit) === 'postgres') await create(db, prefix)
    },
    async down(db: Kysely<unknown>): Promise<void> {
      if (resolveDialect(db, explicit) === 'postgres') await drop(db, prefix)
    },
  }
}

/**
 * Creates the tables and indexes. `IF NOT EXISTS` everywhere lets a run that was interrupted
 * between creating the schema and recording the migration be repeated.
 */
async function createSchema(
  db: Kysely<unknown>,
  t: ReturnType<typeof tableNames>,
  dialect: KyselyStoreDialect,
): Promise<void> {
  await db.schema
    .createTable(t.connections)
    .ifNotExists()
    .addColumn('id', idType(dialect), (c) => c.primaryKey())
    .addColumn('user_id', 'text')
    .addColumn('api_id', 'text')
    .addColumn('stage', 'text')
    .addColumn('domain_name', 'text')
    .addColumn('connected_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('request_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('disconnected_at', 'bigint')
    .execute()
  // `list({ userId })` reads connected rows of one user in id order.
  await db.schema
    .createIndex(`${t.connections}_user_idx`)
    .ifNotExists()
    .on(t.connections)
    .columns(['user_id', 'id'])
    .where(sql.ref('disconnected_at'), 'is', null)
    .execute()
  // `cleanup` selects by either timestamp.
  await db.schema
    .createIndex(`${t.connections}_disconnected_idx`)
    .ifNotExists()
    .on(t.connections)
    .column('disconnected_at')
    .execute()
  await db.schema
    .createIndex(`${t.connections}_connected_idx`)
    .ifNotExists()
    .on(t.connections)
    .column('connected_at')
    .execute()

  // `seq` orders a connection's channels by subscription; SQLite assigns an INTEGER PRIMARY
  // KEY as max + 1 (and keeps it through VACUUM), PostgreSQL uses an identity column.
  await db.schema
    .createTable(t.subscriptions)
    .ifNotExists()
    .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey(),
    )
    .addColumn('connection_id', idType(dialect), (c) =>
      c.notNull().references(`${t.connections}.id`).onDelete('cascade'),
    )
    .addColumn('channel', 'varchar(128)', (c) => c.notNull())
    .addUniqueConstraint(`${t.subscriptions}_unique`, ['connection_id', 'channel'])
    .execute()
  // `list({ channel })` filters by channel and pages by connection id.
  await db.schema
    .createIndex(`${t.subscriptions}_channel_idx`)
    .ifNotExists()
    .on(t.subscriptions)
    .columns(['channel', 'connection_id'])
    .execute()

  await db.schema
    .createTable(t.tokens)
    .ifNotExists()
    .addColumn('hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('session_hash', 'varchar(64)')
    .addColumn('channel', 'varchar(128)')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute()
  await db.schema
    .createIndex(`${t.tokens}_expires_idx`)
    .ifNotExists()
    .on(t.tokens)
    .column('expires_at')
    .execute()

  await db.schema
    .createTable(t.rate_limits)
    .ifNotExists()
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addColumn('reset_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex(`${t.rate_limits}_reset_idx`)
    .ifNotExists()
    .on(t.rate_limits)
    .column('reset_at')
    .execute()
}

/**
 * The store's migrations for a table prefix, keyed by name in the order they must run (a
 * record a Kysely `MigrationProvider` can return: `{ getMigrations: async () => migrations() }`).
 * Prefer {@link migrate}, which keeps them in migration tables of their own; merged into an
 * application's own `Migrator` their names must sort after the migrations already applied there.
 * Throws `TypeError` for an invalid `tablePrefix` or `dialect`.
 */
export function migrations(
  options: MigrationOptions = {},
): Readonly<Record<string, StoreMigration>> {
  const prefix = checkTablePrefix(options.tablePrefix ?? DEFAULT_TABLE_PREFIX)
  if (options.dialect !== undefined) checkDialect(options.dialect)
  return Object.freeze({
    '0001_initial': initial(prefix, options.dialect),
    '0002_channel_count': channelCount(prefix, options.dialect),
    // 0003: `<prefix>admit`, `$connect`'s store steps in one round trip (`postgres-admit.ts`).
    '0003_postgres_admit': postgresFunction(
      prefix,
      options.dialect,
      createAdmitFunction,
      dropAdmitFunction,
    ),
    // 0004: `<prefix>admit_message`, a message's touch and limit hit in one round trip
    // (`postgres-admit-message.ts`).
    '0004_postgres_admit_message': postgresFunction(
      prefix,
      options.dialect,
      createAdmitMessageFunction,
      dropAdmitMessageFunction,
    ),
  })
}

/** The id of the one row of the lock table (the id Kysely's `Migrator` uses). */
const LOCK_ROW = 'migration_lock'

/**
 * A 32-bit key for PostgreSQL's advisory lock while the bookkeeping tables are created: two
 * `create table if not exists` racing on one name can both pass the check and one then fails.
 */
function advisoryKey(text: string): number {
  // FNV-1a: a stable, well-spread 32-bit hash; collisions only make two prefixes wait for each other.
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  }
  return hash | 0
}

type MigrationTables = ReturnType<typeof migrationTableNames>

/** Creates the bookkeeping tables and the lock row when missing; safe to run concurrently. */
async function prepareBookkeeping(
  db: Kysely<unknown>,
  tables: MigrationTables,
  dialect: KyselyStoreDialect,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') {
      const key = advisoryKey(`apigw-ws:${tables.migrationLockTableName}`)
      await sql`select pg_advisory_xact_lock(${key})`.execute(trx)
    }
    await sql`create table if not exists ${sql.table(tables.migrationTableName)} (
      name varchar(255) not null primary key, timestamp varchar(255) not null)`.execute(trx)
    await sql`create table if not exists ${sql.table(tables.migrationLockTableName)} (
      id varchar(255) not null primary key, is_locked integer not null default 0)`.execute(trx)
    await sql`insert into ${sql.table(tables.migrationLockTableName)} (id, is_locked)
      values (${LOCK_ROW}, 0) on conflict (id) do nothing`.execute(trx)
  })
}

/**
 * Takes the migration lock for the rest of `trx`: the update locks the lock row on PostgreSQL
 * and takes SQLite's write lock, so a second migrator waits at this statement until `trx` ends.
 */
async function lock(trx: Kysely<unknown>, tables: MigrationTables): Promise<void> {
  await sql`update ${sql.table(tables.migrationLockTableName)} set is_locked = 1
    where id = ${LOCK_ROW}`.execute(trx)
}

async function unlock(trx: Kysely<unknown>, tables: MigrationTables): Promise<void> {
  await sql`update ${sql.table(tables.migrationLockTableName)} set is_locked = 0
    where id = ${LOCK_ROW}`.execute(trx)
}

async function appliedNames(trx: Kysely<unknown>, tables: MigrationTables): Promise<Set<string>> {
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(
    tables.migrationTableName,
  )}`.execute(trx)
  return new Set(rows.map((row) => row.name))
}

/**
 * Brings the store's tables for `tablePrefix` up to date, recording progress in
 * `<prefix>migrations`. Each pending migration runs in a transaction of its own that first takes
 * the lock in `<prefix>migrations_lock` and re-reads what is applied, so instances starting
 * together migrate one at a time and each migration runs exactly once. Tables are named without
 * a schema: on PostgreSQL they land in the first schema of the connection's `search_path`.
 * Idempotent: on an up-to-date database it changes nothing and resolves `[]`. Resolves the
 * migrations it ran, in order. Rejects with an `Error` (the failure as `cause`) when one fails;
 * that migration is rolled back, the ones before it stay applied. Also rejects, before running
 * anything, when the database records a migration this version does not know (a newer version
 * migrated it). Plugins on `db` are not applied. Throws `TypeError` for invalid options.
 */
export async function migrate<DB>(
  db: Kysely<DB>,
  options: MigrationOptions = {},
): Promise<readonly MigrationResult[]> {
  const prefix = checkTablePrefix(options.tablePrefix ?? DEFAULT_TABLE_PREFIX)
  const plain = db.withoutPlugins() as unknown as Kysely<unknown>
  const dialect = resolveDialect(plain, options.dialect)
  const record = migrations({ tablePrefix: prefix, dialect })
  const names = Object.keys(record).sort()
  const tables = migrationTableNames(prefix)
  const fail = (what: string, cause: unknown): Error =>
    new Error(`migrate: ${what} for table prefix "${prefix}" failed`, { cause })

  try {
    await prepareBookkeeping(plain, tables, dialect)
  } catch (error) {
    throw fail('preparing the migration tables', error)
  }
  const unknown = [...(await appliedNames(plain, tables))].filter((name) => !(name in record))
  if (unknown.length > 0) {
    throw fail(
      'checking the applied migrations',
      new Error(
        `the database records migrations this version does not know: ${unknown.join(', ')}`,
      ),
    )
  }

  const results: MigrationResult[] = []
  for (const name of names) {
    const migration = record[name] as StoreMigration
    let ran: boolean
    try {
      ran = await plain.transaction().execute(async (trx) => {
        await lock(trx, tables)
        const pending = !(await appliedNames(trx, tables)).has(name)
        if (pending) {
          await migration.up(trx)
          await sql`insert into ${sql.table(tables.migrationTableName)} (name, timestamp)
            values (${name}, ${new Date().toISOString()})`.execute(trx)
        }
        await unlock(trx, tables)
        return pending
      })
    } catch (error) {
      throw fail(`migration "${name}"`, error)
    }
    if (ran)
      results.push(Object.freeze({ migrationName: name, direction: 'Up', status: 'Success' }))
  }
  return Object.freeze(results)
}
