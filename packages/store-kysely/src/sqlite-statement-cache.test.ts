import Database from 'better-sqlite3'
import { Kysely, type SqliteDatabase, SqliteDialect, sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { kyselyStore, migrate } from './index.js'
import { cachedStatements } from './sqlite-statement-cache.js'

/** A better-sqlite3 database that counts how often each SQL text is prepared. */
function counting() {
  const raw = new Database(':memory:')
  const prepared = new Map<string, number>()
  const database: SqliteDatabase = {
    close: () => raw.close(),
    prepare: (text: string) => {
      prepared.set(text, (prepared.get(text) ?? 0) + 1)
      return raw.prepare(text)
    },
  }
  return { raw, database, prepared }
}

describe('cachedStatements', () => {
  it('prepares each SQL text once across many store operations', async () => {
    const { database, prepared } = counting()
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: cachedStatements(database) }),
    })
    await migrate(db)
    const store = kyselyStore({ db })
    for (let i = 0; i < 20; i++) {
      expect(await store.limits.hit('k', { limit: 100, windowMs: 1000 }, 0)).toMatchObject({
        count: i + 1,
      })
      await store.connections.create(
        {
          connectionId: `c${i}`,
          userId: 'u',
          channels: [],
          apiId: null,
          stage: null,
          domainName: null,
        },
        0,
      )
    }
    expect(Math.max(...prepared.values())).toBe(1)
    const page = await store.connections.list({ all: true }, { limit: 5 })
    expect(page.items.map((c) => c.connectionId)).toEqual(['c0', 'c1', 'c10', 'c11', 'c12'])
    await db.destroy()
  })

  it('keeps at most maxStatements, dropping the least recently used', () => {
    const { raw, database, prepared } = counting()
    const cache = cachedStatements(database, { maxStatements: 2 })
    const a = cache.prepare('select 1')
    cache.prepare('select 2')
    expect(cache.prepare('select 1')).toBe(a)
    cache.prepare('select 3')
    expect(cache.prepare('select 1')).toBe(a)
    cache.prepare('select 2')
    expect(prepared.get('select 1')).toBe(1)
    expect(prepared.get('select 2')).toBe(2)
    raw.close()
  })

  it('streams and runs transactions through cached statements', async () => {
    const db = new Kysely<{ t: { n: number } }>({
      dialect: new SqliteDialect({ database: cachedStatements(new Database(':memory:')) }),
    })
    await sql`create table t (n integer)`.execute(db)
    await db.transaction().execute(async (trx) => {
      for (let n = 0; n < 5; n++) await trx.insertInto('t').values({ n }).execute()
    })
    const streamed: number[] = []
    for await (const row of db.selectFrom('t').select('n').orderBy('n').stream()) {
      streamed.push(row.n)
    }
    expect(streamed).toEqual([0, 1, 2, 3, 4])
    expect(await db.selectFrom('t').select('n').where('n', '>', 2).execute()).toEqual([
      { n: 3 },
      { n: 4 },
    ])
    await db.destroy()
  })

  it('rejects an invalid maxStatements, naming the option', () => {
    const raw = new Database(':memory:')
    for (const maxStatements of [0, -1, 1.5, Number.NaN]) {
      expect(() => cachedStatements(raw, { maxStatements })).toThrow(/"maxStatements"/)
    }
    raw.close()
  })
})
