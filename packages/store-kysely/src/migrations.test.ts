import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  describeEachDatabase,
  dumpTables,
  type TestDatabase,
  uniquePrefix,
  warnIfNoPostgres,
} from '../test/databases.js'
import { kyselyStore, migrate, migrations, migrationTableNames } from './index.js'

warnIfNoPostgres('cases of migrations.test.ts')

describeEachDatabase('migrations', ({ open }) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await open()
  })
  afterAll(async () => {
    await database?.close()
  })

  async function tables(): Promise<string[]> {
    const tableList = await database.db.introspection.getTables()
    return tableList.map((t) => t.name).sort()
  }

  it('creates every table on an empty database and changes nothing on a second run', async () => {
    const prefix = uniquePrefix('m')
    const first = await migrate(database.db, { tablePrefix: prefix })
    expect(first).toEqual([{ migrationName: '0001_initial', direction: 'Up', status: 'Success' }])
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
    expect(Object.keys(migrations())).toEqual(['0001_initial'])
    expect(migrationTableNames('x_')).toEqual({
      migrationTableName: 'x_migrations',
      migrationLockTableName: 'x_migrations_lock',
    })
  })
})
