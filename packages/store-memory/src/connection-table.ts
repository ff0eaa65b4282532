/**
 * The memory store's connection table: rows by id in creation order, plus ordered indexes of
 * *connected* ids (all, per user, per channel) that serve keyset pagination without sorting.
 * Every method is synchronous, so each one is atomic within the process. Records leave the
 * table only as frozen snapshots; the mutable rows never escape.
 */
import type {
  ConnectionFilter,
  ConnectionRecord,
  NewConnection,
  Page,
  PageRequest,
} from '@apigw-ws/core'
import { SortedIdSet } from './sorted-id-set.js'

interface ConnectionRow {
  readonly connectionId: string
  readonly userId: string | null
  /** Insertion-ordered and duplicate-free, which is exactly the record's `channels` contract. */
  readonly channels: Set<string>
  readonly apiId: string | null
  readonly stage: string | null
  readonly domainName: string | null
  readonly connectedAt: number
  lastSeenAt: number
  requestCount: number
  disconnectedAt: number | null
}

function snapshot(row: ConnectionRow): ConnectionRecord {
  return Object.freeze({
    connectionId: row.connectionId,
    userId: row.userId,
    channels: Object.freeze([...row.channels]),
    apiId: row.apiId,
    stage: row.stage,
    domainName: row.domainName,
    connectedAt: row.connectedAt,
    lastSeenAt: row.lastSeenAt,
    requestCount: row.requestCount,
    disconnectedAt: row.disconnectedAt,
  })
}

function addTo(index: Map<string, SortedIdSet>, key: string, id: string): void {
  let set = index.get(key)
  if (set === undefined) {
    set = new SortedIdSet()
    index.set(key, set)
  }
  set.add(id)
}

function removeFrom(index: Map<string, SortedIdSet>, key: string, id: string): void {
  const set = index.get(key)
  if (set === undefined) return
  set.delete(id)
  // Empty sets are dropped so the index maps stay bounded by the live connections.
  if (set.size === 0) index.delete(key)
}

/** Selects the index a filter reads; `TypeError` unless exactly one selector is set. */
function assertFilter(filter: ConnectionFilter): 'userId' | 'channel' | 'all' {
  if (typeof filter !== 'object' || filter === null) {
    throw new TypeError('connections.list: filter must be an object')
  }
  const record = filter as { userId?: unknown; channel?: unknown; all?: unknown }
  const selectors: ('userId' | 'channel' | 'all')[] = []
  if (record.userId !== undefined) selectors.push('userId')
  if (record.channel !== undefined) selectors.push('channel')
  if (record.all !== undefined) selectors.push('all')
  const [selector] = selectors
  if (
    selectors.length !== 1 ||
    (selector === 'userId' && typeof record.userId !== 'string') ||
    (selector === 'channel' && typeof record.channel !== 'string') ||
    (selector === 'all' && record.all !== true)
  ) {
    throw new TypeError(
      'connections.list: filter must set exactly one of userId (string), channel (string), all (true)',
    )
  }
  return selector as 'userId' | 'channel' | 'all'
}

/** Connection rows and their indexes. */
export class ConnectionTable {
  readonly #maxRows: number
  readonly #onEvict: () => void
  /** Every row, connected or not, in creation order (the eviction order). */
  readonly #rows = new Map<string, ConnectionRow>()
  /** Ids of disconnected rows in disconnect order: evicted before any connected row. */
  readonly #disconnected = new Set<string>()
  /** Connected ids only: `list` returns connected records, so the indexes hold nothing else. */
  readonly #all = new SortedIdSet()
  readonly #byUser = new Map<string, SortedIdSet>()
  readonly #byChannel = new Map<string, SortedIdSet>()

  constructor(maxRows: number, onEvict: () => void) {
    this.#maxRows = maxRows
    this.#onEvict = onEvict
  }

  get size(): number {
    return this.#rows.size
  }

