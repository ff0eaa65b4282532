/**
 * `testStore()`: the store conformance suite (DESIGN §6). Every store, ours and users', proves it
 * honours the contract written in `store.ts` by calling it in a test file. Each check is a plain
 * async function over a fresh store and a fake clock; `testStore` registers them as vitest tests
 * grouped by concern. The concurrency properties run unconditionally: there is no option to turn
 * them off, because a store that loses races is the bug this library exists to prevent.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createGateway } from '../gateway.js'
import type {
  ConnectionFilter,
  ConnectionRecord,
  NewConnection,
  Page,
  Store,
  TokenRecord,
} from '../store.js'
import { type FakeClock, fakeClock } from './fake-clock.js'

/** Options for {@link testStore}. */
export interface TestStoreOptions<S extends Store = Store> {
  /** Name of the `describe` block, e.g. `'memory'` or `'kysely (postgres)'`. */
  readonly name: string
  /**
   * Returns a new, **empty** store. Called before every test (in `beforeEach`), so no test sees
   * another's data. For a database store, create fresh tables or truncate them here.
   */
  readonly create: () => S | Promise<S>
  /** Releases a store after its test (in `afterEach`): close pools, drop tables. */
  readonly destroy?: ((store: S) => void | Promise<void>) | undefined
  /**
   * Returns a text dump of everything the store holds at rest (every row of every table, as
   * JSON or any text). When given, the suite issues tokens through a real gateway and checks the
   * dump holds the token's SHA-256 but neither the token nor the session id. Without it that
   * check is reported as skipped.
   */
  readonly inspect?: ((store: S) => string | Promise<string>) | undefined
}

/**
 * What each check receives: the fresh store of this test and the test's fake clock. Internal,
 * like {@link StoreCheck}.
 */
export interface StoreCheckContext {
  readonly store: Store
  readonly clock: FakeClock
  /** Dumps the store at rest; `null` when the suite was given no `inspect`. */
  readonly inspect: (() => Promise<string>) | null
}

/** One conformance check. Internal: exported for the suite's own tests, not from the index. */
export interface StoreCheck {
  readonly group: string
  readonly name: string
  readonly needsInspect: boolean
  readonly timeoutMs: number | undefined
  readonly run: (context: StoreCheckContext) => Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Helpers

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const encoder = new TextEncoder()

/** Lower-case hex SHA-256 through WebCrypto: an oracle independent of core's own SHA-256. */
async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text))
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** A realistic, distinct token hash for a label (stores may validate the hex format). */
function hashOf(label: string): Promise<string> {
  return sha256Hex(`apigw-ws conformance token ${label}`)
}

function randomHex(bytes: number): string {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes))
  return Array.from(buffer, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

function newConnection(
  clock: FakeClock,
  connectionId: string,
  overrides: Partial<NewConnection> = {},
): NewConnection {
  return {
    connectionId,
    userId: 'user-1',
    channels: [],
    apiId: 'a1b2c3d4e5',
    stage: 'prod',
    domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
    connectedAt: clock.now(),
    ...overrides,
  }
}

function newToken(hash: string, clock: FakeClock, overrides: Partial<TokenRecord> = {}) {
  return {
    hash,
    userId: 'user-1',
    sessionHash: null,
    channel: null,
    expiresAt: clock.now() + MINUTE,
    ...overrides,
  } satisfies TokenRecord
}

/** The contract's fields of a connection record (a store may carry more; they are ignored). */
function connectionFields(record: ConnectionRecord) {
  return {
    connectionId: record.connectionId,
    userId: record.userId,
    channels: [...record.channels],
    apiId: record.apiId,
    stage: record.stage,
    domainName: record.domainName,
    connectedAt: record.connectedAt,
    lastSeenAt: record.lastSeenAt,
    requestCount: record.requestCount,
    disconnectedAt: record.disconnectedAt,
  }
}

function tokenFields(record: TokenRecord) {
  return {
    hash: record.hash,
    userId: record.userId,
    sessionHash: record.sessionHash,
    channel: record.channel,
    expiresAt: record.expiresAt,
  }
}

/** The expected order of `list`: ascending binary (UTF-16 code unit) order, like `COLLATE "C"`. */
function binarySorted(ids: readonly string[]): string[] {
  return [...ids].sort()
}

/** Runs `task` over `items` with at most `width` in flight, so big fixtures stay fast anywhere. */
async function inBatches<T, R>(
  items: readonly T[],
  width: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = []
  for (let start = 0; start < items.length; start += width) {
    results.push(...(await Promise.all(items.slice(start, start + width).map(task))))
  }
  return results
}

async function createAll(store: Store, connections: readonly NewConnection[]): Promise<void> {
  const created = await inBatches(connections, 50, (c) => store.connections.create(c))
  expect(created.every(Boolean), 'every fresh id is created').toBe(true)
}

/**
 * Pages through `list` until `nextCursor` is `null`, checking each page: at most `limit` items,
 * progress on every page that has a successor, and no trailing empty page (the page holding the
 * last record already says it is the last).
 */
async function listAll(
  store: Store,
  filter: ConnectionFilter,
  limit: number,
  maxPages = 2_000,
): Promise<ConnectionRecord[]> {
  const records: ConnectionRecord[] = []
  let cursor: string | null = null
  for (let pages = 1; pages <= maxPages; pages += 1) {
    const page: Page<ConnectionRecord> = await store.connections.list(filter, { cursor, limit })
    expect(page.items.length, 'a page holds at most `limit` records').toBeLessThanOrEqual(limit)
    records.push(...page.items)
    if (page.nextCursor === null) {
      if (pages > 1) expect(page.items, 'no empty page after the last record').not.toHaveLength(0)
      return records
    }
    expect(page.items.length, 'a page with a nextCursor holds records').toBeGreaterThan(0)
    expect(typeof page.nextCursor).toBe('string')
    cursor = page.nextCursor
  }
  throw new Error(`list did not reach nextCursor: null within ${maxPages} pages`)
}

function idsOf(records: readonly ConnectionRecord[]): string[] {
  return records.map((record) => record.connectionId)
}

/** Deterministic API-Gateway-like ids (16 chars of `[A-Za-z0-9_=-]`) in scrambled order. */
function scrambledIds(count: number, seed: number): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_=-'
  let state = seed >>> 0 || 1
  const next = () => {
    // xorshift32: reproducible test data, not security material.
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state
  }
  const ids = new Set<string>()
  while (ids.size < count) {
    let id = ''
    for (let i = 0; i < 16; i += 1) id += alphabet[next() % alphabet.length]
    ids.add(id)
  }
  return [...ids]
}

