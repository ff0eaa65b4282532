import { describe, expect, it } from 'vitest'
import { defineStore } from '../define-store.js'
import type {
  AdmitMessageRequest,
  AdmitMessageResult,
  AdmitRequest,
  CleanupRequest,
  ConnectionFilter,
  ConnectionRecord,
  NewConnection,
  PageRequest,
  StoreParts,
  TokenRecord,
} from '../store.js'
import { fakeClock } from './fake-clock.js'
import { type StoreCheck, storeChecks, testStore } from './test-store.js'

// A deliberately plain model of the store contract: obviously correct, not efficient. It proves
// the suite passes for a store other than the memory store, and it is the base the mutants
// below break one property at a time.

interface ConnectionRow {
  connectionId: string
  userId: string | null
  channels: string[]
  apiId: string | null
  stage: string | null
  domainName: string | null
  connectedAt: number
  lastSeenAt: number
  requestCount: number
  disconnectedAt: number | null
}

interface ModelState {
  readonly connections: Map<string, ConnectionRow>
  readonly tokens: Map<string, { record: TokenRecord; used: boolean }>
  readonly limits: Map<string, { count: number; resetAt: number }>
}

interface Model {
  readonly store: StoreParts
  readonly state: ModelState
  readonly dump: () => string
}

const copy = ({ channels: _channels, ...record }: ConnectionRow): ConnectionRecord => record

function matches(row: ConnectionRow, filter: ConnectionFilter): boolean {
  if (row.disconnectedAt !== null) return false
  if ('userId' in filter) return row.userId === filter.userId
  if ('channel' in filter) return row.channels.includes(filter.channel)
  return true
}

function modelStore(): Model {
  const state: ModelState = { connections: new Map(), tokens: new Map(), limits: new Map() }
  const connected = (id: string) => {
    const row = state.connections.get(id)
    return row !== undefined && row.disconnectedAt === null ? row : null
  }
  const store: StoreParts = {
    connections: {
      create: async (c: NewConnection, now: number) => {
        if (state.connections.has(c.connectionId)) return false
        state.connections.set(c.connectionId, {
          ...c,
          channels: [...c.channels],
          connectedAt: now,
          lastSeenAt: now,
          requestCount: 0,
          disconnectedAt: null,
        })
        return true
      },
      get: async (id) => {
        const row = state.connections.get(id)
        return row === undefined ? null : copy(row)
      },
      touch: async (id, now) => {
        const row = connected(id)
        if (row === null) return null
        row.requestCount += 1
        row.lastSeenAt = now
        return copy(row)
      },
      disconnect: async (id, now) => {
        const row = connected(id)
        if (row === null) return false
        row.disconnectedAt = now
        return true
      },
      channels: async (id) => [...(state.connections.get(id)?.channels ?? [])],
      subscribe: async (id, channel, maxChannels) => {
        const row = connected(id)
        if (row === null) return 'gone'
        if (row.channels.includes(channel)) return 'subscribed'
        if (row.channels.length >= maxChannels) return 'limit'
        row.channels.push(channel)
        return 'subscribed'
      },
      unsubscribe: async (id, channel) => {
        const row = state.connections.get(id)
        if (row === undefined || !row.channels.includes(channel)) return false
        row.channels = row.channels.filter((c) => c !== channel)
        return true
      },
      list: async (filter: ConnectionFilter, page: PageRequest) => {
        const cursor = page.cursor ?? null
        const rows = [...state.connections.values()]
          .filter((row) => matches(row, filter) && (cursor === null || row.connectionId > cursor))
          .sort((a, b) => (a.connectionId < b.connectionId ? -1 : 1))
        const items = rows.slice(0, page.limit).map(copy)
        const last = items[items.length - 1]
        return {
          items,
          nextCursor: rows.length > page.limit && last ? last.connectionId : null,
        }
      },
    },
    tokens: {
      put: async (token) => {
        if (state.tokens.has(token.hash)) return false
        state.tokens.set(token.hash, { record: { ...token }, used: false })
        return true
      },
      consume: async (hash, sessionHash, now) => {
        const row = state.tokens.get(hash)
        if (row === undefined || row.used || !(row.record.expiresAt > now)) return null
        if (row.record.sessionHash !== null && row.record.sessionHash !== sessionHash) return null
        row.used = true
        return { ...row.record }
      },
    },
    limits: {
      hit: async (key, rule, now) => {
        const current = state.limits.get(key)
        const window =
          current !== undefined && now < current.resetAt
            ? current
            : { count: 0, resetAt: now + rule.windowMs }
        window.count += 1
        state.limits.set(key, window)
        return { allowed: window.count <= rule.limit, count: window.count, resetAt: window.resetAt }
      },
    },
    cleanup: async (request: CleanupRequest, now: number) => {
      const counts = { tokens: 0, rateLimits: 0, connections: 0 }
      for (const [hash, row] of state.tokens) {
        if (counts.tokens < request.batchSize && (row.used || row.record.expiresAt <= now)) {
          state.tokens.delete(hash)
          counts.tokens += 1
        }
      }
      for (const [key, window] of state.limits) {
        if (counts.rateLimits < request.batchSize && window.resetAt <= now) {
          state.limits.delete(key)
          counts.rateLimits += 1
        }
      }
      for (const [id, row] of state.connections) {
        const stale =
          row.connectedAt <= request.connectedBefore ||
          (row.disconnectedAt !== null && row.disconnectedAt <= request.disconnectedBefore)
        if (counts.connections < request.batchSize && stale) {
          state.connections.delete(id)
          counts.connections += 1
        }
      }
      return counts
    },
  }
  const dump = () =>
    JSON.stringify({
      connections: [...state.connections.values()],
      tokens: [...state.tokens.values()],
      limits: [...state.limits],
    })
  return { store, state, dump }
}

