/**
 * Test support (not published): a small, correct in-memory `Store` for sender tests, with the
 * connection bookkeeping the sender relies on (ordered, cursor-paged `list`; idempotent
 * `disconnect`) and hooks to observe how the sender pages through it. Token and limit methods
 * are not used by the sender and reject, so a test that reaches them fails loudly.
 */
import type {
  ConnectionFilter,
  ConnectionRecord,
  NewConnection,
  Page,
  PageRequest,
  Store,
} from '../src/store.js'

/** One `list` call as the store saw it. */
export interface ListCall {
  readonly filter: ConnectionFilter
  readonly cursor: string | null
  readonly limit: number
}

export interface FakeStore extends Store {
  /** Every `list` call, in order. */
  readonly listCalls: ListCall[]
  /** Every `disconnect` call that made the transition (connection id, time). */
  readonly transitions: { readonly connectionId: string; readonly now: number }[]
  /** Runs before each `list` resolves (to observe or to fail). */
  onList: ((call: ListCall) => void) | null
  /** Adds connected records quickly: ids, and optional fields shared by all. */
  seed(ids: readonly string[], fields?: Partial<NewConnection & { connectedAt: number }>): void
}

/** Creates an empty fake store. */
export function fakeStore(): FakeStore {
  const records = new Map<string, ConnectionRecord>()
  const channelsById = new Map<string, string[]>()
  let sortedIds: string[] | null = null
  const listCalls: ListCall[] = []
  const transitions: { connectionId: string; now: number }[] = []

  const ids = (): string[] => {
    sortedIds ??= [...records.keys()].sort()
    return sortedIds
  }

  function matches(record: ConnectionRecord, filter: ConnectionFilter): boolean {
    if (record.disconnectedAt !== null) return false
    if ('userId' in filter) return record.userId === filter.userId
    if ('channel' in filter) {
      return (channelsById.get(record.connectionId) ?? []).includes(filter.channel)
    }
    return true
  }

  function insert(connection: NewConnection, now: number): boolean {
    if (records.has(connection.connectionId)) return false
    const { channels, ...fields } = connection
    records.set(connection.connectionId, {
      ...fields,
      connectedAt: now,
      lastSeenAt: now,
      requestCount: 0,
      disconnectedAt: null,
    })
    channelsById.set(connection.connectionId, [...channels])
    sortedIds = null
    return true
  }

  const store: FakeStore = {
    listCalls,
    transitions,
    onList: null,
    seed(seedIds, fields = {}) {
      const { connectedAt = 0, ...rest } = fields
      for (const connectionId of seedIds) {
        insert(
          {
            userId: null,
            channels: [],
            apiId: 'api1',
            stage: 'test',
            domainName: 'api1.execute-api.us-east-1.amazonaws.com',
            ...rest,
            connectionId,
          },
          connectedAt,
        )
      }
    },
    connections: {
      async create(connection, now) {
        return insert(connection, now)
      },
      async get(connectionId) {
        return records.get(connectionId) ?? null
      },
      async touch(connectionId, now) {
        const record = records.get(connectionId)
        if (record === undefined || record.disconnectedAt !== null) return null
        const next = { ...record, lastSeenAt: now, requestCount: record.requestCount + 1 }
        records.set(connectionId, next)
        return next
      },
      async disconnect(connectionId, now) {
        const record = records.get(connectionId)
        if (record === undefined || record.disconnectedAt !== null) return false
        records.set(connectionId, { ...record, disconnectedAt: now })
        transitions.push({ connectionId, now })
        return true
      },
      async channels(connectionId) {
        return [...(channelsById.get(connectionId) ?? [])]
      },
      async subscribe(connectionId, channel, maxChannels) {
        const record = records.get(connectionId)
        if (record === undefined || record.disconnectedAt !== null) return 'gone'
        const held = channelsById.get(connectionId) ?? []
        if (held.includes(channel)) return 'subscribed'
        if (held.length >= maxChannels) return 'limit'
        channelsById.set(connectionId, [...held, channel])
        return 'subscribed'
      },
      async unsubscribe(connectionId, channel) {
        const held = channelsById.get(connectionId) ?? []
        if (!held.includes(channel)) return false
        channelsById.set(
          connectionId,
          held.filter((c) => c !== channel),
        )
        return true
      },
      async list(filter: ConnectionFilter, page: PageRequest): Promise<Page<ConnectionRecord>> {
        const call: ListCall = { filter, cursor: page.cursor ?? null, limit: page.limit }
        listCalls.push(call)
        store.onList?.(call)
        const all = ids()
        // The cursor is the last id of the previous page: records removed meanwhile shift nothing.
        let start = 0
        if (call.cursor !== null) {
          const after = call.cursor
          start = all.findIndex((id) => id > after)
          if (start === -1) start = all.length
        }
        const items: ConnectionRecord[] = []
        let i = start
        for (; i < all.length && items.length < page.limit; i++) {
          const record = records.get(all[i] as string)
          if (record !== undefined && matches(record, filter)) items.push(record)
        }
        const more = all.slice(i).some((id) => {
          const record = records.get(id)
          return record !== undefined && matches(record, filter)
        })
        const last = items.at(-1)
        return { items, nextCursor: more && last !== undefined ? last.connectionId : null }
      },
    },
    tokens: {
      put: () => Promise.reject(new Error('fakeStore: tokens are not used by the sender')),
      consume: () => Promise.reject(new Error('fakeStore: tokens are not used by the sender')),
    },
    limits: {
      hit: () => Promise.reject(new Error('fakeStore: limits are not used by the sender')),
    },
    admit: () => Promise.reject(new Error('fakeStore: admit is not used by the sender')),
    admitMessage: () =>
      Promise.reject(new Error('fakeStore: admitMessage is not used by the sender')),
    cleanup: () => Promise.reject(new Error('fakeStore: cleanup is not used by the sender')),
  }
  return store
}
