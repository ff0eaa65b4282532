import type { NewConnection, Store, TokenRecord } from '@apigw-ws/core'
import { testStore } from '@apigw-ws/core/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { memoryStore as memoryStoreFromIndex } from './index.js'
import { createMemoryStore, type MemoryStoreEvictEvent, memoryStore } from './memory-store.js'

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

function connection(connectionId: string, overrides: Partial<NewConnection> = {}): NewConnection {
  return {
    connectionId,
    userId: 'user-1',
    channels: ['room'],
    apiId: 'api',
    stage: 'prod',
    domainName: 'example.com',
    connectedAt: NOW,
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
    expiresAt: NOW + 60_000,
    ...overrides,
  }
}

function recorder() {
  const events: MemoryStoreEvictEvent[] = []
  return { events, onEvict: (event: MemoryStoreEvictEvent) => events.push(event) }
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

  it('rejects a non-function onEvict with a TypeError naming the option', () => {
    expect(() => memoryStore({ onEvict: 'log' as never })).toThrow(/onEvict/)
  })

  it('rejects options that are not an object', () => {
    expect(() => memoryStore(null as never)).toThrow(TypeError)
    expect(() => memoryStore(5 as never)).toThrow(TypeError)
  })

  it('accepts no options, empty options and explicit undefined values', async () => {
    for (const store of [memoryStore(), memoryStore({}), memoryStore({ maxKeys: undefined })]) {
      expect(await store.connections.create(connection('c1'))).toBe(true)
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
    await a.connections.create(connection('c1'))
    await a.limits.hit('key', { limit: 5, windowMs: 1_000 }, NOW)
    expect(await b.tokens.consume(hash(1), { sessionHash: null, now: NOW })).toBeNull()
    expect(await b.connections.get('c1')).toBeNull()
    expect((await b.limits.hit('key', { limit: 5, windowMs: 1_000 }, NOW)).count).toBe(1)
  })

  it('start no timers and read no clock', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout')
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval')
    const dateNowSpy = vi.spyOn(Date, 'now')
    const store = memoryStore({ maxKeys: 2 })
    for (let i = 0; i < 5; i += 1) {
      await store.connections.create(connection(`c${i}`))
      await store.tokens.put(token(i))
      await store.limits.hit(`k${i}`, { limit: 1, windowMs: 10 }, NOW)
    }
    await store.cleanup({ now: NOW, disconnectedBefore: NOW, connectedBefore: NOW, batchSize: 10 })
    expect(setTimeoutSpy).not.toHaveBeenCalled()
    expect(setIntervalSpy).not.toHaveBeenCalled()
    expect(dateNowSpy).not.toHaveBeenCalled()
  })

  it('are frozen', () => {
    const store = memoryStore()
    expect(Object.isFrozen(store)).toBe(true)
    expect(Object.isFrozen(store.connections)).toBe(true)
    expect(Object.isFrozen(store.tokens)).toBe(true)
    expect(Object.isFrozen(store.limits)).toBe(true)
  })
})

describe('memoryStore records', () => {
  it('are frozen snapshots that later changes do not reach', async () => {
    const store = memoryStore()
    await store.connections.create(connection('c1'))
    const before = await store.connections.get('c1')
    expect(Object.isFrozen(before)).toBe(true)
    expect(Object.isFrozen(before?.channels)).toBe(true)
    expect(() => {
      ;(before as { requestCount: number }).requestCount = 99
    }).toThrow(TypeError)
    await store.connections.touch('c1', NOW + 1)
    await store.connections.subscribe('c1', 'other')
    expect(before?.requestCount).toBe(0)
    expect(before?.channels).toEqual(['room'])
    const [listed] = (await store.connections.list({ all: true }, { limit: 1 })).items
    expect(Object.isFrozen(listed)).toBe(true)
    expect(listed?.requestCount).toBe(1)
  })

  it('are copied on the way in: mutating the caller objects changes nothing', async () => {
    const store = memoryStore()
    const input = { ...connection('c1'), channels: ['room'] }
    await store.connections.create(input)
    input.channels.push('sneaky')
    expect((await store.connections.get('c1'))?.channels).toEqual(['room'])
    expect(await listIds(store, { channel: 'sneaky' })).toEqual([])

    const record = { ...token(1) }
    await store.tokens.put(record)
    record.userId = 'attacker'
    const consumed = await store.tokens.consume(hash(1), { sessionHash: null, now: NOW })
    expect(consumed?.userId).toBe('user-1')
    expect(Object.isFrozen(consumed)).toBe(true)
  })

  it('deduplicate channels given at create', async () => {
    const store = memoryStore()
    await store.connections.create(connection('c1', { channels: ['a', 'b', 'a'] }))
    expect((await store.connections.get('c1'))?.channels).toEqual(['a', 'b'])
  })
})

