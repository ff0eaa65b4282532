import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { skipWithout } from '../../../test/services.js'
import {
  describeEachDatabase,
  dumpTables,
  type PostgresTestDatabase,
  postgresSchema,
  type TestDatabase,
  uniquePrefix,
} from '../test/databases.js'
import { kyselyStore, migrate, migrations, migrationTableNames } from './index.js'

describeEachDatabase('migrations', ({ open }) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await open()
  })
  afterAll(async () => {
    await database?.close()
  })

  // The tables and views of this file's own schema only: Kysely's introspection reads every schema of the
  // shared database, and fails when another test file drops its schema at the same moment.
  async function tables(): Promise<string[]> {
    const query =
      database.dialect === 'postgres'
        ? sql<{ name: string }>`select table_name as name from information_schema.tables
            where table_schema = current_schema()`
        : sql<{ name: string }>`select name from sqlite_master where type in ('table', 'view')`
    const { rows } = await query.execute(database.db)
    return rows.map((row) => row.name).sort()
  }

  it('creates every table on an empty database and changes nothing on a second run', async () => {
    const prefix = uniquePrefix('m')
    const first = await migrate(database.db, { tablePrefix: prefix })
    expect(first).toEqual([
      { migrationName: '0001_initial', direction: 'Up', status: 'Success' },
      { migrationName: '0002_channel_count', direction: 'Up', status: 'Success' },
      { migrationName: '0003_postgres_admit', direction: 'Up', status: 'Success' },
      { migrationName: '0004_postgres_admit_message', direction: 'Up', status: 'Success' },
    ])
    const mine = (await tables()).filter((name) => name.startsWith(prefix))
    expect(mine).toEqual(
      [
        'connections',
        'migrations',
        'migrations_lock',
        'rate_limits',
        'subscriptions',
        'tokens',
      ].map((name) => `${prefix}${name}`),
    )
    const before = await dumpTables(database.db, prefix)
    expect(await migrate(database.db, { tablePrefix: prefix })).toEqual([])
    expect(await dumpTables(database.db, prefix)).toBe(before)
  })

  it('keeps two prefixes side by side, each with its own migration table', async () => {
    const a = uniquePrefix('a')
    const b = uniquePrefix('b')
    await migrate(database.db, { tablePrefix: a })
    await migrate(database.db, { tablePrefix: b })
    const names = await tables()
    expect(names).toContain(migrationTableNames(a).migrationTableName)
    expect(names).toContain(migrationTableNames(b).migrationTableName)
    const storeA = kyselyStore({ db: database.db, tablePrefix: a })
    const storeB = kyselyStore({ db: database.db, tablePrefix: b })
    await storeA.limits.hit('k', { limit: 5, windowMs: 1000 }, 0)
    await storeA.limits.hit('k', { limit: 5, windowMs: 1000 }, 0)
    expect((await storeB.limits.hit('k', { limit: 5, windowMs: 1000 }, 0)).count).toBe(1)
  })

  it('creates the indexes the queries rely on', async () => {
    const prefix = uniquePrefix('i')
    await migrate(database.db, { tablePrefix: prefix })
    const indexQuery =
      database.dialect === 'postgres'
        ? sql<{ name: string }>`select indexname as name from pg_indexes
            where schemaname = current_schema() and tablename like ${`${prefix}%`}`
        : sql<{ name: string }>`select name from sqlite_master
            where type = 'index' and tbl_name like ${`${prefix}%`} and sql is not null`
    const { rows } = await indexQuery.execute(database.db)
    const names = rows.map((r) => r.name.slice(prefix.length))
    expect(names).toEqual(
      expect.arrayContaining([
        'connections_user_idx',
        'connections_disconnected_idx',
        'connections_connected_idx',
        'subscriptions_channel_idx',
        'tokens_expires_idx',
        'rate_limits_reset_idx',
      ]),
    )
  })

  it('runs each migration exactly once when many migrators start together', async () => {
    const prefix = uniquePrefix('c')
    const runs = await Promise.all(
      Array.from({ length: 8 }, () => migrate(database.db, { tablePrefix: prefix })),
    )
    // One migrator may run 0001 and 0003 while another runs 0002 between them (the lock is taken
    // per migration), so compare the names each ran exactly once, in name order.
    expect(
      runs
        .flat()
        .map((run) => run.migrationName)
        .sort(),
    ).toEqual(Object.keys(migrations()))
    const { rows } = await sql<{ name: string }>`select name from ${sql.table(
      migrationTableNames(prefix).migrationTableName,
    )} order by name`.execute(database.db)
    expect(rows.map((row) => row.name)).toEqual(Object.keys(migrations()))
  })

  it('rolls a failing migration back whole and records nothing', async () => {
    const prefix = uniquePrefix('f')
    // A view where the migration creates a table: `if not exists` skips it, its index fails.
    await sql`create view ${sql.table(`${prefix}rate_limits`)} as select 1 as reset_at`.execute(
      database.db,
    )
    const failure = await migrate(database.db, { tablePrefix: prefix }).catch((e: unknown) => e)
    expect((failure as Error).message).toMatch(/migration "0001_initial"/)
    const left = (await tables()).filter((name) => name.startsWith(prefix))
    expect(left).toEqual([
      `${prefix}migrations`,
      `${prefix}migrations_lock`,
      `${prefix}rate_limits`, // the view
    ])
    const { rows } = await sql`select name from ${sql.table(`${prefix}migrations`)}`.execute(
      database.db,
    )
    expect(rows).toEqual([])
    await sql`drop view ${sql.table(`${prefix}rate_limits`)}`.execute(database.db)
    expect(await migrate(database.db, { tablePrefix: prefix })).toHaveLength(
      Object.keys(migrations()).length,
    )
  })

  it('refuses a database that a newer version migrated', async () => {
    const prefix = uniquePrefix('n')
    await migrate(database.db, { tablePrefix: prefix })
    await sql`insert into ${sql.table(`${prefix}migrations`)} (name, timestamp)
      values ('9999_future', '2030-01-01T00:00:00.000Z')`.execute(database.db)
    const failure = await migrate(database.db, { tablePrefix: prefix }).catch((e: unknown) => e)
    expect(((failure as Error).cause as Error).message).toMatch(/9999_future/)
  })

  it('0002 counts the channels of connections created before it', async () => {
    const prefix = uniquePrefix('c')
    const all = migrations({ tablePrefix: prefix })
    await all['0001_initial']?.up(database.db)
    const t = (name: string) => sql.table(`${prefix}${name}`)
    await sql`insert into ${t('connections')} (id, connected_at, last_seen_at) values ('old', 1, 1), ('bare', 1, 1)`.execute(
      database.db,
    )
    await sql`insert into ${t('subscriptions')} (connection_id, channel) values ('old', 'a'), ('old', 'b')`.execute(
      database.db,
    )
    await all['0002_channel_count']?.up(database.db)
    const { rows } = await sql<{
      id: string
      n: number | string
    }>`select id, channel_count as n from ${t('connections')} order by id`.execute(database.db)
    expect(rows.map((row) => [row.id, Number(row.n)])).toEqual([
      ['bare', 0],
      ['old', 2],
    ])
    await all['0002_channel_count']?.down?.(database.db)
    await all['0001_initial']?.down?.(database.db)
  })

  it('0003 and 0004 create the PostgreSQL functions of their prefix, and drop them on down', async () => {
    const prefix = uniquePrefix('p')
    await migrate(database.db, { tablePrefix: prefix })
    const expected = database.dialect === 'postgres' ? ['admit', 'admit_message'] : []
    expect(await functionsOf(prefix)).toEqual(expected)
    expect(await migrate(database.db, { tablePrefix: prefix })).toEqual([])
    expect(await functionsOf(prefix)).toEqual(expected)
    const all = migrations({ tablePrefix: prefix })
    await all['0004_postgres_admit_message']?.down(database.db)
    expect(await functionsOf(prefix)).toEqual(expected.filter((name) => name === 'admit'))
    // Up again on a database that has it already (`create or replace`): nothing to trip over.
    await all['0004_postgres_admit_message']?.up(database.db)
    await all['0004_postgres_admit_message']?.up(database.db)
    expect(await functionsOf(prefix)).toEqual(expected)
  })

  /** The store's functions for `prefix` in this file's schema (none on SQLite). */
  async function functionsOf(prefix: string): Promise<string[]> {
    if (database.dialect !== 'postgres') return []
    const { rows } = await sql<{ name: string }>`select p.proname as name from pg_proc p
      join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = current_schema() and p.proname like ${`${prefix}%`}
      order by p.proname`.execute(database.db)
    return rows.map((row) => row.name.slice(prefix.length))
  }

  it('runs down cleanly', async () => {
    const prefix = uniquePrefix('d')
    await migrate(database.db, { tablePrefix: prefix })
    const initial = migrations({ tablePrefix: prefix })['0001_initial']
    await initial?.down?.(database.db)
    const left = (await tables()).filter((name) => name.startsWith(prefix))
    expect(left).toEqual([`${prefix}migrations`, `${prefix}migrations_lock`])
  })
})