const dumps = new WeakMap<StoreParts, () => string>()

testStore({
  name: 'reference model',
  create: () => {
    const { store, dump } = modelStore()
    dumps.set(store, dump)
    return store
  },
  inspect: (store) => (dumps.get(store) as () => string)(),
})

/**
 * The gap a racy read-then-write leaves open. One microtask is enough: `Promise.all` starts every
 * call, and each runs up to its first `await`, before any of them resumes.
 */
const gap = () => Promise.resolve()

interface Mutant {
  /** The flaw, as a reviewer would describe it. */
  readonly flaw: string
  /** The check that must catch it. */
  readonly check: string
  /** Returns the broken store (and, optionally, a dishonest dump). */
  readonly build: (model: Model) => { store: StoreParts; dump?: () => string }
}

function patch<K extends 'connections' | 'tokens' | 'limits'>(
  store: StoreParts,
  group: K,
  methods: Partial<StoreParts[K]>,
): StoreParts {
  return { ...store, [group]: { ...store[group], ...methods } }
}

const mutants: Mutant[] = [
  {
    flaw: 'consume checks, awaits, then marks used',
    check: '50 parallel consumes of one token: exactly one wins',
    build: ({ store, state }) => ({
      store: patch(store, 'tokens', {
        consume: async (hash, _sessionHash, now) => {
          const row = state.tokens.get(hash)
          if (row === undefined || row.used || !(row.record.expiresAt > now)) return null
          await gap()
          row.used = true
          return row.record
        },
      }),
    }),
  },
  {
    flaw: 'hit reads the count, awaits, then writes it back',
    check: '100 parallel hits with limit 20: exactly 20 allowed, counts are 1..100',
    build: ({ store, state }) => ({
      store: patch(store, 'limits', {
        hit: async (key, rule, now) => {
          const current = state.limits.get(key)
          const live = current !== undefined && now < current.resetAt
          const count = live ? current.count + 1 : 1
          const resetAt = live ? current.resetAt : now + rule.windowMs
          await gap()
          state.limits.set(key, { count, resetAt })
          return { allowed: count <= rule.limit, count, resetAt }
        },
      }),
    }),
  },
  {
    flaw: 'touch reads requestCount, awaits, then writes it back',
    check: '50 parallel touches: requestCount grows by exactly 50',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        touch: async (id, now) => {
          const row = state.connections.get(id)
          if (row === undefined || row.disconnectedAt !== null) return null
          const count = row.requestCount + 1
          await gap()
          row.requestCount = count
          row.lastSeenAt = now
          return copy(row)
        },
      }),
    }),
  },
  {
    flaw: 'disconnect checks, awaits, then marks',
    check: '10 parallel disconnects: exactly one resolves true',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        disconnect: async (id, now) => {
          const row = state.connections.get(id)
          if (row === undefined || row.disconnectedAt !== null) return false
          await gap()
          row.disconnectedAt = now
          return true
        },
      }),
    }),
  },
  {
    flaw: 'create checks for the id, awaits, then inserts',
    check: '10 parallel creates of one id: exactly one resolves true, and its record is kept',
    build: (model) => ({
      store: patch(model.store, 'connections', {
        create: async (c, now) => {
          if (model.state.connections.has(c.connectionId)) return false
          await gap()
          model.state.connections.delete(c.connectionId)
          return model.store.connections.create(c, now)
        },
      }),
    }),
  },
  {
    flaw: 'subscribe rewrites the channel list read before an await',
    check: 'parallel subscribes and touches on one connection lose no update',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        subscribe: async (id, channel) => {
          const row = state.connections.get(id)
          if (row === undefined || row.disconnectedAt !== null) return 'gone'
          const channels = row.channels
          await gap()
          row.channels = channels.includes(channel) ? channels : [...channels, channel]
          return 'subscribed'
        },
      }),
    }),
  },
  {
    flaw: 'put checks for the hash, awaits, then inserts',
    check: '20 parallel puts of one hash: exactly one resolves true, the others false',
    build: ({ store, state }) => ({
      store: patch(store, 'tokens', {
        put: async (token) => {
          if (state.tokens.has(token.hash)) return false
          await gap()
          state.tokens.set(token.hash, { record: { ...token }, used: false })
          return true
        },
      }),
    }),
  },
  {
    flaw: 'list paginates by offset',
    check: 'never repeats a record, nor skips one that exists throughout, while others come and go',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        list: async (filter, page) => {
          const offset = Number(page.cursor ?? 0)
          const rows = [...state.connections.values()]
            .filter((row) => matches(row, filter))
            .sort((a, b) => (a.connectionId < b.connectionId ? -1 : 1))
          const items = rows.slice(offset, offset + page.limit).map(copy)
          const next = offset + items.length
          return { items, nextCursor: next < rows.length ? String(next) : null }
        },
      }),
    }),
  },
  {
    flaw: 'list orders ids with a locale collation',
    check: 'orders records by connection id in binary (code unit) order',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        list: async (filter, page) => {
          const rows = [...state.connections.values()]
            .filter((row) => matches(row, filter))
            .sort((a, b) => a.connectionId.localeCompare(b.connectionId, 'en'))
          const start = page.cursor ? Number(page.cursor) : 0
          const items = rows.slice(start, start + page.limit).map(copy)
          const next = start + items.length
          return { items, nextCursor: next < rows.length ? String(next) : null }
        },
      }),
    }),
  },
  {
    flaw: 'list returns disconnected records',
    check: 'lists connected records only, by user, by channel and all',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        list: async (filter) => ({
          items: [...state.connections.values()]
            .filter((row) => matches({ ...row, disconnectedAt: null }, filter))
            .sort((a, b) => (a.connectionId < b.connectionId ? -1 : 1))
            .map(copy),
          nextCursor: null,
        }),
      }),
    }),
  },
  {
    flaw: 'list returns a cursor whenever a page is full',
    check: 'respects limit; the page holding the last record has a null nextCursor',
    build: ({ store }) => ({
      store: patch(store, 'connections', {
        list: async (filter, page) => {
          const result = await store.connections.list(filter, page)
          const last = result.items[result.items.length - 1]
          const full = result.items.length === page.limit && last !== undefined
          return { items: result.items, nextCursor: full ? last.connectionId : null }
        },
      }),
    }),
  },
  {
    flaw: 'create overwrites an existing id',
    check: 'create resolves false for an existing id and changes nothing',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        create: async (c, now) => {
          state.connections.delete(c.connectionId)
          await store.connections.create(c, now)
          return false
        },
      }),
    }),
  },
  {
    flaw: 'disconnect deletes the record instead of marking it',
    check: 'disconnect marks the record once; repeats and unknown ids resolve false',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        disconnect: async (id) => state.connections.delete(id),
      }),
    }),
  },
  {
    flaw: 'subscribe accepts disconnected connections',
    check: 'subscribe resolves gone for unknown and disconnected ids, changing nothing',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        subscribe: async (id, channel) => {
          const row = state.connections.get(id)
          if (row === undefined) return 'gone'
          if (!row.channels.includes(channel)) row.channels.push(channel)
          return 'subscribed'
        },
      }),
    }),
  },
  {
    flaw: 'subscribe ignores maxChannels',
    check: 'subscribe refuses a channel beyond maxChannels, counting the initial ones',
    build: ({ store }) => ({
      store: patch(store, 'connections', {
        subscribe: (id, channel) => store.connections.subscribe(id, channel, 10_000),
      }),
    }),
  },
  {
    flaw: 'subscribe counts the channels, awaits, then adds',
    check: '40 parallel subscribes with maxChannels 10: exactly 10 places are taken',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        subscribe: async (id, channel, maxChannels) => {
          const row = state.connections.get(id)
          if (row === undefined || row.disconnectedAt !== null) return 'gone'
          if (row.channels.includes(channel)) return 'subscribed'
          const full = row.channels.length >= maxChannels
          await gap()
          if (full) return 'limit'
          row.channels.push(channel)
          return 'subscribed'
        },
      }),
    }),
  },
  {
    flaw: 'subscribe counts a repeated channel as a new place',
    check:
      '30 parallel subscribes of one channel at the last place: all subscribed, one place taken',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        subscribe: async (id, channel, maxChannels) => {
          const row = state.connections.get(id)
          if (row === undefined || row.disconnectedAt !== null) return 'gone'
          if (row.channels.length >= maxChannels) return 'limit'
          if (!row.channels.includes(channel)) row.channels.push(channel)
          return 'subscribed'
        },
      }),
    }),
  },
  {
    flaw: 'touch returns the record with its channels',
    check: 'touch, get and list records carry no channels',
    build: ({ store, state }) => ({
      store: patch(store, 'connections', {
        touch: async (id, now) => {
          const record = await store.connections.touch(id, now)
          const row = state.connections.get(id)
          return record === null || row === undefined
            ? null
            : ({ ...record, channels: [...row.channels] } as ConnectionRecord)
        },
      }),
    }),
  },
  {
    flaw: 'admit consumes the token before the address limit',
    check: 'an address over its limit is refused first: the token stays unused',
    build: ({ store }) => ({
      store: {
        ...store,
        admit: async (request: AdmitRequest, now: number) => {
          const composed = defineStore(store)
          await composed.tokens.consume(request.tokenHash, request.sessionHash, now)
          return composed.admit(request, now)
        },
      },
    }),
  },
  {
    flaw: 'admit checks the token, awaits, then marks it used',
    check: '20 parallel admits with one token: exactly one admitted, the rest TOKEN_INVALID',
    build: ({ store, state }) => ({
      store: {
        ...store,
        admit: async (request: AdmitRequest, now: number) => {
          const row = state.tokens.get(request.tokenHash)
          if (row === undefined || row.used || !(row.record.expiresAt > now)) {
            return { admitted: false, code: 'TOKEN_INVALID' } as const
          }
          await gap()
          const { connectionId, apiId, stage, domainName } = request.connection
          const user = row.record.userId
          const connection = { connectionId, userId: user, channels: [], apiId, stage, domainName }
          const created = await store.connections.create(connection, now)
          row.used = true
          return created
            ? ({ admitted: true, token: row.record, channel: null } as const)
            : ({ admitted: false, code: 'CONNECTION_DUPLICATE' } as const)
        },
      },
    }),
  },
  {
    flaw: 'admitMessage counts the hit before it looks the connection up',
    check: 'an unknown or disconnected connection is refused, changing nothing and counting no hit',
    build: ({ store }) => ({
      store: {
        ...store,
        admitMessage: async (request: AdmitMessageRequest, now: number) => {
          const composed = defineStore(store)
          if (request.limit !== null) {
            await composed.limits.hit(request.limit.key, request.limit.rule, now)
          }
          return composed.admitMessage({ ...request, limit: null }, now)
        },
      },
    }),
  },
  {
    flaw: 'admitMessage undoes the touch when the limit refuses',
    check: 'a connection over its limit is refused with the hit, and the touch stays',
    build: ({ store, state }) => ({
      store: {
        ...store,
        admitMessage: async (request: AdmitMessageRequest, now: number) => {
          const row = state.connections.get(request.connectionId)
          const before = row === undefined ? null : { ...row }
          const result = await defineStore(store).admitMessage(request, now)
          if (!result.admitted && row !== undefined && before !== null) {
            row.requestCount = before.requestCount
            row.lastSeenAt = before.lastSeenAt
          }
          return result
        },
      },
    }),
  },
  {
    flaw: 'admitMessage decides on the count it read before an await',
    check: '40 parallel messages on one connection with limit 10: exactly 10 admitted, all counted',
    build: ({ store, state }) => ({
      store: {
        ...store,
        admitMessage: async (request: AdmitMessageRequest, now: number) => {
          const limit = request.limit
          const seen = limit === null ? 0 : (state.limits.get(limit.key)?.count ?? 0)
          const result = await defineStore(store).admitMessage(request, now)
          if (limit === null || result.admitted || result.code !== 'RATE_LIMITED') return result
          // Allowed on the stale count: a check-then-act gap lets the flood through.
          if (seen < limit.rule.limit) {
            const connection = await store.connections.get(request.connectionId)
            return { admitted: true, connection } as AdmitMessageResult
          }
          return result
        },
      },
    }),
  },
  {
    flaw: 'a token is accepted at expiresAt',
    check: 'a token is valid while expiresAt > now: 1 ms before is accepted, at expiresAt refused',
    build: ({ store, state }) => ({
      store: patch(store, 'tokens', {
        consume: async (hash, _sessionHash, now) => {
          const row = state.tokens.get(hash)
          if (row === undefined || row.used || row.record.expiresAt < now) return null
          row.used = true
          return row.record
        },
      }),
    }),
  },
  {
    flaw: 'consume ignores the session binding',
    check: 'a session-bound token is consumable only with the same sessionHash',
    build: ({ store, state }) => ({
      store: patch(store, 'tokens', {
        consume: async (hash, _sessionHash, now) => {
          const row = state.tokens.get(hash)
          if (row === undefined || row.used || !(row.record.expiresAt > now)) return null
          row.used = true
          return row.record
        },
      }),
    }),
  },
  {
    flaw: 'a refused consume still burns the token',
    check: 'a refused consume changes nothing',
    build: ({ store, state }) => ({
      store: patch(store, 'tokens', {
        consume: async (hash, sessionHash, now) => {
          const result = await store.tokens.consume(hash, sessionHash, now)
          const row = state.tokens.get(hash)
          if (row !== undefined) row.used = true
          return result
        },
      }),
    }),
  },
  {
    flaw: 'put replaces an existing hash',
    check: 'put resolves false for a duplicate hash, used or not, and keeps the first record',
    build: ({ store, state }) => ({
      store: patch(store, 'tokens', {
        put: async (token) => {
          state.tokens.set(token.hash, { record: { ...token }, used: false })
          return true
        },
      }),
    }),
  },
  {
    flaw: 'unsubscribe keeps the place taken',
    check: 'unsubscribe removes a channel, resolves whether it was there, and frees its place',
    build: ({ store, state }) => {
      const left = new Map<string, number>()
      return {
        store: patch(store, 'connections', {
          unsubscribe: async (id, channel) => {
            const removed = await store.connections.unsubscribe(id, channel)
            if (removed) left.set(id, (left.get(id) ?? 0) + 1)
            return removed
          },
          subscribe: async (id, channel, maxChannels) => {
            const row = state.connections.get(id)
            const held = (row?.channels.length ?? 0) + (left.get(id) ?? 0)
            if (row !== undefined && !row.channels.includes(channel) && held >= maxChannels) {
              return 'limit'
            }
            return store.connections.subscribe(id, channel, maxChannels)
          },
        }),
      }
    },
  },
  {
    flaw: 'a window continues at now === resetAt',
    check: 'a new window starts with count 1 once now >= resetAt',
    build: ({ store, state }) => ({
      store: patch(store, 'limits', {
        hit: async (key, rule, now) => {
          const current = state.limits.get(key)
          const window =
            current !== undefined && now <= current.resetAt
              ? current
              : { count: 0, resetAt: now + rule.windowMs }
          window.count += 1
          state.limits.set(key, window)
          return {
            allowed: window.count <= rule.limit,
            count: window.count,
            resetAt: window.resetAt,
          }
        },
      }),
    }),
  },
  {
    flaw: 'hits over the limit are not counted',
    check: 'every hit in the window is counted, allowed or not; resetAt stays fixed',
    build: ({ store, state }) => ({
      store: patch(store, 'limits', {
        hit: async (key, rule, now) => {
          const current = state.limits.get(key)
          if (current !== undefined && now < current.resetAt && current.count >= rule.limit) {
            return { allowed: false, count: current.count, resetAt: current.resetAt }
          }
          return store.limits.hit(key, rule, now)
        },
      }),
    }),
  },
  {
    flaw: 'cleanup ignores batchSize',
    check: 'deletes at most batchSize of each kind per call; callers loop until done',
    build: ({ store }) => ({
      store: {
        ...store,
        cleanup: (request, now) =>
          store.cleanup({ ...request, batchSize: Number.MAX_SAFE_INTEGER }, now),
      },
    }),
  },
  {
    flaw: 'cleanup keeps tokens that expire exactly now',
    check: 'deletes used tokens and tokens with expiresAt <= now, and nothing else',
    build: ({ store }) => ({
      store: {
        ...store,
        cleanup: (request, now) => store.cleanup(request, now - 1),
      },
    }),
  },
  {
    flaw: 'cleanup keeps connections exactly at the thresholds',
    check: 'deletes connections disconnected or connected at or before the thresholds',
    build: ({ store }) => ({
      store: {
        ...store,
        cleanup: (request, now) =>
          store.cleanup(
            {
              ...request,
              connectedBefore: request.connectedBefore - 1,
              disconnectedBefore: request.disconnectedBefore - 1,
            },
            now,
          ),
      },
    }),
  },
  {
    flaw: 'inspect hides the token table',
    check: 'tokens issued by the gateway are stored as SHA-256 only, without the session id',
    build: ({ store, state }) => ({
      store,
      dump: () => JSON.stringify([...state.connections.values()]),
    }),
  },
]

