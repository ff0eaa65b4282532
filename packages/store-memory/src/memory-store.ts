/**
 * `memoryStore()`: the in-memory implementation of the apigw-ws store SPI, for tests and
 * single-process deployments. It composes three tables (connections, tokens, limits) behind the
 * asynchronous `Store` interface. Each operation runs synchronously to completion inside its
 * call, so it is atomic within the process without locks. The store never reads a clock and
 * starts no timers: time arrives as arguments and expired data is removed by `cleanup`.
 */
import type {
  CleanupCounts,
  CleanupRequest,
  ConnectionFilter,
  NewConnection,
  PageRequest,
  Store,
  TokenRecord,
} from '@apigw-ws/core'
import { ConnectionTable } from './connection-table.js'
import { LimitTable } from './limit-table.js'
import { TokenTable } from './token-table.js'

/** Reported when the store drops an entry to stay within `maxKeys`. */
export interface MemoryStoreEvictEvent {
  /** Which table lost an entry. */
  readonly kind: 'token' | 'limit' | 'connection'
  /** Why: the table was full when a new entry arrived. */
  readonly reason: 'capacity'
}

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most entries kept in *each* table (tokens, rate-limit windows, connections). When a table
   * is full, a new entry evicts one old one: used tokens and disconnected connections go first,
   * then the oldest entry. A positive safe integer; default `100_000`.
   */
  readonly maxKeys?: number | undefined
  /**
   * Called once per eviction, synchronously, after the operation that caused it has finished
   * changing the store. The event carries no keys, so nothing secret reaches it. Exceptions it
   * throws are swallowed: a failing logger must not break the store.
   */
  readonly onEvict?: ((event: MemoryStoreEvictEvent) => void) | undefined
}

const DEFAULT_MAX_KEYS = 100_000

const EVICT_EVENTS: Readonly<Record<MemoryStoreEvictEvent['kind'], MemoryStoreEvictEvent>> =
  Object.freeze({
    token: Object.freeze({ kind: 'token', reason: 'capacity' }),
    limit: Object.freeze({ kind: 'limit', reason: 'capacity' }),
    connection: Object.freeze({ kind: 'connection', reason: 'capacity' }),
  })