describe('migrate failures and options', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'apigw-migrate-'))
  })
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('rejects with the failing migration named and the database error as cause', async () => {
    const file = join(dir, 'ro.sqlite')
    new Database(file).close()
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new Database(file, { readonly: true }) }),
    })
    const failure = await migrate(db).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Error)
    expect((failure as Error).message).toMatch(/table prefix "apigw_"/)
    expect((failure as Error).cause).toBeInstanceOf(Error)
    await db.destroy()
  })

  it('validates the prefix and the dialect before touching the database', () => {
    expect(() => migrations({ tablePrefix: 'Bad' })).toThrow(/tablePrefix/)
    expect(() => migrations({ dialect: 'mssql' as 'sqlite' })).toThrow(/dialect/)
    expect(() => migrationTableNames('9')).toThrow(TypeError)
    expect(Object.keys(migrations())).toEqual([
      '0001_initial',
      '0002_channel_count',
      '0003_postgres_admit',
      '0004_postgres_admit_message',
    ])
    expect(migrationTableNames('x_')).toEqual({
      migrationTableName: 'x_migrations',
      migrationLockTableName: 'x_migrations_lock',
    })
  })
})

// Issue 10 item 4: the schema is chosen with `search_path`, as the README advises.
describe.skipIf(skipWithout('postgres', 'migrating into schemas chosen by search_path'))(
  'migrate into schemas chosen with search_path',
  () => {
    let first: PostgresTestDatabase
    let second: PostgresTestDatabase
    beforeAll(async () => {
      first = await postgresSchema(2)
      second = await postgresSchema(2)
    })
    afterAll(async () => {
      await first?.close()
      await second?.close()
    })

    async function tablesIn(schema: string): Promise<string[]> {
      const { rows } = await sql<{ name: string }>`select table_name as name
        from information_schema.tables where table_schema = ${schema} order by table_name`.execute(
        first.db,
      )
      return rows.map((row) => row.name)
    }

    it('creates a full set of tables in each schema of one database', async () => {
      const all = Object.keys(migrations()).length
      expect(await migrate(first.db)).toHaveLength(all)
      // The second pool searches its own schema first, then the one already migrated.
      const { db } = second.openPool(2, [second.schema, first.schema])
      expect(await migrate(db)).toHaveLength(all)
      const expected = [
        'apigw_connections',
        'apigw_migrations',
        'apigw_migrations_lock',
        'apigw_rate_limits',
        'apigw_subscriptions',
        'apigw_tokens',
      ]
      expect(await tablesIn(first.schema)).toEqual(expected)
      expect(await tablesIn(second.schema)).toEqual(expected)
      expect(await migrate(db)).toEqual([])

      const storeA = kyselyStore({ db: first.db })
      const storeB = kyselyStore({ db: second.db })
      await storeA.limits.hit('k', { limit: 5, windowMs: 1000 }, 0)
      expect((await storeB.limits.hit('k', { limit: 5, windowMs: 1000 }, 0)).count).toBe(1)

      // Each schema has its own functions, over its own tables: a message admitted in the
      // second schema touches and counts there only.
      const functions = await sql<{ schema: string }>`select n.nspname as schema from pg_proc p
        join pg_namespace n on n.oid = p.pronamespace
        where p.proname = 'apigw_admit_message' and n.nspname in (${first.schema}, ${second.schema})
        order by n.nspname`.execute(first.db)
      expect(functions.rows.map((row) => row.schema).sort()).toEqual(
        [first.schema, second.schema].sort(),
      )
      const connection = { connectionId: 'c1', userId: 'u', channels: [], apiId: null }
      await storeB.connections.create({ ...connection, stage: null, domainName: null }, 0)
      const limit = { key: 'k', rule: { limit: 5, windowMs: 1000 } }
      expect(await storeA.admitMessage({ connectionId: 'c1', limit }, 1)).toEqual({
        admitted: false,
        code: 'CONNECTION_UNKNOWN',
      })
      const admitted = await storeB.admitMessage({ connectionId: 'c1', limit }, 1)
      expect(admitted.admitted && admitted.connection.requestCount).toBe(1)
      expect((await storeB.limits.hit('k', { limit: 5, windowMs: 1000 }, 2)).count).toBe(3)
      expect((await storeA.limits.hit('k', { limit: 5, windowMs: 1000 }, 2)).count).toBe(2)
    })
  },
)