function countTrue(values: readonly boolean[]): number {
  return values.filter(Boolean).length
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

type Run = (context: StoreCheckContext) => Promise<void>

function group(
  name: string,
  runs: Record<string, Run | { run: Run; timeoutMs?: number; needsInspect?: boolean }>,
): StoreCheck[] {
  return Object.entries(runs).map(([checkName, entry]) =>
    Object.freeze({
      group: name,
      name: checkName,
      run: typeof entry === 'function' ? entry : entry.run,
      timeoutMs: typeof entry === 'function' ? undefined : entry.timeoutMs,
      needsInspect: typeof entry === 'function' ? false : entry.needsInspect === true,
    }),
  )
}

// ---------------------------------------------------------------------------------------------
// Checks

const shapeChecks = group('shape', {
  'exposes every method of the store SPI': async ({ store }) => {
    const methods = {
      connections: ['create', 'get', 'touch', 'disconnect', 'subscribe', 'unsubscribe', 'list'],
      tokens: ['put', 'consume'],
      limits: ['hit'],
    } as const
    for (const [groupName, names] of Object.entries(methods)) {
      const target = store[groupName as keyof typeof methods] as unknown as Record<string, unknown>
      for (const method of names) {
        expect(typeof target[method], `${groupName}.${method}`).toBe('function')
      }
    }
    expect(typeof store.cleanup, 'cleanup').toBe('function')
  },
})

const connectionChecks = group('connections', {
  'create inserts a connected record that get returns': async ({ store, clock }) => {
    const input = newConnection(clock, 'Abc123=', { userId: 'user-7', channels: ['room-1'] })
    expect(await store.connections.create(input)).toBe(true)
    const record = await store.connections.get('Abc123=')
    expect(record).not.toBeNull()
    expect(connectionFields(record as ConnectionRecord)).toEqual({
      ...input,
      channels: ['room-1'],
      lastSeenAt: input.connectedAt,
      requestCount: 0,
      disconnectedAt: null,
    })
  },

  'create keeps null fields and channels in the given order': async ({ store, clock }) => {
    const input = newConnection(clock, 'nulls', {
      userId: null,
      apiId: null,
      stage: null,
      domainName: null,
      channels: ['b-room', 'a-room', 'c_room'],
    })
    expect(await store.connections.create(input)).toBe(true)
    const record = (await store.connections.get('nulls')) as ConnectionRecord
    expect(record.userId).toBeNull()
    expect(record.apiId).toBeNull()
    expect(record.stage).toBeNull()
    expect(record.domainName).toBeNull()
    expect([...record.channels]).toEqual(['b-room', 'a-room', 'c_room'])
  },

  'create resolves false for an existing id and changes nothing': async ({ store, clock }) => {
    await store.connections.create(newConnection(clock, 'dup', { userId: 'first' }))
    const before = await store.connections.get('dup')
    clock.advance(1_000)
    const replay = newConnection(clock, 'dup', { userId: 'second', channels: ['replayed'] })
    expect(await store.connections.create(replay)).toBe(false)
    expect(await store.connections.get('dup')).toEqual(before)
    expect(idsOf(await listAll(store, { userId: 'second' }, 10))).toEqual([])
    expect(idsOf(await listAll(store, { channel: 'replayed' }, 10))).toEqual([])
  },

  'create resolves false for the id of a disconnected record, which stays disconnected': async ({
    store,
    clock,
  }) => {
    await store.connections.create(newConnection(clock, 'gone'))
    expect(await store.connections.disconnect('gone', clock.now())).toBe(true)
    clock.advance(1_000)
    expect(await store.connections.create(newConnection(clock, 'gone'))).toBe(false)
    const record = (await store.connections.get('gone')) as ConnectionRecord
    expect(record.disconnectedAt).toBe(clock.now() - 1_000)
    expect(idsOf(await listAll(store, { all: true }, 10))).toEqual([])
  },

  'get resolves null for an unknown id': async ({ store, clock }) => {
    await store.connections.create(newConnection(clock, 'known'))
    expect(await store.connections.get('unknown')).toBeNull()
    expect(await store.connections.get('know')).toBeNull()
  },

  'touch increments requestCount and sets lastSeenAt, resolving the updated record': async ({
    store,
    clock,
  }) => {
    const input = newConnection(clock, 'toucher')
    await store.connections.create(input)
    clock.advance(1_000)
    const first = await store.connections.touch('toucher', clock.now())
    expect(first?.requestCount).toBe(1)
    expect(first?.lastSeenAt).toBe(input.connectedAt + 1_000)
    clock.advance(2_500)
    const second = await store.connections.touch('toucher', clock.now())
    expect(connectionFields(second as ConnectionRecord)).toEqual({
      ...input,
      channels: [],
      lastSeenAt: input.connectedAt + 3_500,
      requestCount: 2,
      disconnectedAt: null,
    })
    expect(await store.connections.get('toucher')).toEqual(second)
  },

  'touch resolves null for unknown and disconnected ids and changes nothing': async ({
    store,
    clock,
  }) => {
    expect(await store.connections.touch('nobody', clock.now())).toBeNull()
    await store.connections.create(newConnection(clock, 'closed'))
    await store.connections.touch('closed', clock.now() + 10)
    await store.connections.disconnect('closed', clock.now() + 20)
    const before = await store.connections.get('closed')
    expect(await store.connections.touch('closed', clock.now() + 30)).toBeNull()
    expect(await store.connections.get('closed')).toEqual(before)
    expect(before?.requestCount).toBe(1)
    expect(before?.lastSeenAt).toBe(clock.now() + 10)
  },

  'disconnect marks the record once; repeats and unknown ids resolve false': async ({
    store,
    clock,
  }) => {
    await store.connections.create(newConnection(clock, 'leaver', { channels: ['room'] }))
    clock.advance(5_000)
    expect(await store.connections.disconnect('leaver', clock.now())).toBe(true)
    expect((await store.connections.get('leaver'))?.disconnectedAt).toBe(clock.now())
    expect(await store.connections.disconnect('leaver', clock.now() + 1)).toBe(false)
    expect((await store.connections.get('leaver'))?.disconnectedAt).toBe(clock.now())
    expect(await store.connections.disconnect('stranger', clock.now())).toBe(false)
    expect(await store.connections.get('stranger')).toBeNull()
  },

  'subscribe appends channels in order; a repeat is a no-op that resolves true': async ({
    store,
    clock,
  }) => {
    await store.connections.create(newConnection(clock, 'sub', { channels: ['first'] }))
    expect(await store.connections.subscribe('sub', 'zeta')).toBe(true)
    expect(await store.connections.subscribe('sub', 'alpha')).toBe(true)
    expect(await store.connections.subscribe('sub', 'first')).toBe(true)
    expect(await store.connections.subscribe('sub', 'zeta')).toBe(true)
    expect([...((await store.connections.get('sub'))?.channels ?? [])]).toEqual([
      'first',
      'zeta',
      'alpha',
    ])
  },

  'subscribe resolves false for unknown and disconnected ids': async ({ store, clock }) => {
    expect(await store.connections.subscribe('nobody', 'room')).toBe(false)
    expect(await store.connections.get('nobody')).toBeNull()
    await store.connections.create(newConnection(clock, 'closed', { channels: ['old'] }))
    await store.connections.disconnect('closed', clock.now())
    expect(await store.connections.subscribe('closed', 'room')).toBe(false)
    expect([...((await store.connections.get('closed'))?.channels ?? [])]).toEqual(['old'])
    expect(idsOf(await listAll(store, { channel: 'room' }, 10))).toEqual([])
  },

  'unsubscribe removes a channel and resolves whether it was subscribed': async ({
    store,
    clock,
  }) => {
    await store.connections.create(newConnection(clock, 'unsub', { channels: ['a', 'b', 'c'] }))
    expect(await store.connections.unsubscribe('unsub', 'b')).toBe(true)
    expect(await store.connections.unsubscribe('unsub', 'b')).toBe(false)
    expect(await store.connections.unsubscribe('unsub', 'never')).toBe(false)
    expect(await store.connections.unsubscribe('nobody', 'a')).toBe(false)
    expect([...((await store.connections.get('unsub'))?.channels ?? [])]).toEqual(['a', 'c'])
  },

  'a connection in several channels is listed under each until it leaves one': async ({
    store,
    clock,
  }) => {
    await store.connections.create(newConnection(clock, 'multi', { channels: ['one'] }))
    await store.connections.subscribe('multi', 'two')
    await store.connections.subscribe('multi', 'three')
    for (const channel of ['one', 'two', 'three']) {
      expect(idsOf(await listAll(store, { channel }, 10)), channel).toEqual(['multi'])
    }
    await store.connections.unsubscribe('multi', 'two')
    expect(idsOf(await listAll(store, { channel: 'two' }, 10))).toEqual([])
    expect(idsOf(await listAll(store, { channel: 'one' }, 10))).toEqual(['multi'])
    expect(idsOf(await listAll(store, { channel: 'three' }, 10))).toEqual(['multi'])
  },
})

const listChecks = group('connections.list', {
  'lists connected records only, by user, by channel and all': async ({ store, clock }) => {
    await createAll(store, [
      newConnection(clock, 'c1', { userId: 'user-1', channels: ['room-a'] }),
      newConnection(clock, 'c2', { userId: 'user-1', channels: ['room-b'] }),
      newConnection(clock, 'c3', { userId: 'user-2', channels: ['room-a'] }),
      newConnection(clock, 'c4', { userId: null, channels: ['room-a'] }),
      newConnection(clock, 'c5', { userId: 'user-1', channels: ['room-a', 'room-b'] }),
    ])
    await store.connections.disconnect('c5', clock.now())
    await store.connections.touch('c1', clock.now() + 1)
    const list = async (filter: ConnectionFilter) => idsOf(await listAll(store, filter, 10))
    expect(await list({ userId: 'user-1' })).toEqual(['c1', 'c2'])
    expect(await list({ userId: 'user-2' })).toEqual(['c3'])
    expect(await list({ userId: 'user-3' })).toEqual([])
    expect(await list({ channel: 'room-a' })).toEqual(['c1', 'c3', 'c4'])
    expect(await list({ channel: 'room-b' })).toEqual(['c2'])
    expect(await list({ channel: 'room-c' })).toEqual([])
    expect(await list({ all: true })).toEqual(['c1', 'c2', 'c3', 'c4'])
    // Listed records are whole, current records.
    const [c1] = (await store.connections.list({ userId: 'user-1' }, { limit: 1 })).items
    expect(c1).toEqual(await store.connections.get('c1'))
    expect(c1?.requestCount).toBe(1)
  },

  'orders records by connection id in binary (code unit) order': async ({ store, clock }) => {
    const ids = ['b', 'B', 'a-1', 'a_1', 'a=1', '0', 'Z', 'z', 'a', 'A9', '_', '-', '=', 'aa']
    await createAll(
      store,
      ids.map((id) => newConnection(clock, id, { channels: ['room'] })),
    )
    const expected = binarySorted(ids)
    expect(idsOf(await listAll(store, { all: true }, 100))).toEqual(expected)
    expect(idsOf(await listAll(store, { channel: 'room' }, 3))).toEqual(expected)
    expect(idsOf(await listAll(store, { userId: 'user-1' }, 1))).toEqual(expected)
  },

  'respects limit; the page holding the last record has a null nextCursor': async ({
    store,
    clock,
  }) => {
    const empty = await store.connections.list({ all: true }, { limit: 10 })
    expect(empty).toEqual({ items: [], nextCursor: null })
    const ids = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']
    await createAll(
      store,
      ids.map((id) => newConnection(clock, id)),
    )
    for (const limit of [1, 2, 3, 4, 6, 7, 100]) {
      expect(idsOf(await listAll(store, { all: true }, limit)), `limit ${limit}`).toEqual(ids)
    }
    const whole = await store.connections.list({ all: true }, { limit: 6 })
    expect(idsOf(whole.items)).toEqual(ids)
    expect(whole.nextCursor, 'nothing follows the 6th of 6 records').toBeNull()
    const first = await store.connections.list({ all: true }, { cursor: null, limit: 2 })
    const absent = await store.connections.list({ all: true }, { limit: 2 })
    expect(idsOf(absent.items)).toEqual(idsOf(first.items))
    expect(first.items.length).toBeGreaterThan(0)
    expect(first.nextCursor).not.toBeNull()
  },

  'pages over 1,000 connections with no overlap or gap': {
    timeoutMs: 60_000,
    run: async ({ store, clock }) => {
      const ids = scrambledIds(1_000, 0x5eed)
      await createAll(
        store,
        ids.map((id, i) =>
          newConnection(clock, id, {
            userId: `user-${i % 7}`,
            channels: [...(i % 2 === 0 ? ['even'] : []), ...(i % 3 === 0 ? ['three'] : [])],
          }),
        ),
      )
      const leaving = ids.filter((_, i) => i % 10 === 5)
      await inBatches(leaving, 50, (id) => store.connections.disconnect(id, clock.now()))
      const connected = (keep: (i: number) => boolean) =>
        binarySorted(ids.filter((_, i) => i % 10 !== 5 && keep(i)))

      const all = idsOf(await listAll(store, { all: true }, 100))
      expect(all).toHaveLength(900)
      expect(all).toEqual(connected(() => true))
      expect(idsOf(await listAll(store, { channel: 'even' }, 37))).toEqual(
        connected((i) => i % 2 === 0),
      )
      expect(idsOf(await listAll(store, { channel: 'three' }, 1_000))).toEqual(
        connected((i) => i % 3 === 0),
      )
      expect(idsOf(await listAll(store, { userId: 'user-3' }, 25))).toEqual(
        connected((i) => i % 7 === 3),
      )
    },
  },

  'never repeats a record, nor skips one that exists throughout, while others come and go': async ({
    store,
    clock,
  }) => {
    const ids = range(0, 29).map((i) => `m${String(i).padStart(2, '0')}`)
    await createAll(
      store,
      ids.map((id) => newConnection(clock, id, { channels: ['room'] })),
    )
    const changed = new Set<string>()
    const seen: string[] = []
    let cursor: string | null = null
    let round = 0
    for (; round < 40; round += 1) {
      const page: Page<ConnectionRecord> = await store.connections.list(
        { channel: 'room' },
        { cursor, limit: 5 },
      )
      seen.push(...idsOf(page.items))
      if (page.nextCursor === null) break
      cursor = page.nextCursor
      // Between pages: a record already returned leaves (an offset would now skip one), a
      // record ahead leaves the channel, and new records appear before and after the cursor.
      const [firstOfPage] = idsOf(page.items)
      if (firstOfPage !== undefined) {
        await store.connections.disconnect(firstOfPage, clock.now())
        changed.add(firstOfPage)
      }
      const ahead = `m${String(27 - round).padStart(2, '0')}`
      await store.connections.unsubscribe(ahead, 'room')
      changed.add(ahead)
      for (const id of [`m0${round}x`, `m9${round}`]) {
        await store.connections.create(newConnection(clock, id, { channels: ['room'] }))
        changed.add(id)
      }
    }
    expect(round, 'paging terminated').toBeLessThan(40)
    expect(new Set(seen).size, 'no record is returned twice').toBe(seen.length)
    expect(seen, 'records arrive in ascending order').toEqual(binarySorted(seen))
    for (const id of ids) {
      if (!changed.has(id)) expect(seen, `${id} exists throughout`).toContain(id)
    }
  },
})

const tokenChecks = group('tokens', {
  'consume resolves the stored record once': async ({ store, clock }) => {
    const hash = await hashOf('once')
    const token = newToken(hash, clock, {
      userId: 'user-9',
      sessionHash: await hashOf('session'),
      channel: 'room-1',
    })
    await store.tokens.put(token)
    const options = { sessionHash: token.sessionHash, now: clock.now() }
    const consumed = await store.tokens.consume(hash, options)
    expect(consumed).not.toBeNull()
    expect(tokenFields(consumed as TokenRecord)).toEqual(token)
    expect(await store.tokens.consume(hash, options), 'a used token').toBeNull()
    clock.advance(1)
    expect(await store.tokens.consume(hash, { ...options, now: clock.now() })).toBeNull()
  },

  'consume resolves null for an unknown hash': async ({ store, clock }) => {
    await store.tokens.put(newToken(await hashOf('known'), clock))
    expect(
      await store.tokens.consume(await hashOf('unknown'), { sessionHash: null, now: clock.now() }),
    ).toBeNull()
  },

  'a token is valid while expiresAt > now: 1 ms before is accepted, at expiresAt refused': async ({
    store,
    clock,
  }) => {
    const early = await hashOf('early')
    const late = await hashOf('late')
    const expiresAt = clock.now() + MINUTE
    await store.tokens.put(newToken(early, clock, { expiresAt }))
    await store.tokens.put(newToken(late, clock, { expiresAt }))
    clock.advance(MINUTE - 1)
    const accepted = await store.tokens.consume(early, { sessionHash: null, now: clock.now() })
    expect(accepted?.hash).toBe(early)
    clock.advance(1)
    expect(clock.now()).toBe(expiresAt)
    expect(await store.tokens.consume(late, { sessionHash: null, now: clock.now() })).toBeNull()
    clock.advance(HOUR)
    expect(await store.tokens.consume(late, { sessionHash: null, now: clock.now() })).toBeNull()
  },

  'a refused consume changes nothing': async ({ store, clock }) => {
    const hash = await hashOf('refused')
    const sessionHash = await hashOf('right session')
    const token = newToken(hash, clock, { sessionHash })
    await store.tokens.put(token)
    const wrong = await hashOf('wrong session')
    expect(await store.tokens.consume(hash, { sessionHash: wrong, now: clock.now() })).toBeNull()
    expect(await store.tokens.consume(hash, { sessionHash, now: token.expiresAt })).toBeNull()
    const later = await store.tokens.consume(hash, { sessionHash, now: token.expiresAt - 1 })
    expect(later && tokenFields(later)).toEqual(token)
  },

  'a session-bound token is consumable only with the same sessionHash': async ({
    store,
    clock,
  }) => {
    const hash = await hashOf('bound')
    const sessionHash = await hashOf('session-a')
    await store.tokens.put(newToken(hash, clock, { sessionHash }))
    const now = clock.now()
    expect(await store.tokens.consume(hash, { sessionHash: null, now })).toBeNull()
    const other = await hashOf('session-b')
    expect(await store.tokens.consume(hash, { sessionHash: other, now })).toBeNull()
    expect(
      await store.tokens.consume(hash, { sessionHash: sessionHash.toUpperCase(), now }),
    ).toBeNull()
    expect((await store.tokens.consume(hash, { sessionHash, now }))?.sessionHash).toBe(sessionHash)
  },

  'a token without sessionHash is consumable with any sessionHash': async ({ store, clock }) => {
    const withSession = await hashOf('unbound-1')
    const withoutSession = await hashOf('unbound-2')
    await store.tokens.put(newToken(withSession, clock))
    await store.tokens.put(newToken(withoutSession, clock))
    const anySession = await hashOf('any session')
    const now = clock.now()
    expect((await store.tokens.consume(withSession, { sessionHash: anySession, now }))?.hash).toBe(
      withSession,
    )
    expect((await store.tokens.consume(withoutSession, { sessionHash: null, now }))?.hash).toBe(
      withoutSession,
    )
  },

  'put rejects a duplicate hash, used or not, and keeps the first record': async ({
    store,
    clock,
  }) => {
    const hash = await hashOf('duplicate')
    const first = newToken(hash, clock, { userId: 'first' })
    await store.tokens.put(first)
    await expect(store.tokens.put(newToken(hash, clock, { userId: 'second' }))).rejects.toThrow()
    const consumed = await store.tokens.consume(hash, { sessionHash: null, now: clock.now() })
    expect(consumed && tokenFields(consumed)).toEqual(first)
    await expect(
      store.tokens.put(newToken(hash, clock, { userId: 'third', expiresAt: clock.now() + HOUR })),
    ).rejects.toThrow()
    expect(await store.tokens.consume(hash, { sessionHash: null, now: clock.now() })).toBeNull()
  },

  'tokens are isolated by hash': async ({ store, clock }) => {
    const a = newToken(await hashOf('a'), clock, { userId: 'user-a', channel: 'room-a' })
    const b = newToken(await hashOf('b'), clock, {
      userId: 'user-b',
      channel: null,
      expiresAt: clock.now() + 2 * MINUTE,
    })
    await store.tokens.put(a)
    await store.tokens.put(b)
    const now = clock.now()
    const gotA = await store.tokens.consume(a.hash, { sessionHash: null, now })
    expect(gotA && tokenFields(gotA)).toEqual(a)
    expect(await store.tokens.consume(a.hash, { sessionHash: null, now })).toBeNull()
    const gotB = await store.tokens.consume(b.hash, { sessionHash: null, now })
    expect(gotB && tokenFields(gotB)).toEqual(b)
  },
})

const limitChecks = group('limits', {
  'the first hit opens a window of windowMs starting at now': async ({ store, clock }) => {
    const result = await store.limits.hit('first', { limit: 5, windowMs: MINUTE }, clock.now())
    expect(result).toEqual({ allowed: true, count: 1, resetAt: clock.now() + MINUTE })
  },

  'every hit in the window is counted, allowed or not; resetAt stays fixed': async ({
    store,
    clock,
  }) => {
    const rule = { limit: 3, windowMs: MINUTE }
    const resetAt = clock.now() + MINUTE
    const results = []
    for (let i = 0; i < 6; i += 1) {
      results.push(await store.limits.hit('counted', rule, clock.now()))
      clock.advance(1_000)
    }
    expect(results).toEqual(range(1, 6).map((count) => ({ allowed: count <= 3, count, resetAt })))
  },

  'a new window starts with count 1 once now >= resetAt': async ({ store, clock }) => {
    const rule = { limit: 2, windowMs: 10_000 }
    const start = clock.now()
    await store.limits.hit('window', rule, start)
    await store.limits.hit('window', rule, start)
    expect(await store.limits.hit('window', rule, start + 9_999)).toEqual({
      allowed: false,
      count: 3,
      resetAt: start + 10_000,
    })
    expect(await store.limits.hit('window', rule, start + 10_000)).toEqual({
      allowed: true,
      count: 1,
      resetAt: start + 20_000,
    })
    expect((await store.limits.hit('window', rule, start + 19_999)).count).toBe(2)
    // After a gap, the window starts at the hit, not on a grid of earlier windows.
    const late = start + 20_000 + 12_345
    expect(await store.limits.hit('window', rule, late)).toEqual({
      allowed: true,
      count: 1,
      resetAt: late + 10_000,
    })
  },

  'keys are isolated, even when one is a prefix of another': async ({ store, clock }) => {
    const rule = { limit: 2, windowMs: MINUTE }
    const now = clock.now()
    for (let i = 0; i < 5; i += 1) await store.limits.hit('connect:ip:203.0.113.1', rule, now)
    clock.advance(1_000)
    for (const key of ['connect:ip:203.0.113.10', 'connect:user:203.0.113.1', 'connect:ip:']) {
      expect(await store.limits.hit(key, rule, clock.now()), key).toEqual({
        allowed: true,
        count: 1,
        resetAt: clock.now() + MINUTE,
      })
    }
    expect(await store.limits.hit('connect:ip:203.0.113.1', rule, clock.now())).toEqual({
      allowed: false,
      count: 6,
      resetAt: now + MINUTE,
    })
  },
})

/** Thresholds that match no connection, for cleanup checks about tokens and windows. */
function cleanupAt(now: number, batchSize = 100) {
  return { now, disconnectedBefore: 0, connectedBefore: 0, batchSize }
}

const cleanupChecks = group('cleanup', {
  'deletes used tokens and tokens with expiresAt <= now, and nothing else': async ({
    store,
    clock,
  }) => {
    const now = clock.now()
    const hashes = {
      expired: await hashOf('expired'),
      boundary: await hashOf('boundary'),
      live: await hashOf('live'),
      used: await hashOf('used'),
    }
    await store.tokens.put(newToken(hashes.expired, clock, { expiresAt: now - 1 }))
    await store.tokens.put(newToken(hashes.boundary, clock, { expiresAt: now }))
    await store.tokens.put(newToken(hashes.live, clock, { expiresAt: now + 1 }))
    await store.tokens.put(newToken(hashes.used, clock, { expiresAt: now + HOUR }))
    expect(await store.tokens.consume(hashes.used, { sessionHash: null, now })).not.toBeNull()

    expect(await store.cleanup(cleanupAt(now))).toEqual({
      tokens: 3,
      rateLimits: 0,
      connections: 0,
    })
    // A deleted hash can be stored again; a kept one still rejects and still works.
    for (const hash of [hashes.expired, hashes.boundary, hashes.used]) {
      await store.tokens.put(newToken(hash, clock))
    }
    await expect(store.tokens.put(newToken(hashes.live, clock))).rejects.toThrow()
    expect((await store.tokens.consume(hashes.live, { sessionHash: null, now }))?.expiresAt).toBe(
      now + 1,
    )
  },

  'deletes rate-limit windows that ended at or before now': async ({ store, clock }) => {
    const start = clock.now()
    await store.limits.hit('ended', { limit: 5, windowMs: 9_999 }, start)
    await store.limits.hit('boundary', { limit: 5, windowMs: 10_000 }, start)
    await store.limits.hit('live', { limit: 5, windowMs: 10_001 }, start)
    const now = start + 10_000
    expect(await store.cleanup(cleanupAt(now))).toEqual({
      tokens: 0,
      rateLimits: 2,
      connections: 0,
    })
    expect(await store.limits.hit('live', { limit: 5, windowMs: 10_001 }, now)).toEqual({
      allowed: true,
      count: 2,
      resetAt: start + 10_001,
    })
  },

  'deletes connections disconnected or connected at or before the thresholds': async ({
    store,
    clock,
  }) => {
    const now = clock.now()
    const connectedBefore = now - 2 * HOUR - MINUTE
    const disconnectedBefore = now - MINUTE
    const at = (connectedAt: number) => ({ connectedAt, channels: ['room'] })
    await createAll(store, [
      newConnection(clock, 'old-boundary', at(connectedBefore)),
      newConnection(clock, 'old', at(connectedBefore - 1)),
      newConnection(clock, 'young', at(connectedBefore + 1)),
      newConnection(clock, 'closed-boundary', at(now - 10 * MINUTE)),
      newConnection(clock, 'closed-recent', at(now - 10 * MINUTE)),
      newConnection(clock, 'old-and-closed', at(connectedBefore - 5)),
    ])
    await store.connections.disconnect('closed-boundary', disconnectedBefore)
    await store.connections.disconnect('closed-recent', disconnectedBefore + 1)
    await store.connections.disconnect('old-and-closed', disconnectedBefore - 5)

    expect(
      await store.cleanup({ now, disconnectedBefore, connectedBefore, batchSize: 100 }),
    ).toEqual({ tokens: 0, rateLimits: 0, connections: 4 })
    for (const id of ['old-boundary', 'old', 'closed-boundary', 'old-and-closed']) {
      expect(await store.connections.get(id), id).toBeNull()
    }
    expect((await store.connections.get('young'))?.disconnectedAt).toBeNull()
    expect((await store.connections.get('closed-recent'))?.disconnectedAt).toBe(
      disconnectedBefore + 1,
    )
    expect(idsOf(await listAll(store, { channel: 'room' }, 10))).toEqual(['young'])
    expect(idsOf(await listAll(store, { userId: 'user-1' }, 10))).toEqual(['young'])
    expect(idsOf(await listAll(store, { all: true }, 10))).toEqual(['young'])
    // Deleted means gone everywhere: the id is free again and keeps no old channel.
    expect(await store.connections.create(newConnection(clock, 'old', { channels: ['new'] }))).toBe(
      true,
    )
    expect(idsOf(await listAll(store, { channel: 'room' }, 10))).toEqual(['young'])
  },

  'deletes at most batchSize of each kind per call; callers loop until done': async ({
    store,
    clock,
  }) => {
    const now = clock.now()
    for (let i = 0; i < 7; i += 1) {
      await store.tokens.put(newToken(await hashOf(`batch-${i}`), clock, { expiresAt: now }))
      await store.limits.hit(`batch-${i}`, { limit: 1, windowMs: 1 }, now - 1)
    }
    await createAll(
      store,
      range(0, 6).map((i) => newConnection(clock, `batch-${i}`, { connectedAt: now - 3 * HOUR })),
    )
    const request = { now, disconnectedBefore: now, connectedBefore: now - 2 * HOUR, batchSize: 3 }
    expect(await store.cleanup(request)).toEqual({ tokens: 3, rateLimits: 3, connections: 3 })
    expect(await store.cleanup(request)).toEqual({ tokens: 3, rateLimits: 3, connections: 3 })
    expect(await store.cleanup(request)).toEqual({ tokens: 1, rateLimits: 1, connections: 1 })
    expect(await store.cleanup(request)).toEqual({ tokens: 0, rateLimits: 0, connections: 0 })
    expect(idsOf(await listAll(store, { all: true }, 10))).toEqual([])
  },

  'is idempotent and leaves live data alone': async ({ store, clock }) => {
    const now = clock.now()
    const live = newToken(await hashOf('live'), clock)
    await store.tokens.put(live)
    await store.tokens.put(newToken(await hashOf('dead'), clock, { expiresAt: now - 1 }))
    await store.limits.hit('live', { limit: 5, windowMs: MINUTE }, now)
    await store.limits.hit('dead', { limit: 5, windowMs: MINUTE }, now - HOUR)
    await store.connections.create(newConnection(clock, 'live', { channels: ['room'] }))
    await store.connections.create(newConnection(clock, 'dead'))
    await store.connections.disconnect('dead', now - HOUR)
    const request = {
      now,
      disconnectedBefore: now - MINUTE,
      connectedBefore: now - 3 * HOUR,
      batchSize: 100,
    }
    expect(await store.cleanup(request)).toEqual({ tokens: 1, rateLimits: 1, connections: 1 })
    expect(await store.cleanup(request)).toEqual({ tokens: 0, rateLimits: 0, connections: 0 })
    expect(idsOf(await listAll(store, { channel: 'room' }, 10))).toEqual(['live'])
    expect((await store.limits.hit('live', { limit: 5, windowMs: MINUTE }, now)).count).toBe(2)
    const consumed = await store.tokens.consume(live.hash, { sessionHash: null, now })
    expect(consumed && tokenFields(consumed)).toEqual(live)
  },
})

const concurrencyChecks = group('concurrency', {
  '50 parallel consumes of one token: exactly one wins': async ({ store, clock }) => {
    const hash = await hashOf('race')
    const token = newToken(hash, clock, { userId: 'racer' })
    await store.tokens.put(token)
    const results = await Promise.all(
      range(1, 50).map(() => store.tokens.consume(hash, { sessionHash: null, now: clock.now() })),
    )
    const winners = results.filter((result) => result !== null)
    expect(winners).toHaveLength(1)
    expect(tokenFields(winners[0] as TokenRecord)).toEqual(token)
  },

  '50 parallel consumes with mixed sessions: exactly one wins, with the bound session': async ({
    store,
    clock,
  }) => {
    const hash = await hashOf('mixed race')
    const sessionHash = await hashOf('the session')
    const wrong = await hashOf('another session')
    await store.tokens.put(newToken(hash, clock, { sessionHash }))
    const now = clock.now()
    const attempts = range(1, 50).map((i) => (i % 2 === 0 ? sessionHash : wrong))
    const results = await Promise.all(
      attempts.map((attempt) => store.tokens.consume(hash, { sessionHash: attempt, now })),
    )
    const winners = results.flatMap((result, i) => (result === null ? [] : [attempts[i]]))
    expect(winners).toEqual([sessionHash])
  },

  '20 parallel puts of one hash: exactly one succeeds': async ({ store, clock }) => {
    const hash = await hashOf('put race')
    const settled = await Promise.allSettled(
      range(1, 20).map((i) => store.tokens.put(newToken(hash, clock, { userId: `user-${i}` }))),
    )
    const fulfilled = settled.flatMap((outcome, i) =>
      outcome.status === 'fulfilled' ? [`user-${i + 1}`] : [],
    )
    expect(fulfilled).toHaveLength(1)
    const consumed = await store.tokens.consume(hash, { sessionHash: null, now: clock.now() })
    expect(consumed?.userId).toBe(fulfilled[0])
  },

  '100 parallel hits with limit 20: exactly 20 allowed, counts are 1..100': async ({
    store,
    clock,
  }) => {
    const now = clock.now()
    const results = await Promise.all(
      range(1, 100).map(() => store.limits.hit('burst', { limit: 20, windowMs: MINUTE }, now)),
    )
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(range(1, 100))
    expect(countTrue(results.map((r) => r.allowed))).toBe(20)
    for (const result of results) {
      expect(result.allowed, `count ${result.count}`).toBe(result.count <= 20)
      expect(result.resetAt).toBe(now + MINUTE)
    }
  },

  'parallel hits on two keys are counted per key': async ({ store, clock }) => {
    const now = clock.now()
    const keys = range(1, 60).map((i) => (i % 2 === 0 ? 'left' : 'right'))
    const results = await Promise.all(
      keys.map((key) => store.limits.hit(key, { limit: 10, windowMs: MINUTE }, now)),
    )
    for (const side of ['left', 'right']) {
      const counts = results.filter((_, i) => keys[i] === side).map((r) => r.count)
      expect(
        counts.sort((a, b) => a - b),
        side,
      ).toEqual(range(1, 30))
    }
  },

  '50 parallel touches: requestCount grows by exactly 50': async ({ store, clock }) => {
    await store.connections.create(newConnection(clock, 'busy'))
    const now = clock.now() + 1_000
    const results = await Promise.all(range(1, 50).map(() => store.connections.touch('busy', now)))
    const counts = results.map((record) => record?.requestCount ?? 0)
    expect(counts.sort((a, b) => a - b)).toEqual(range(1, 50))
    const record = await store.connections.get('busy')
    expect(record?.requestCount).toBe(50)
    expect(record?.lastSeenAt).toBe(now)
  },

  '10 parallel disconnects: exactly one resolves true': async ({ store, clock }) => {
    await store.connections.create(newConnection(clock, 'bye'))
    const now = clock.now() + 1_000
    const results = await Promise.all(
      range(1, 10).map(() => store.connections.disconnect('bye', now)),
    )
    expect(countTrue(results)).toBe(1)
    expect((await store.connections.get('bye'))?.disconnectedAt).toBe(now)
  },

  '10 parallel creates of one id: exactly one resolves true, and its record is kept': async ({
    store,
    clock,
  }) => {
    const attempts = range(1, 10).map((i) =>
      newConnection(clock, 'twin', { userId: `user-${i}`, channels: [`room-${i}`] }),
    )
    const results = await Promise.all(attempts.map((c) => store.connections.create(c)))
    expect(countTrue(results)).toBe(1)
    const winner = attempts[results.indexOf(true)] as NewConnection
    const record = (await store.connections.get('twin')) as ConnectionRecord
    expect(record.userId).toBe(winner.userId)
    expect([...record.channels]).toEqual(winner.channels)
  },

  'parallel subscribes and touches on one connection lose no update': async ({ store, clock }) => {
    await store.connections.create(newConnection(clock, 'hub'))
    const channels = range(1, 10).map((i) => `room-${i}`)
    const now = clock.now()
    await Promise.all([
      ...channels.map((channel) => store.connections.subscribe('hub', channel)),
      ...range(1, 20).map(() => store.connections.touch('hub', now)),
    ])
    const record = (await store.connections.get('hub')) as ConnectionRecord
    expect(record.requestCount).toBe(20)
    expect([...record.channels].sort()).toEqual([...channels].sort())
    for (const channel of channels) {
      expect(idsOf(await listAll(store, { channel }, 10)), channel).toEqual(['hub'])
    }
  },
})

const hashAtRestChecks = group('hash at rest', {
  'tokens issued by the gateway are stored as SHA-256 only, without the session id': {
    needsInspect: true,
    run: async ({ store, clock, inspect }) => {
      if (inspect === null) throw new Error('this check needs the inspect option')
      const gateway = createGateway({
        store,
        clock,
        integrationSecret: 'test-secret-for-the-store-suite',
        allowedOrigins: ['https://app.example'],
        auth: { resolveSession: () => null },
      })
      const sessionId = `session-canary-${randomHex(16)}`
      const tokens: string[] = []
      for (const channel of [null, 'room-1']) {
        const response = await gateway.issueToken({
          method: 'POST',
          headers: { origin: 'https://app.example' },
          userId: 'user-1',
          sessionId,
          channel,
        })
        expect(response.status, String(response.body)).toBe(200)
        const body: unknown = JSON.parse(String(response.body))
        const token = (body as { token?: unknown }).token
        expect(typeof token).toBe('string')
        tokens.push(token as string)
      }
      const dump = await inspect()
      for (const token of tokens) {
        expect(dump).toContain(await sha256Hex(token))
        expect(dump).not.toContain(token)
        // The random part alone, in case a store strips the recognisable prefix.
        expect(dump).not.toContain(token.slice(-32))
      }
      expect(dump).not.toContain(sessionId)
      expect(dump).not.toContain(sessionId.slice('session-canary-'.length))
    },
  },
})

/**
 * Every conformance check, in registration order. Internal: `testStore` registers these; the
 * suite's own tests run them against deliberately broken stores to prove each one can fail.
 */
export const storeChecks: readonly StoreCheck[] = Object.freeze([
  ...shapeChecks,
  ...connectionChecks,
  ...listChecks,
  ...tokenChecks,
  ...limitChecks,
  ...cleanupChecks,
  ...concurrencyChecks,
  ...hashAtRestChecks,
])

function assertOptions(value: unknown): void {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError('testStore: options must be an object')
  }
  const options = value as Record<string, unknown>
  if (typeof options.name !== 'string' || options.name.length === 0) {
    throw new TypeError('testStore: name must be a non-empty string')
  }
  if (typeof options.create !== 'function') {
    throw new TypeError('testStore: create must be a function')
  }
  for (const key of ['destroy', 'inspect']) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new TypeError(`testStore: ${key} must be a function`)
    }
  }
}

