import { afterEach, describe, expect, it } from 'vitest'
import { sqliteMemory, type TestDatabase, uniquePrefix } from '../test/databases.js'
import { kyselyStore, migrate } from './index.js'

const RULE = { limit: 5, windowMs: 60_000 }
let database: TestDatabase | undefined

afterEach(async () => {
  await database?.close()
  database = undefined
})

async function directStore() {
  database = sqliteMemory()
  const prefix = uniquePrefix('direct')
  await migrate(database.db, { tablePrefix: prefix })
  const store = kyselyStore({
    db: database.db,
    tablePrefix: prefix,
    sqliteDatabase: database.sqlite,
  })
  return { store, db: database.db, sqlite: database.sqlite as NonNullable<TestDatabase['sqlite']> }
}

describe('the direct SQLite path (sqliteDatabase)', () => {
  it('runs the store statements on the database itself, prepared once', async () => {
    const { store, sqlite } = await directStore()
    const prepared: string[] = []
    const prepare = sqlite.prepare.bind(sqlite)
    sqlite.prepare = ((text: string) => {
      prepared.push(text)
      return prepare(text)
    }) as typeof sqlite.prepare
    for (let i = 1; i <= 3; i++) {
      expect(await store.limits.hit('k', RULE, 1_000)).toEqual({
        allowed: true,
        count: i,
        resetAt: 61_000,
      })
    }
    expect(prepared).toHaveLength(1)
    expect(prepared[0]).toMatch(/^insert into "direct_[0-9a-f]+_rate_limits"/)
  })

  it('never runs inside an application transaction open on the same connection', async () => {
    const { store, db } = await directStore()
    let release = (): void => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let hit: Promise<unknown> = Promise.resolve()
    const rolledBack = db
      .transaction()
      .execute(async (trx) => {
        await trx.selectNoFrom((eb) => eb.lit(1).as('one')).execute()
        // The connection is inside the transaction now: the store's hit must wait for it.
        hit = store.limits.hit('outside', RULE, 1_000)
        await held
        throw new Error('roll back')
      })
      .catch((error: Error) => error.message)
    await Promise.resolve()
    release()
    expect(await rolledBack).toBe('roll back')
    expect(await hit).toMatchObject({ count: 1 })
    // Counted after the rollback, so it stayed: the hit was not part of the transaction.
    expect(await store.limits.hit('outside', RULE, 1_000)).toMatchObject({ count: 2 })
  })

  it('refuses sqliteDatabase on PostgreSQL or when it is not a database', async () => {
    database = sqliteMemory()
    const { db, sqlite } = database
    expect(() => kyselyStore({ db, dialect: 'postgres', sqliteDatabase: sqlite })).toThrow(
      /option "sqliteDatabase"/,
    )
    expect(() =>
      kyselyStore({ db, sqliteDatabase: {} as unknown as NonNullable<typeof sqlite> }),
    ).toThrow(TypeError)
  })
})
