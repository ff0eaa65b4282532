/**
 * The memory store's connection table: rows by id in creation order, plus ordered indexes of
 * *connected* ids (all, per user, per channel) that serve keyset pagination without sorting.
 * Every method is synchronous, so each one is atomic within the process. Records leave the
 * table only as frozen snapshots; the mutable rows never escape. A connected row is never
 * dropped to make room: when the table is full only disconnected rows go, and if there are none
 * `create` fails (the gateway then refuses the connection, 503).
 */
import type {
  ConnectionFilter,
  ConnectionRecord,
  NewConnection,
  Page,
  PageRequest,
  SubscribeResult,
} from '@apigw-ws/core'
import { SortedIdSet } from './sorted-id-set.js'
import { TableFullError } from './token-table.js'

interface ConnectionRow {
  readonly connectionId: string
  readonly userId: string | null
  /** Insertion-ordered and duplicate-free, which is exactly the `channels` contract. */
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

/** Connection rows and their indexes. */
export class ConnectionTable {
  readonly #maxRows: number
  readonly #onFull: () => void
  /** Every row, connected or not, in creation order. */
  readonly #rows = new Map<string, ConnectionRow>()
  /** Ids of disconnected rows in disconnect order: the only rows evicted to make room. */
  readonly #disconnected = new Set<string>()
  /** Connected ids only: `list` returns connected records, so the indexes hold nothing else. */
  readonly #all = new SortedIdSet()
  readonly #byUser = new Map<string, SortedIdSet>()
  readonly #byChannel = new Map<string, SortedIdSet>()

  constructor(maxRows: number, onFull: () => void) {
    this.#maxRows = maxRows
    this.#onFull = onFull
  }

  get size(): number {
    return this.#rows.size
  }

  create(connection: NewConnection, now: number): boolean {
    if (this.#rows.has(connection.connectionId)) return false
    if (this.#rows.size >= this.#maxRows && !this.#evictDisconnected()) {
      this.#onFull()
      throw new TableFullError('connection')
    }
    const row: ConnectionRow = {
      connectionId: connection.connectionId,
      userId: connection.userId,
      channels: new Set(connection.channels),
      apiId: connection.apiId,
      stage: connection.stage,
      domainName: connection.domainName,
      connectedAt: now,
      lastSeenAt: now,
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

  channels(connectionId: string): readonly string[] {
    const row = this.#rows.get(connectionId)
    return Object.freeze(row === undefined ? [] : [...row.channels])
  }

  subscribe(connectionId: string, channel: string, maxChannels: number): SubscribeResult {
    const row = this.#connected(connectionId)
    if (row === null) return 'gone'
    if (row.channels.has(channel)) return 'subscribed'
    if (row.channels.size >= maxChannels) return 'limit'
    row.channels.add(channel)
    addTo(this.#byChannel, channel, connectionId)
    return 'subscribed'
  }

  unsubscribe(connectionId: string, channel: string): boolean {
    const row = this.#rows.get(connectionId)
    if (row === undefined || !row.channels.delete(channel)) return false
    if (row.disconnectedAt === null) removeFrom(this.#byChannel, channel, connectionId)
    return true
  }

  list(filter: ConnectionFilter, page: PageRequest): Page<ConnectionRecord> {
    const { limit } = page
    const cursor = page.cursor ?? null
    // `defineStore` let through exactly one selector.
    const f = filter as { readonly userId?: string; readonly channel?: string }
    const selector = f.userId !== undefined ? 'userId' : f.channel !== undefined ? 'channel' : 'all'
    const index =
      selector === 'all'
        ? this.#all
        : selector === 'userId'
          ? this.#byUser.get(f.userId as string)
          : this.#byChannel.get(f.channel as string)
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

  /** Frees the row disconnected longest ago; `false` when every row is connected. */
  #evictDisconnected(): boolean {
    const [id] = this.#disconnected
    const row = id === undefined ? undefined : this.#rows.get(id)
    if (row === undefined) return false
    this.#remove(row)
    return true
  }
}
