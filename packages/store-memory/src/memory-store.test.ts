import { isStore, type NewConnection, type Store, type TokenRecord } from '@apigw-ws/core'
import { testStore } from '@apigw-ws/core/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { memoryStore as memoryStoreFromIndex } from './index.js'
import { createMemoryStore, type MemoryStoreCapacityEvent, memoryStore } from './memory-store.js'

// The dump reads the store's real tables; a WeakMap keeps the link from store to dump in the
// test, so the public store object carries no hidden way into its state.
const dumps = new WeakMap<Store, () => string>()

testStore({
  name: 'memory',
  create: () => {
    const { store, dump } = createMemoryStore()
    dumps.set(store, dump)
    return store
  },
  inspect: (store) => (dumps.get(store) as () => string)(),
})

const NOW = Date.UTC(2026, 0, 1)
const MINUTE = 60_000

function connection(connectionId: string, overrides: Partial<NewConnection> = {}): NewConnection {
  return {
    connectionId,
    userId: 'user-1',
    channels: ['room'],
    apiId: 'api',
    stage: 'prod',
    domainName: 'example.com',
    ...overrides,
  }
}

/** Distinct fake hashes in the stored format (64 lower-case hex characters). */
function hash(n: number): string {
  return n.toString(16).padStart(64, '0')
}

function token(n: number, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    hash: hash(n),
    userId: 'user-1',
    sessionHash: null,
    channel: null,
    expiresAt: NOW + MINUTE,
    ...overrides,
  }
}

function recorder() {
  const events: MemoryStoreCapacityEvent[] = []
  return { events, onCapacity: (event: MemoryStoreCapacityEvent) => events.push(event) }
}

async function listIds(store: Store, filter: Parameters<Store['connections']['list']>[0]) {
  const page = await store.connections.list(filter, { limit: 1_000 })
  return page.items.map((item) => item.connectionId)
}

describe('memoryStore options', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null])(
    'rejects maxKeys %s with a TypeError naming the option',
    (maxKeys) => {
      expect(() => memoryStore({ maxKeys: maxKeys as number })).toThrow(
        new TypeError('memoryStore: maxKeys must be a positive integer'),
      )
    },
  )

  it('rejects a non-function onCapacity with a TypeError naming the option', () => {
    expect(() => memoryStore({ onCapacity: 'log' as never })).toThrow(/onCapacity/)
  })

  it('rejects options that are not an object', () => {
    expect(() => memoryStore(null as never)).toThrow(TypeError)
    expect(() => memoryStore(5 as never)).toThrow(TypeError)
  })

  it('accepts no options, empty options and explicit undefined values', async () => {
    for (const store of [memoryStore(), memoryStore({}), memoryStore({ maxKeys: undefined })]) {
      expect(await store.connections.create(connection('c1'), NOW)).toBe(true)
    }
  })

  it('is the function the package entry exports', () => {
    expect(memoryStoreFromIndex).toBe(memoryStore)
  })
})

describe('memoryStore instances', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('share no state', async () => {
    const a = memoryStore()
    const b = memoryStore()
    await a.tokens.put(token(1))
    await a.connections.create(connection('c1'), NOW)
    await a.limits.hit('key', { limit: 5, windowMs: 1_000 }, NOW)
    expect(await b.tokens.consume(hash(1), null, NOW)).toBeNull()
    expect(await b.connections.get('c1')).toBeNull()
    expect((await b.limits.hit('key', { limit: 5, windowMs: 1_000 }, NOW)).count).toBe(1)
  })

  it('start no timers and read no clock', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout')
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval')
    const dateNowSpy = vi.spyOn(Date, 'now')
    const store = memoryStore({ maxKeys: 2 })
    for (let i = 0; i < 5; i += 1) {
      await store.connections.create(connection(`c${i}`), NOW).catch(() => false)
      await store.tokens.put(token(i)).catch(() => false)
      await store.limits.hit(`k${i}`, { limit: 1, windowMs: 10 }, NOW)
    }
    await store.cleanup({ disconnectedBefore: NOW, connectedBefore: NOW, batchSize: 10 }, NOW)
    expect(setTimeoutSpy).not.toHaveBeenCalled()
    expect(setIntervalSpy).not.toHaveBeenCalled()
    expect(dateNowSpy).not.toHaveBeenCalled()
  })

  it('are frozen and branded by defineStore', () => {
    const store = memoryStore()
    expect(isStore(store)).toBe(true)
    expect(Object.isFrozen(store)).toBe(true)
    expect(Object.isFrozen(store.connections)).toBe(true)
    expect(Object.isFrozen(store.tokens)).toBe(true)
    expect(Object.isFrozen(store.limits)).toBe(true)
  })
})