describe('memoryStore argument errors', () => {
  it.each([
    ['list with limit 0', (store: Store) => store.connections.list({ all: true }, { limit: 0 })],
    [
      'list with a fractional limit',
      (store: Store) => store.connections.list({ all: true }, { limit: 1.5 }),
    ],
    [
      'list with a numeric cursor',
      (store: Store) => store.connections.list({ all: true }, { cursor: 3 as never, limit: 1 }),
    ],
    [
      'list with two selectors',
      (store: Store) => store.connections.list({ all: true, userId: 'u' } as never, { limit: 1 }),
    ],
    ['list with no selector', (store: Store) => store.connections.list({} as never, { limit: 1 })],
    [
      'list with all: false',
      (store: Store) => store.connections.list({ all: false } as never, { limit: 1 }),
    ],
    ['touch at NaN', (store: Store) => store.connections.touch('c1', Number.NaN)],
    [
      'disconnect at Infinity',
      (store: Store) => store.connections.disconnect('c1', Number.POSITIVE_INFINITY),
    ],
    [
      'consume at NaN',
      (store: Store) => store.tokens.consume(hash(1), { sessionHash: null, now: Number.NaN }),
    ],
    [
      'hit with a NaN window',
      (store: Store) => store.limits.hit('k', { limit: 1, windowMs: Number.NaN }, NOW),
    ],
    [
      'hit with a zero window',
      (store: Store) => store.limits.hit('k', { limit: 1, windowMs: 0 }, NOW),
    ],
    [
      'hit with a NaN limit',
      (store: Store) => store.limits.hit('k', { limit: Number.NaN, windowMs: 1 }, NOW),
    ],
    [
      'cleanup with batchSize 0',
      (store: Store) =>
        store.cleanup({ now: NOW, disconnectedBefore: 0, connectedBefore: 0, batchSize: 0 }),
    ],
  ])(
    '%s rejects with TypeError (a rejected promise, never a synchronous throw)',
    async (_, call) => {
      const store = memoryStore()
      let result: Promise<unknown> | undefined
      expect(() => {
        result = call(store)
      }).not.toThrow()
      await expect(result).rejects.toThrow(TypeError)
    },
  )

  it('a rejected put leaves the first token intact', async () => {
    const fresh = memoryStore()
    await fresh.tokens.put(token(7, { userId: 'first' }))
    await expect(fresh.tokens.put(token(7, { userId: 'second' }))).rejects.toThrow(/exists/)
    expect((await fresh.tokens.consume(hash(7), { sessionHash: null, now: NOW }))?.userId).toBe(
      'first',
    )
  })
})