function findCheck(name: string): StoreCheck {
  const check = storeChecks.find((candidate) => candidate.name === name)
  if (check === undefined) throw new Error(`no check named ${name}`)
  return check
}

describe('testStore catches broken stores', () => {
  it.each(mutants)('$flaw', async (mutant) => {
    const check = findCheck(mutant.check)
    // The unbroken model passes the very check the mutant must fail.
    const healthy = modelStore()
    await check.run({
      store: defineStore(healthy.store),
      clock: fakeClock(),
      inspect: async () => healthy.dump(),
    })
    const model = modelStore()
    const broken = mutant.build(model)
    const dump = broken.dump ?? model.dump
    await expect(
      check.run({
        store: defineStore(broken.store),
        clock: fakeClock(),
        inspect: async () => dump(),
      }),
    ).rejects.toThrow()
  })

  it('has no two checks with the same name', () => {
    const names = storeChecks.map((check) => `${check.group} > ${check.name}`)
    expect(new Set(names).size).toBe(names.length)
  })

  it('always includes the concurrency checks', () => {
    const concurrency = storeChecks.filter((check) => check.group === 'concurrency')
    expect(concurrency.map((check) => check.name)).toEqual(
      expect.arrayContaining([
        '50 parallel consumes of one token: exactly one wins',
        '100 parallel hits with limit 20: exactly 20 allowed, counts are 1..100',
        '50 parallel touches: requestCount grows by exactly 50',
        '10 parallel disconnects: exactly one resolves true',
      ]),
    )
    expect(concurrency.every((check) => !check.needsInspect)).toBe(true)
  })
})

describe('testStore options', () => {
  it.each([
    ['no options', undefined],
    ['a missing name', { create: () => modelStore().store }],
    ['an empty name', { name: '', create: () => modelStore().store }],
    ['a missing create', { name: 'x' }],
    ['a non-function destroy', { name: 'x', create: () => modelStore().store, destroy: 1 }],
    ['a non-function inspect', { name: 'x', create: () => modelStore().store, inspect: 'dump' }],
  ])('rejects %s with TypeError before registering anything', (_, options) => {
    expect(() => testStore(options as never)).toThrow(TypeError)
  })
})
