import type { NewConnection, Store } from '@apigw-ws/core'
import fc from 'fast-check'
import { CamelCasePlugin, Kysely, MysqlDialect, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  describeEachDatabase,
  dumpTables,
  sqliteMemory,
  type TestDatabase,
  uniquePrefix,
} from '../test/databases.js'
import { kyselyStore, migrate } from './index.js'

const HOUR = 3_600_000
const T0 = 1_700_000_000_000

function connection(connectionId: string, overrides: Partial<NewConnection> = {}): NewConnection {
  return {
    connectionId,
    userId: 'user-1',
    channels: [],
    apiId: 'abc123',
    stage: 'prod',
    domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
    ...overrides,
  }
}

/** Creates `connection(connectionId, overrides)` at `overrides.connectedAt` (default `T0`). */
function create(
  store: Store,
  connectionId: string,
  overrides: Partial<NewConnection> & { readonly connectedAt?: number } = {},
): Promise<boolean> {
  const { connectedAt = T0, ...fields } = overrides
  return store.connections.create(connection(connectionId, fields), connectedAt)
}

const hash = (n: number) => n.toString(16).padStart(64, '0')

describeEachDatabase('kyselyStore', ({ open }) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await open()
  })
  afterAll(async () => {
    await database?.close()
  })

  async function fresh(): Promise<{ store: Store; prefix: string }> {
    const prefix = uniquePrefix()
    await migrate(database.db, { tablePrefix: prefix })
    return { store: kyselyStore({ db: database.db, tablePrefix: prefix }), prefix }
  }

  describe('connections', () => {
    it('round-trips every field as plain numbers and strings, frozen', async () => {
      const { store } = await fresh()
      expect(await create(store, 'c1', { channels: ['b', 'a'] })).toBe(true)
      const record = await store.connections.get('c1')
      expect(record).toEqual({
        connectionId: 'c1',
        userId: 'user-1',
        apiId: 'abc123',
        stage: 'prod',
        domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
        connectedAt: T0,
        lastSeenAt: T0,
        requestCount: 0,
        disconnectedAt: null,
      })
      expect(typeof record?.connectedAt).toBe('number')
      expect(Object.isFrozen(record)).toBe(true)
      expect(await store.connections.channels('c1')).toEqual(['b', 'a'])
      expect(Object.isFrozen(await store.connections.channels('c1'))).toBe(true)
      expect(await store.connections.get('unknown')).toBeNull()
    })

    it('stores the longest valid connection id and channel (128 characters)', async () => {
      const { store } = await fresh()
      const id = 'I'.repeat(128)
      const channel = 'C'.repeat(128)
      expect(await create(store, id, { channels: [channel] })).toBe(true)
      expect(await store.connections.channels(id)).toEqual([channel])
    })

    it('refuses a duplicate id, connected or not, without touching the first record', async () => {
      const { store } = await fresh()
      await create(store, 'c1', { channels: ['a'] })
      expect(await create(store, 'c1', { userId: 'other', channels: ['x'] })).toBe(false)
      await store.connections.disconnect('c1', T0 + 1)
      expect(await create(store, 'c1')).toBe(false)
      const record = await store.connections.get('c1')
      expect(record?.userId).toBe('user-1')
      expect(await store.connections.channels('c1')).toEqual(['a'])
      expect(record?.disconnectedAt).toBe(T0 + 1)
    })

    it('creates exactly one record under concurrent creates of one id', async () => {
      const { store } = await fresh()
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => create(store, 'dup', { channels: [`ch${i}`] })),
      )
      expect(results.filter(Boolean)).toHaveLength(1)
      const winner = results.indexOf(true)
      expect(await store.connections.channels('dup')).toEqual([`ch${winner}`])
    })

    it('touch counts every concurrent call and skips disconnected records', async () => {
      const { store } = await fresh()
      await create(store, 'c1', { channels: ['a'] })
      const touched = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.connections.touch('c1', T0 + i)),
      )
      expect(touched.every((r) => r !== null && !('channels' in r))).toBe(true)
      expect(new Set(touched.map((r) => r?.requestCount))).toEqual(
        new Set(Array.from({ length: 50 }, (_, i) => i + 1)),
      )
      expect((await store.connections.get('c1'))?.requestCount).toBe(50)
      expect(await store.connections.touch('unknown', T0)).toBeNull()
      await store.connections.disconnect('c1', T0 + 100)
      expect(await store.connections.touch('c1', T0 + 200)).toBeNull()
      expect((await store.connections.get('c1'))?.requestCount).toBe(50)
    })

    it('disconnect makes exactly one transition under concurrency', async () => {
      const { store } = await fresh()
      await create(store, 'c1')
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.connections.disconnect('c1', T0 + i)),
      )
      expect(results.filter(Boolean)).toHaveLength(1)
      expect(await store.connections.disconnect('unknown', T0)).toBe(false)
    })

    it('subscribe keeps order, ignores repeats, refuses unknown or disconnected ids', async () => {
      const { store } = await fresh()
      await create(store, 'c1', { channels: ['a'] })
      expect(await store.connections.subscribe('c1', 'b', 10)).toBe('subscribed')
      expect(await store.connections.subscribe('c1', 'a', 10)).toBe('subscribed')
      expect(await store.connections.subscribe('nobody', 'a', 10)).toBe('gone')
      expect(await store.connections.unsubscribe('c1', 'a')).toBe(true)
      expect(await store.connections.unsubscribe('c1', 'a')).toBe(false)
      expect(await store.connections.subscribe('c1', 'a', 10)).toBe('subscribed')
      expect(await store.connections.channels('c1')).toEqual(['b', 'a'])
      await store.connections.disconnect('c1', T0 + 1)
      expect(await store.connections.subscribe('c1', 'z', 10)).toBe('gone')
      expect(await store.connections.channels('c1')).toEqual(['b', 'a'])
    })

    it('keeps channel_count equal to the subscriptions through every change', async () => {
      const { store, prefix } = await fresh()
      await create(store, 'c1', { channels: ['a', 'b'] })
      await store.connections.subscribe('c1', 'c', 10)
      await store.connections.subscribe('c1', 'c', 10)
      await store.connections.unsubscribe('c1', 'a')
      await store.connections.unsubscribe('c1', 'a')
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.connections.subscribe('c1', `x${i}`, 6)),
      )
      const { rows } = await sql<{ n: number | string }>`select channel_count as n from ${sql.table(
        `${prefix}connections`,
      )} where id = 'c1'`.execute(database.db)
      expect(Number(rows[0]?.n)).toBe(6)
      expect(await store.connections.channels('c1')).toHaveLength(6)
    })
  })

  describe('list', () => {
    it('pages by connection id in JS order, connected records only, per selector', async () => {
      const { store } = await fresh()
      const ids = ['b', 'A', '_x', '-y', '=z', 'a0', 'Z', '9', 'aa', 'a']
      for (const [i, id] of ids.entries()) {
        await create(store, id, {
          userId: i % 2 === 0 ? 'even' : 'odd',
          channels: i < 6 ? ['room'] : [],
        })
      }
      await store.connections.disconnect('Z', T0 + 1)
      await store.connections.disconnect('b', T0 + 1)
      const collect = async (filter: Parameters<Store['connections']['list']>[0]) => {
        const seen: string[][] = []
        let cursor: string | null = null
        for (let pages = 0; pages < 20; pages++) {
          const page = await store.connections.list(filter, { cursor, limit: 3 })
          expect(page.items.length).toBeLessThanOrEqual(3)
          seen.push(page.items.map((r) => r.connectionId))
          cursor = page.nextCursor
          if (cursor === null) break
        }
        return seen
      }
      const sorted = (list: string[]) => [...list].sort()
      const live = ids.filter((id) => id !== 'Z' && id !== 'b')
      expect((await collect({ all: true })).flat()).toEqual(sorted(live))
      expect((await collect({ userId: 'even' })).flat()).toEqual(
        sorted(live.filter((id) => ids.indexOf(id) % 2 === 0)),
      )
      expect((await collect({ channel: 'room' })).flat()).toEqual(
        sorted(live.filter((id) => ids.indexOf(id) < 6)),
      )
      expect(await collect({ channel: 'nobody' })).toEqual([[]])
      const pages = await collect({ all: true })
      expect(pages.slice(0, -1).every((p) => p.length === 3)).toBe(true)
    })

    it('lists the members of a channel without their channels', async () => {
      const { store } = await fresh()
      await create(store, 'c1', { channels: ['room', 'x'] })
      await create(store, 'c2', { channels: ['y', 'room'] })
      const page = await store.connections.list({ channel: 'room' }, { limit: 10 })
      expect(page.items.map((r) => r.connectionId)).toEqual(['c1', 'c2'])
      expect(page.items.some((r) => 'channels' in r)).toBe(false)
      expect(page.nextCursor).toBeNull()
    })

    it('neither skips nor repeats records that live through the iteration', async () => {
      const { store } = await fresh()
      let run = 0
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9_=-]{1,12}$/), {
            minLength: 0,
            maxLength: 25,
          }),
          fc.integer({ min: 1, max: 7 }),
          async (ids, limit) => {
            const user = `run-${run++}`
            for (const id of ids) {
              await create(store, `${user}_${id}`, { userId: user })
            }
            const seen: string[] = []
            let cursor: string | null = null
            for (let pages = 0; pages <= ids.length; pages++) {
              const page = await store.connections.list({ userId: user }, { cursor, limit })
              seen.push(...page.items.map((r) => r.connectionId))
              cursor = page.nextCursor
              if (cursor === null) break
            }
            expect(cursor).toBeNull()
            expect(seen).toEqual(ids.map((id) => `${user}_${id}`).sort())
          },
        ),
        { numRuns: database.dialect === 'postgres' ? 15 : 40 },
      )
    })

    it('rejects invalid filters and pages with TypeError', async () => {
      const { store } = await fresh()
      await expect(store.connections.list({ all: true }, { limit: 0 })).rejects.toThrow(TypeError)
      await expect(store.connections.list({ all: true }, { limit: 1.5 })).rejects.toThrow(TypeError)
      const both = { userId: 'u', channel: 'c' } as unknown as { userId: string }
      await expect(store.connections.list(both, { limit: 1 })).rejects.toThrow(TypeError)
    })
  })

  describe('tokens', () => {
    it('consumes once, before expiry, only with the bound session', async () => {
      const { store } = await fresh()
      await store.tokens.put({
        hash: hash(1),
        userId: 'u',
        sessionHash: hash(99),
        channel: 'room',
        expiresAt: T0 + 60_000,
      })
      await store.tokens.put({
        hash: hash(2),
        userId: 'u',
        sessionHash: null,
        channel: null,
        expiresAt: T0 + 60_000,
      })
      expect(await store.tokens.consume(hash(1), null, T0)).toBeNull()
      expect(await store.tokens.consume(hash(1), hash(98), T0)).toBeNull()
      expect(await store.tokens.consume(hash(1), hash(99), T0)).toEqual({
        hash: hash(1),
        userId: 'u',
        sessionHash: hash(99),
        channel: 'room',
        expiresAt: T0 + 60_000,
      })
      expect(await store.tokens.consume(hash(1), hash(99), T0)).toBeNull()
      expect(await store.tokens.consume(hash(2), null, T0 + 60_000)).toBeNull()
      expect(await store.tokens.consume(hash(2), hash(5), T0)).not.toBeNull()
      expect(await store.tokens.consume(hash(3), null, T0)).toBeNull()
    })

    it('refuses a second put of the same hash (false) and keeps the first record', async () => {
      const { store } = await fresh()
      const token = { hash: hash(1), userId: 'u', sessionHash: null, channel: null, expiresAt: T0 }
      expect(await store.tokens.put(token)).toBe(true)
      expect(await store.tokens.put({ ...token, userId: 'mallory' })).toBe(false)
      expect((await store.tokens.consume(hash(1), null, T0 - 1))?.userId).toBe('u')
    })

    it('lets exactly one of many concurrent consumes win', async () => {
      const { store } = await fresh()
      await store.tokens.put({
        hash: hash(7),
        userId: 'u',
        sessionHash: null,
        channel: null,
        expiresAt: T0 + 60_000,
      })
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.tokens.consume(hash(7), null, T0)),
      )
      expect(results.filter((r) => r !== null)).toHaveLength(1)
    })
  })

  describe('limits', () => {
    it('counts in fixed windows that end at resetAt', async () => {
      const { store } = await fresh()
      const rule = { limit: 2, windowMs: 1000 }
      expect(await store.limits.hit('k', rule, T0)).toEqual({
        allowed: true,
        count: 1,
        resetAt: T0 + 1000,
      })
      expect(await store.limits.hit('k', rule, T0 + 500)).toMatchObject({ allowed: true, count: 2 })
      expect(await store.limits.hit('k', rule, T0 + 999)).toEqual({
        allowed: false,
        count: 3,
        resetAt: T0 + 1000,
      })
      expect(await store.limits.hit('k', rule, T0 + 1000)).toEqual({
        allowed: true,
        count: 1,
        resetAt: T0 + 2000,
      })
      expect(await store.limits.hit('other', { limit: 0, windowMs: 10 }, T0)).toMatchObject({
        allowed: false,
        count: 1,
      })
    })

    it('returns counts 1..N and allows exactly the limit under concurrency', async () => {
      const { store } = await fresh()
      const results = await Promise.all(
        Array.from({ length: 60 }, () =>
          store.limits.hit('burst', { limit: 7, windowMs: HOUR }, T0),
        ),
      )
      expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 60 }, (_, i) => i + 1),
      )
      expect(results.filter((r) => r.allowed)).toHaveLength(7)
    })

    it('rejects invalid rules and times with TypeError', async () => {
      const { store } = await fresh()
      await expect(store.limits.hit('k', { limit: Number.NaN, windowMs: 1 }, T0)).rejects.toThrow(
        TypeError,
      )
      await expect(store.limits.hit('k', { limit: 1, windowMs: 0 }, T0)).rejects.toThrow(TypeError)
      await expect(store.limits.hit('k', { limit: 1, windowMs: 1 }, Number.NaN)).rejects.toThrow(
        TypeError,
      )
    })
  })

  describe('cleanup', () => {
    it('deletes in bounded batches with subscriptions, idempotently', async () => {
      const { store, prefix } = await fresh()
      for (let i = 0; i < 5; i++) {
        await create(store, `gone${i}`, { channels: ['room', `own${i}`], connectedAt: T0 + i })
        await store.connections.disconnect(`gone${i}`, T0 + 10)
      }
      await create(store, 'stale', { channels: ['room'], connectedAt: T0 })
      await create(store, 'live', { channels: ['room'], connectedAt: T0 + HOUR })
      for (let i = 0; i < 4; i++) {
        await store.tokens.put({
          hash: hash(i),
          userId: 'u',
          sessionHash: null,
          channel: null,
          expiresAt: T0 + (i < 2 ? 0 : HOUR),
        })
      }
      await store.tokens.consume(hash(2), null, T0)
      await store.limits.hit('ended', { limit: 1, windowMs: 5 }, T0)
      await store.limits.hit('running', { limit: 1, windowMs: HOUR }, T0)

      const request = { disconnectedBefore: T0 + 10, connectedBefore: T0, batchSize: 2 }
      const now = T0 + 100
      expect(await store.cleanup(request, now)).toEqual({
        tokens: 2,
        rateLimits: 1,
        connections: 2,
      })
      expect(await store.cleanup(request, now)).toEqual({
        tokens: 1,
        rateLimits: 0,
        connections: 2,
      })
      expect(await store.cleanup(request, now)).toEqual({
        tokens: 0,
        rateLimits: 0,
        connections: 2,
      })
      expect(await store.cleanup(request, now)).toEqual({
        tokens: 0,
        rateLimits: 0,
        connections: 0,
      })

      expect(await store.connections.get('stale')).toBeNull()
      expect(await store.connections.channels('live')).toEqual(['room'])
      const page = await store.connections.list({ channel: 'room' }, { limit: 10 })
      expect(page.items.map((r) => r.connectionId)).toEqual(['live'])
      // No subscription outlives its connection.
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(
        `${prefix}subscriptions`,
      )}`.execute(database.db)
      expect(Number(rows[0]?.n)).toBe(1)
      expect(await store.tokens.consume(hash(3), null, T0)).not.toBeNull()
      expect(await store.limits.hit('running', { limit: 1, windowMs: HOUR }, T0)).toMatchObject({
        count: 2,
      })
    })

    it('rejects an invalid request with TypeError', async () => {
      const { store } = await fresh()
      await expect(
        store.cleanup({ disconnectedBefore: T0, connectedBefore: T0, batchSize: 0 }, T0),
      ).rejects.toThrow(TypeError)
    })
  })

  describe('configuration', () => {
    it('keeps stores with different table prefixes apart in one database', async () => {
      const a = await fresh()
      const b = await fresh()
      await create(a.store, 'c1', { channels: ['room'] })
      await a.store.limits.hit('k', { limit: 1, windowMs: HOUR }, T0)
      expect(await b.store.connections.get('c1')).toBeNull()
      expect(await create(b.store, 'c1')).toBe(true)
      expect(await b.store.limits.hit('k', { limit: 1, windowMs: HOUR }, T0)).toMatchObject({
        count: 1,
      })
      expect(await dumpTables(database.db, b.prefix)).not.toContain('room')
    })

    it('ignores plugins on the caller’s Kysely instance', async () => {
      const { prefix } = await fresh()
      const camel = database.db.withPlugin(new CamelCasePlugin())
      const store = kyselyStore({ db: camel, tablePrefix: prefix })
      await create(store, 'c1', { channels: ['room'] })
      expect(await store.connections.get('c1')).toMatchObject({
        connectionId: 'c1',
        userId: 'user-1',
        domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      })
      expect(await store.connections.channels('c1')).toEqual(['room'])
    })
  })
})

describe('kyselyStore construction', () => {
  const sqlite = async () => sqliteMemory()

  it('rejects an invalid table prefix, naming the option', async () => {
    const { db, close } = await sqlite()
    for (const tablePrefix of ['', 'Apigw_', '1x', 'a-b', `a${'b'.repeat(31)}`]) {
      expect(() => kyselyStore({ db, tablePrefix })).toThrow(/tablePrefix/)
    }
    expect(() => kyselyStore({ db, tablePrefix: `a${'b'.repeat(30)}` })).not.toThrow()
    await close()
  })

  it('rejects unsupported dialects and missing instances, naming the option', async () => {
    const { db, close } = await sqlite()
    const mysql = new Kysely<unknown>({
      dialect: new MysqlDialect({ pool: async () => Promise.reject(new Error('never used')) }),
    })
    expect(() => kyselyStore({ db: mysql })).toThrow(/dialect/)
    expect(() => kyselyStore({ db: mysql })).toThrow(TypeError)
    expect(() => kyselyStore({ db, dialect: 'mysql' as 'sqlite' })).toThrow(/dialect/)
    expect(() => kyselyStore({ db: undefined as unknown as Kysely<unknown> })).toThrow(/"db"/)
    expect(kyselyStore({ db: mysql, dialect: 'postgres' })).toHaveProperty('connections')
    await db.transaction().execute(async (trx) => {
      expect(() => kyselyStore({ db: trx })).toThrow(/root Kysely instance/)
    })
    await close()
  })

  it('accepts the application’s own typed Kysely instance', async () => {
    interface AppDatabase {
      users: { id: string; name: string }
    }
    const { db, close } = await sqlite()
    const appDb = db as unknown as Kysely<AppDatabase>
    await migrate(appDb)
    const store = kyselyStore({ db: appDb })
    expect(await store.limits.hit('k', { limit: 1, windowMs: 10 }, 0)).toEqual({
      allowed: true,
      count: 1,
      resetAt: 10,
    })
    await close()
  })
})