describe('memoryStore eviction', () => {
  it('evicts the oldest token when full and reports it without keys', async () => {
    const { events, onEvict } = recorder()
    const store = memoryStore({ maxKeys: 3, onEvict })
    for (const n of [1, 2, 3]) await store.tokens.put(token(n))
    expect(events).toEqual([])
    await store.tokens.put(token(4))
    expect(events).toEqual([{ kind: 'token', reason: 'capacity' }])
    expect(await store.tokens.consume(hash(1), { sessionHash: null, now: NOW })).toBeNull()
    for (const n of [2, 3, 4]) {
      expect(await store.tokens.consume(hash(n), { sessionHash: null, now: NOW })).not.toBeNull()
    }
  })

  it('evicts used tokens before unused ones', async () => {
    const { events, onEvict } = recorder()
    const store = memoryStore({ maxKeys: 3, onEvict })
    for (const n of [1, 2, 3]) await store.tokens.put(token(n))
    await store.tokens.consume(hash(2), { sessionHash: null, now: NOW })
    await store.tokens.put(token(4))
    expect(events).toHaveLength(1)
    // The used token's slot was reused, so its hash can be stored again without a clash...
    await store.tokens.put(token(2))
    expect(events).toHaveLength(2)
    // ...and that second put evicted the oldest unused token, 1; 3 and 4 survive.
    expect(await store.tokens.consume(hash(1), { sessionHash: null, now: NOW })).toBeNull()
    expect(await store.tokens.consume(hash(3), { sessionHash: null, now: NOW })).not.toBeNull()
    expect(await store.tokens.consume(hash(4), { sessionHash: null, now: NOW })).not.toBeNull()
  })

  it('evicts the window that started longest ago', async () => {
    const { events, onEvict } = recorder()
    const store = memoryStore({ maxKeys: 2, onEvict })
    const rule = { limit: 10, windowMs: 1_000 }
    await store.limits.hit('a', rule, NOW)
    await store.limits.hit('b', rule, NOW + 10)
    // a's window ends and a new one starts: a is now the newest window, b the oldest.
    await store.limits.hit('a', rule, NOW + 1_000)
    await store.limits.hit('c', rule, NOW + 1_001)
    expect(events).toEqual([{ kind: 'limit', reason: 'capacity' }])
    expect((await store.limits.hit('a', rule, NOW + 1_002)).count).toBe(2)
    // b was evicted, so its count restarts (and evicts a, the window that started first).
    expect((await store.limits.hit('b', rule, NOW + 1_003)).count).toBe(1)
    expect(events).toHaveLength(2)
  })

  it('evicts the oldest connection from the table and every index', async () => {
    const { events, onEvict } = recorder()
    const store = memoryStore({ maxKeys: 3, onEvict })
    for (const id of ['c1', 'c2', 'c3']) await store.connections.create(connection(id))
    await store.connections.create(connection('c4'))
    expect(events).toEqual([{ kind: 'connection', reason: 'capacity' }])
    expect(await store.connections.get('c1')).toBeNull()
    expect(await listIds(store, { all: true })).toEqual(['c2', 'c3', 'c4'])
    expect(await listIds(store, { channel: 'room' })).toEqual(['c2', 'c3', 'c4'])
    expect(await listIds(store, { userId: 'user-1' })).toEqual(['c2', 'c3', 'c4'])
    expect(await store.connections.touch('c1', NOW)).toBeNull()
  })

  it('evicts disconnected connections before connected ones', async () => {
    const { events, onEvict } = recorder()
    const store = memoryStore({ maxKeys: 3, onEvict })
    for (const id of ['c1', 'c2', 'c3']) await store.connections.create(connection(id))
    await store.connections.disconnect('c2', NOW)
    await store.connections.create(connection('c4'))
    expect(events).toHaveLength(1)
    expect(await store.connections.get('c2')).toBeNull()
    expect(await listIds(store, { all: true })).toEqual(['c1', 'c3', 'c4'])
  })

  it('never evicts for a duplicate create or put', async () => {
    const { events, onEvict } = recorder()
    const store = memoryStore({ maxKeys: 1, onEvict })
    await store.connections.create(connection('c1'))
    await store.tokens.put(token(1))
    expect(await store.connections.create(connection('c1'))).toBe(false)
    await expect(store.tokens.put(token(1))).rejects.toThrow()
    expect(events).toEqual([])
    expect(await store.connections.get('c1')).not.toBeNull()
  })

  it('stays within maxKeys per table under sustained inserts', async () => {
    const { events, onEvict } = recorder()
    const store = memoryStore({ maxKeys: 10, onEvict })
    for (let i = 0; i < 500; i += 1) {
      await store.connections.create(connection(`c${String(i).padStart(3, '0')}`))
      await store.tokens.put(token(i))
      await store.limits.hit(`k${i}`, { limit: 1, windowMs: 60_000 }, NOW)
    }
    expect(await listIds(store, { all: true })).toEqual(
      Array.from({ length: 10 }, (_, i) => `c${490 + i}`),
    )
    const counts = { token: 0, limit: 0, connection: 0 }
    for (const event of events) counts[event.kind] += 1
    expect(counts).toEqual({ token: 490, limit: 490, connection: 490 })
  })

  it('reports after the operation finished, so the hook sees the new entry', async () => {
    const seen: boolean[] = []
    const { store, dump } = createMemoryStore({
      maxKeys: 1,
      onEvict: () => {
        const state = dump()
        seen.push(state.includes(hash(2)) && !state.includes(hash(1)))
      },
    })
    await store.tokens.put(token(1))
    await store.tokens.put(token(2))
    expect(seen).toEqual([true])
  })

  it('ignores a throwing onEvict: the operation still succeeds', async () => {
    const store = memoryStore({
      maxKeys: 1,
      onEvict: () => {
        throw new Error('logger down')
      },
    })
    await store.connections.create(connection('c1'))
    await expect(store.connections.create(connection('c2'))).resolves.toBe(true)
    expect(await listIds(store, { all: true })).toEqual(['c2'])
  })
})
