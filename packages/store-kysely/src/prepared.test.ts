import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prepare } from './prepared.js'

interface Db {
  items: { id: string; n: number; note: string | null }
}

describe('prepare', () => {
  let db: Kysely<Db>
  beforeAll(async () => {
    db = new Kysely<Db>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })
    await sql`create table items (id text primary key, n integer, note text)`.execute(db)
  })
  afterAll(async () => {
    await db.destroy()
  })

  it('binds named values at their positions, repeatedly, next to compiled constants', async () => {
    const insert = prepare((p: { id: string; n: number }) =>
      db.insertInto('items').values({ id: p.id, n: p.n, note: 'fixed' }).returning(['id', 'n']),
    )
    const bump = prepare((p: { id: string; by: number }) =>
      db
        .updateTable('items')
        .set({ n: sql<number>`n + ${p.by}` })
        .where('id', '=', p.id)
        .where('n', '<', sql<number>`${p.by} * 100`)
        .returning(['n', 'note']),
    )
    expect((await insert.run(db, { id: 'a', n: 1 })).rows).toEqual([{ id: 'a', n: 1 }])
    expect((await insert.run(db, { id: 'b', n: 5 })).rows).toEqual([{ id: 'b', n: 5 }])
    expect((await bump.run(db, { id: 'a', by: 3 })).rows).toEqual([{ n: 4, note: 'fixed' }])
    expect((await bump.run(db, { id: 'b', by: 10 })).rows).toEqual([{ n: 15, note: 'fixed' }])
    expect((await bump.run(db, { id: 'zz', by: 1 })).rows).toEqual([])
  })

  it('rejects an undefined value instead of binding it', async () => {
    const select = prepare((p: { id: string }) =>
      db.selectFrom('items').selectAll().where('id', '=', p.id),
    )
    await expect(select.run(db, {} as { id: string })).rejects.toThrow(/"id" is undefined/)
  })

  it('refuses at compile time a placeholder that is inlined instead of bound', () => {
    expect(() =>
      prepare((p: { id: string }) =>
        db.selectFrom('items').selectAll().where('id', '=', sql.lit(p.id)),
      ),
    ).toThrow(/"id" is not bound/)
  })
})