  create(connection: NewConnection): boolean {
    if (this.#rows.has(connection.connectionId)) return false
    if (this.#rows.size >= this.#maxRows) this.#evictOne()
    const row: ConnectionRow = {
      connectionId: connection.connectionId,
      userId: connection.userId,
      channels: new Set(connection.channels),
      apiId: connection.apiId,
      stage: connection.stage,
      domainName: connection.domainName,
      connectedAt: connection.connectedAt,
      lastSeenAt: connection.connectedAt,
      requestCount: 0,
      disconnectedAt: null,
    }
    this.#rows.set(row.connectionId, row)
    this.#index(row)
    return true
  }

  get(connectionId: string): ConnectionRecord | null {
    const row = this.#rows.get(connectionId)
    return row === undefined ? null : snapshot(row)
  }

  touch(connectionId: string, now: number): ConnectionRecord | null {
    const row = this.#connected(connectionId)
    if (row === null) return null
    row.requestCount += 1
    row.lastSeenAt = now
    return snapshot(row)
  }

  disconnect(connectionId: string, now: number): boolean {
    const row = this.#connected(connectionId)
    if (row === null) return false
    this.#unindex(row)
    row.disconnectedAt = now
    this.#disconnected.add(connectionId)
    return true
  }

  subscribe(connectionId: string, channel: string): boolean {
    const row = this.#connected(connectionId)
    if (row === null) return false
    if (!row.channels.has(channel)) {
      row.channels.add(channel)
      addTo(this.#byChannel, channel, connectionId)
    }
    return true
  }

  unsubscribe(connectionId: string, channel: string): boolean {
    const row = this.#rows.get(connectionId)
    if (row === undefined || !row.channels.delete(channel)) return false
    if (row.disconnectedAt === null) removeFrom(this.#byChannel, channel, connectionId)
    return true
  }

  list(filter: ConnectionFilter, page: PageRequest): Page<ConnectionRecord> {
    const selector = assertFilter(filter)
    const { limit } = page
    const cursor = page.cursor ?? null
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new TypeError('connections.list: limit must be an integer of at least 1')
    }
    if (cursor !== null && typeof cursor !== 'string') {
      throw new TypeError('connections.list: cursor must be a string, null or absent')
    }
    const index =
      selector === 'all'
        ? this.#all
        : selector === 'userId'
          ? this.#byUser.get((filter as { userId: string }).userId)
          : this.#byChannel.get((filter as { channel: string }).channel)
    if (index === undefined) return { items: [], nextCursor: null }
    // The cursor is the last id of the previous page: keyset pagination stays correct when
    // rows before or after it come and go, which an offset would not.
    const { ids, hasMore } = index.page(cursor, limit)
    const items = ids.map((id) => snapshot(this.#rows.get(id) as ConnectionRow))
    return { items, nextCursor: hasMore ? (ids[ids.length - 1] as string) : null }
  }

  /**
   * Deletes up to `batchSize` rows that were disconnected at or before `disconnectedBefore` or
   * connected at or before `connectedBefore`; returns how many it deleted.
   */
  sweep(disconnectedBefore: number, connectedBefore: number, batchSize: number): number {
    let deleted = 0
    for (const row of this.#rows.values()) {
      if (deleted >= batchSize) break
      const stale =
        row.connectedAt <= connectedBefore ||
        (row.disconnectedAt !== null && row.disconnectedAt <= disconnectedBefore)
      if (stale) {
        this.#remove(row)
        deleted += 1
      }
    }
    return deleted
  }

  /** Everything the table holds, rows and indexes, as plain data. */
  dump(): unknown {
    const indexDump = (index: Map<string, SortedIdSet>) =>
      Object.fromEntries([...index].map(([key, set]) => [key, set.toArray()]))
    return {
      rows: [...this.#rows.values()].map(snapshot),
      disconnected: [...this.#disconnected],
      all: this.#all.toArray(),
      byUser: indexDump(this.#byUser),
      byChannel: indexDump(this.#byChannel),
    }
  }

  #connected(connectionId: string): ConnectionRow | null {
    const row = this.#rows.get(connectionId)
    return row === undefined || row.disconnectedAt !== null ? null : row
  }

  #index(row: ConnectionRow): void {
    this.#all.add(row.connectionId)
    if (row.userId !== null) addTo(this.#byUser, row.userId, row.connectionId)
    for (const channel of row.channels) addTo(this.#byChannel, channel, row.connectionId)
  }

  #unindex(row: ConnectionRow): void {
    this.#all.delete(row.connectionId)
    if (row.userId !== null) removeFrom(this.#byUser, row.userId, row.connectionId)
    for (const channel of row.channels) removeFrom(this.#byChannel, channel, row.connectionId)
  }

  #remove(row: ConnectionRow): void {
    if (row.disconnectedAt === null) this.#unindex(row)
    else this.#disconnected.delete(row.connectionId)
    this.#rows.delete(row.connectionId)
  }

  /** Frees one row: the longest-disconnected one if any (cheap), else the oldest connection. */
  #evictOne(): void {
    const [disconnectedId] = this.#disconnected
    const id = disconnectedId ?? this.#rows.keys().next().value
    const row = id === undefined ? undefined : this.#rows.get(id)
    if (row === undefined) return
    this.#remove(row)
    this.#onEvict()
  }
}