/**
 * Registers the store conformance suite as a vitest `describe(name)` block. Call it at the top
 * level of a test file. Every test gets a fresh store from `create` (in `beforeEach`) and a fresh
 * fake clock, and `destroy` runs in `afterEach` even when the test failed.
 *
 * The suite covers every method of the store SPI and every sentence of its TSDoc: connection
 * bookkeeping, `list` filters and keyset pagination (1,000 connections, ascending binary order
 * of ids, stable while records come and go), single-use session-bound tokens with exact TTL
 * boundaries, fixed-window limits, batched idempotent `cleanup`, key isolation, and concurrency:
 * 50 parallel `consume`s of one token have exactly one winner, 100 parallel `hit`s with limit 20
 * allow exactly 20 with counts 1..100, 50 parallel `touch`es count 50, 10 parallel `disconnect`s
 * have exactly one `true`. The concurrency checks cannot be disabled. With `inspect`, it also
 * checks that tokens are stored only as SHA-256 and session ids not at all.
 *
 * Throws `TypeError` at registration for invalid options.
 *
 * @example
 * ```ts
 * import { testStore } from '@apigw-ws/core/testing'
 * import { myStore } from './my-store.js'
 *
 * testStore({
 *   name: 'my store',
 *   create: () => myStore({ url: process.env.DATABASE_URL }),
 *   destroy: (store) => store.close(),
 *   inspect: (store) => store.dumpAllRowsAsJson(),
 * })
 * ```
 */
export function testStore<S extends Store>(options: TestStoreOptions<S>): void {
  assertOptions(options)
  const { name, create, destroy, inspect } = options

  describe(name, () => {
    let current: { readonly store: S; readonly clock: FakeClock } | null = null

    beforeEach(async () => {
      current = { store: await create(), clock: fakeClock() }
    })

    afterEach(async () => {
      const finished = current
      current = null
      if (finished !== null && destroy !== undefined) await destroy(finished.store)
    })

    const context = (): StoreCheckContext => {
      if (current === null) throw new Error(`testStore(${name}): create() did not run`)
      const { store, clock } = current
      return {
        store,
        clock,
        inspect: inspect === undefined ? null : async () => inspect(store),
      }
    }

    const groups = [...new Set(storeChecks.map((check) => check.group))]
    for (const groupName of groups) {
      describe(groupName, () => {
        for (const check of storeChecks.filter((c) => c.group === groupName)) {
          if (check.needsInspect && inspect === undefined) {
            it.skip(`${check.name} (needs the inspect option)`, () => {})
          } else {
            it(check.name, () => check.run(context()), check.timeoutMs)
          }
        }
      })
    }
  })
}