describe('memoryStore records', () => {
  it('are frozen snapshots that later changes do not reach', async () => {
    const store = memoryStore()
    await store.connections.create(connection('c1'), NOW)
    const before = await store.connections.get('c1')
    expect(Object.isFrozen(before)).toBe(true)
    expect(() => {
      ;(before as { requestCount: number }).requestCount = 99
    }).toThrow(TypeError)
    const channels = await store.connections.channels('c1')
    expect(Object.isFrozen(channels)).toBe(true)
    await store.connections.touch('c1', NOW + 1)
    await store.connections.subscribe('c1', 'other', 10)
    expect(before?.requestCount).toBe(0)
    expect(channels).toEqual(['room'])
    const [listed] = (await store.connections.list({ all: true }, { limit: 1 })).items
    expect(Object.isFrozen(listed)).toBe(true)
    expect(listed?.requestCount).toBe(1)
  })

  it('are copied on the way in: mutating the caller objects changes nothing', async () => {
    const store = memoryStore()
    const input = { ...connection('c1'), channels: ['room'] }
    await store.connections.create(input, NOW)
    input.channels.push('sneaky')
    expect(await store.connections.channels('c1')).toEqual(['room'])
    expect(await listIds(store, { channel: 'sneaky' })).toEqual([])

    const record = { ...token(1) }
    await store.tokens.put(record)
    record.userId = 'attacker'
    const consumed = await store.tokens.consume(hash(1), null, NOW)
    expect(consumed?.userId).toBe('user-1')
    expect(Object.isFrozen(consumed)).toBe(true)
  })

  it('a refused duplicate put leaves the first token intact', async () => {
    const fresh = memoryStore()
    expect(await fresh.tokens.put(token(7, { userId: 'first' }))).toBe(true)
    expect(await fresh.tokens.put(token(7, { userId: 'second' }))).toBe(false)
    expect((await fresh.tokens.consume(hash(7), null, NOW))?.userId).toBe('first')
  })
})