function assertTime(where: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${where}: ${name} must be a finite number of ms`)
  }
}

function assertCount(where: string, name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`${where}: ${name} must be an integer of at least ${min}`)
  }
}

function normalizeOptions(options: MemoryStoreOptions | undefined): {
  maxKeys: number
  onEvict: ((event: MemoryStoreEvictEvent) => void) | null
} {
  if (options === undefined) return { maxKeys: DEFAULT_MAX_KEYS, onEvict: null }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('memoryStore: options must be an object')
  }
  const { maxKeys = DEFAULT_MAX_KEYS, onEvict } = options
  if (typeof maxKeys !== 'number' || !Number.isSafeInteger(maxKeys) || maxKeys < 1) {
    throw new TypeError('memoryStore: maxKeys must be a positive integer')
  }
  if (onEvict !== undefined && typeof onEvict !== 'function') {
    throw new TypeError('memoryStore: onEvict must be a function')
  }
  return { maxKeys, onEvict: onEvict ?? null }
}

/**
 * A memory store and a function that dumps everything it holds as JSON text. Internal: the
 * package exports only {@link memoryStore}; the dump exists so tests can inspect the state at
 * rest (hash-at-rest check) without a hidden property on the public object.
 */
export function createMemoryStore(options?: MemoryStoreOptions): {
  readonly store: Store
  readonly dump: () => string
} {
  const { maxKeys, onEvict } = normalizeOptions(options)
  const pending: MemoryStoreEvictEvent[] = []
  const report = (kind: MemoryStoreEvictEvent['kind']) => () => {
    if (onEvict !== null) pending.push(EVICT_EVENTS[kind])
  }
  const connections = new ConnectionTable(maxKeys, report('connection'))
  const tokens = new TokenTable(maxKeys, report('token'))
  const limits = new LimitTable(maxKeys, report('limit'))

  // Runs one operation to completion, then reports its evictions. Reporting afterwards means a
  // hook that calls back into the store never sees (or changes) a half-done operation.
  function run<T>(operation: () => T): Promise<T> {
    let result: Promise<T>
    try {
      result = Promise.resolve(operation())
    } catch (error) {
      result = Promise.reject(error)
    }
    while (pending.length > 0 && onEvict !== null) {
      const event = pending.shift() as MemoryStoreEvictEvent
      try {
        onEvict(event)
      } catch {
        // Swallowed by contract: eviction reporting is best effort and must not fail writes.
      }
    }
    return result
  }

  const store: Store = Object.freeze({
    connections: Object.freeze({
      create: (connection: NewConnection) => run(() => connections.create(connection)),
      get: (connectionId: string) => run(() => connections.get(connectionId)),
      touch: (connectionId: string, now: number) =>
        run(() => {
          assertTime('connections.touch', 'now', now)
          return connections.touch(connectionId, now)
        }),
      disconnect: (connectionId: string, now: number) =>
        run(() => {
          assertTime('connections.disconnect', 'now', now)
          return connections.disconnect(connectionId, now)
        }),
      subscribe: (connectionId: string, channel: string) =>
        run(() => connections.subscribe(connectionId, channel)),
      unsubscribe: (connectionId: string, channel: string) =>
        run(() => connections.unsubscribe(connectionId, channel)),
      list: (filter: ConnectionFilter, page: PageRequest) =>
        run(() => connections.list(filter, page)),
    }),
    tokens: Object.freeze({
      put: (token: TokenRecord) => run(() => tokens.put(token)),
      consume: (
        hash: string,
        options: { readonly sessionHash: string | null; readonly now: number },
      ) =>
        run(() => {
          assertTime('tokens.consume', 'now', options.now)
          return tokens.consume(hash, options.sessionHash, options.now)
        }),
    }),
    limits: Object.freeze({
      hit: (
        key: string,
        rule: { readonly limit: number; readonly windowMs: number },
        now: number,
      ) =>
        run(() => {
          // A NaN window would never end and a NaN limit would allow everything: refuse both.
          assertCount('limits.hit', 'rule.limit', rule.limit, 0)
          assertCount('limits.hit', 'rule.windowMs', rule.windowMs, 1)
          assertTime('limits.hit', 'now', now)
          return limits.hit(key, rule.limit, rule.windowMs, now)
        }),
    }),
    cleanup: (request: CleanupRequest) =>
      run((): CleanupCounts => {
        assertTime('cleanup', 'now', request.now)
        assertTime('cleanup', 'disconnectedBefore', request.disconnectedBefore)
        assertTime('cleanup', 'connectedBefore', request.connectedBefore)
        assertCount('cleanup', 'batchSize', request.batchSize, 1)
        return {
          tokens: tokens.sweep(request.now, request.batchSize),
          rateLimits: limits.sweep(request.now, request.batchSize),
          connections: connections.sweep(
            request.disconnectedBefore,
            request.connectedBefore,
            request.batchSize,
          ),
        }
      }),
  })

  const dump = () =>
    JSON.stringify({
      connections: connections.dump(),
      tokens: tokens.dump(),
      limits: limits.dump(),
    })

  return Object.freeze({ store, dump })
}

/**
 * Creates an in-memory store. Each call returns an independent instance (no module state).
 *
 * Every operation completes synchronously inside the call and resolves a Promise, so each one is
 * atomic within the process: N concurrent `consume`s of one token yield exactly one record, and
 * N concurrent `hit`s yield counts 1..N. Records it returns are frozen snapshots; callers can
 * never change the store's state through them. Programmer errors (a non-finite `now`, a `limit`
 * below 1 in `list`, an invalid rule) reject with `TypeError`; `tokens.put` rejects when the hash
 * already exists.
 *
 * The store never reads a clock and runs no timers: expired tokens, ended windows and old
 * connections stay until `gateway.cleanup()` (which calls `store.cleanup`) removes them, or until
 * `maxKeys` evicts them. State lives in this process only: it is lost on restart and not shared
 * between instances, so use it for tests and single-process deployments.
 *
 * Throws `TypeError` at construction for invalid options, naming the option.
 *
 * @example
 * ```ts
 * import { memoryStore } from '@apigw-ws/store-memory'
 *
 * const store = memoryStore({
 *   maxKeys: 50_000,
 *   onEvict: (event) => console.warn('store full, evicted a', event.kind),
 * })
 * ```
 */
export function memoryStore(options?: MemoryStoreOptions): Store {
  return createMemoryStore(options).store
}
