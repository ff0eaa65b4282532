/**
 * The store's schema as Kysely migrations, and `migrate()`, which applies them with Kysely's
 * `Migrator` under migration tables of their own (`<prefix>migrations`,
 * `<prefix>migrations_lock`), so they never mix with the application's migrations. DDL runs only
 * here, when the application asks for it; the store itself never creates or alters tables.
 */
import { type Kysely, type Migration, type MigrationResult, Migrator, sql } from 'kysely'
import { checkDialect, type KyselyStoreDialect, resolveDialect } from './dialect.js'
import { checkTablePrefix, DEFAULT_TABLE_PREFIX, tableNames } from './schema.js'

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

function initial(prefix: string, explicit: KyselyStoreDialect | undefined): Migration {
  const t = tableNames(prefix)
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const dialect = resolveDialect(db, explicit)
      // Kysely runs SQLite migrations outside a transaction; one of our own keeps the schema
      // all-or-nothing there too. PostgreSQL migrations already run inside the Migrator's.
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
export function migrations(options: MigrationOptions = {}): Record<string, Migration> {
  const prefix = checkTablePrefix(options.tablePrefix ?? DEFAULT_TABLE_PREFIX)
  if (options.dialect !== undefined) checkDialect(options.dialect)
  return Object.freeze({ '0001_initial': initial(prefix, options.dialect) })
}

/**
 * Brings the store's tables for `tablePrefix` up to date with Kysely's `Migrator`, recording
 * progress in `<prefix>migrations` (locked through `<prefix>migrations_lock`; on PostgreSQL
 * Kysely also takes an advisory lock, so instances starting together migrate one at a time).
 * Idempotent: on an up-to-date database it changes nothing and resolves `[]`. Resolves the
 * migrations it ran; rejects with an `Error` (the failure as `cause`) when one fails, in which
 * case PostgreSQL rolls the whole run back (DDL is transactional there) while SQLite keeps the
 * migrations that completed. Plugins on `db` are not applied.
 */
export async function migrate<DB>(
  db: Kysely<DB>,
  options: MigrationOptions = {},
): Promise<readonly MigrationResult[]> {
  const prefix = checkTablePrefix(options.tablePrefix ?? DEFAULT_TABLE_PREFIX)
  const record = migrations({ tablePrefix: prefix, dialect: options.dialect })
  const migrator = new Migrator({
    db: db.withoutPlugins(),
    provider: { getMigrations: async () => record },
    ...migrationTableNames(prefix),
  })
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error')
    throw new Error(
      `migrate: ${failed ? `migration "${failed.migrationName}"` : 'migrating'} ` +
        `for table prefix "${prefix}" failed`,
      { cause: error },
    )
  }
  return results
}