describe('memoryStore capacity: never drops a live entry, fails closed when full', () => {
  it('keeps a limited client limited however many fresh keys arrive (issue 9 item 5)', async () => {
    const { events, onCapacity } = recorder()
    const store = memoryStore({ maxKeys: 1_000, onCapacity })
    const rule = { limit: 20, windowMs: MINUTE }
    const offender = 'connect.ip:2001:db8:dead:be00::'
    for (let i = 0; i < 21; i += 1) await store.limits.hit(offender, rule, NOW)
    expect((await store.limits.hit(offender, rule, NOW)).allowed).toBe(false)
    // A flood of fresh /56 prefixes, ten times the table, inside the offender's window.
    let refusedFresh = 0
    for (let i = 0; i < 10_000; i += 1) {
      const fresh = await store.limits.hit(`connect.ip:2001:db8:${i.toString(16)}::`, rule, NOW + 1)
      if (!fresh.allowed) refusedFresh += 1
    }
    const after = await store.limits.hit(offender, rule, NOW + 2)
    expect(after.allowed).toBe(false)
    expect(after.count).toBe(23)
    // The table filled at 1,000 keys: every later fresh key was treated as limited, and said so.
    expect(refusedFresh).toBe(10_000 - 999)
    expect(events).toHaveLength(refusedFresh)
    expect(events[0]).toEqual({ kind: 'limit' })
  })

  it('makes room from ended windows only, then takes new keys again', async () => {
    const { events, onCapacity } = recorder()
    const store = memoryStore({ maxKeys: 2, onCapacity })
    await store.limits.hit('short', { limit: 5, windowMs: 1_000 }, NOW)
    await store.limits.hit('long', { limit: 5, windowMs: 10 * MINUTE }, NOW)
    const full = await store.limits.hit('new', { limit: 5, windowMs: MINUTE }, NOW + 999)
    expect(full).toEqual({ allowed: false, count: 6, resetAt: NOW + 999 + MINUTE })
    expect(events).toEqual([{ kind: 'limit' }])
    // 'short' has ended: its place goes to the new key; 'long' is untouched.
    expect((await store.limits.hit('new', { limit: 5, windowMs: MINUTE }, NOW + 1_000)).count).toBe(
      1,
    )
    expect(
      (await store.limits.hit('long', { limit: 5, windowMs: 10 * MINUTE }, NOW + 1_001)).count,
    ).toBe(2)
    expect(events).toHaveLength(1)
  })

  it('refuses a token when full of live ones, and reuses used or expired places', async () => {
    const { events, onCapacity } = recorder()
    const store = memoryStore({ maxKeys: 2, onCapacity })
    await store.tokens.put(token(1))
    await store.tokens.put(token(2, { expiresAt: NOW + 10 }))
    await expect(store.tokens.put(token(3))).rejects.toThrow(/full/)
    expect(events).toEqual([{ kind: 'token' }])
    expect(await store.tokens.consume(hash(1), null, NOW), 'a live token survives').not.toBeNull()
    // Token 1 is used now: its place is free.
    expect(await store.tokens.put(token(3))).toBe(true)
    // Token 2 expires at NOW + 10; once the store has seen that time, its place is free too.
    await store.limits.hit('clock', { limit: 1, windowMs: 1 }, NOW + 10)
    expect(await store.tokens.put(token(4))).toBe(true)
    expect(await store.tokens.consume(hash(3), null, NOW + 10)).not.toBeNull()
    expect(events).toHaveLength(1)
  })

  it('refuses a connection when full of connected ones, and reuses disconnected places', async () => {
    const { events, onCapacity } = recorder()
    const store = memoryStore({ maxKeys: 2, onCapacity })
    await store.connections.create(connection('c1'), NOW)
    await store.connections.create(connection('c2'), NOW)
    await expect(store.connections.create(connection('c3'), NOW)).rejects.toThrow(/full/)
    expect(events).toEqual([{ kind: 'connection' }])
    expect(await listIds(store, { all: true })).toEqual(['c1', 'c2'])
    await store.connections.disconnect('c1', NOW + 1)
    expect(await store.connections.create(connection('c3'), NOW + 2)).toBe(true)
    expect(await store.connections.get('c1')).toBeNull()
    expect(await listIds(store, { channel: 'room' })).toEqual(['c2', 'c3'])
  })

  it('never refuses for a duplicate create or put', async () => {
    const { events, onCapacity } = recorder()
    const store = memoryStore({ maxKeys: 1, onCapacity })
    await store.connections.create(connection('c1'), NOW)
    await store.tokens.put(token(1))
    expect(await store.connections.create(connection('c1'), NOW)).toBe(false)
    expect(await store.tokens.put(token(1))).toBe(false)
    expect(events).toEqual([])
  })

  it('reports after the operation finished, and ignores a throwing hook', async () => {
    const seen: string[] = []
    const { store, dump } = createMemoryStore({
      maxKeys: 1,
      onCapacity: () => {
        seen.push(dump())
        throw new Error('logger down')
      },
    })
    await store.limits.hit('a', { limit: 1, windowMs: MINUTE }, NOW)
    const refused = await store.limits.hit('b', { limit: 1, windowMs: MINUTE }, NOW)
    expect(refused.allowed).toBe(false)
    expect(seen).toHaveLength(1)
    expect(seen[0]).not.toContain('"b"')
  })
})
