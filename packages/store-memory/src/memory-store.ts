/**
 * `memoryStore()`: the in-memory implementation of the apigw-ws store SPI, for tests and
 * single-process deployments. It composes three tables (connections, tokens, limits) behind the
 * asynchronous `Store` interface, built with core's `defineStore` (which checks arguments). Each
 * operation runs synchronously to completion inside its call, so it is atomic within the process
 * without locks. The store never reads a clock and starts no timers: time arrives as arguments
 * and expired data is removed by `cleanup`, or to make room when a table is full.
 */
import {
  type AdmitMessageRequest,
  type AdmitMessageResult,
  type CleanupCounts,
  type CleanupRequest,
  type ConnectionFilter,
  defineStore,
  type LimitRule,
  type NewConnection,
  type PageRequest,
  type Store,
  type TokenRecord,
} from '@apigw-ws/core'
import { ConnectionTable } from './connection-table.js'
import { LimitTable } from './limit-table.js'
import { TokenTable } from './token-table.js'

/** Reported when a table is full of live entries and the store refuses a new one. */
export interface MemoryStoreCapacityEvent {
  /**
   * Which table is full: `limit` (the new key was treated as over its limit), `token` (`put`
   * failed) or `connection` (`create` failed).
   */
  readonly kind: 'token' | 'limit' | 'connection'
}

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most entries kept in *each* table (tokens, rate-limit windows, connections). A positive
   * safe integer; default `100_000`. When a table is full, only dead entries make room (ended
   * windows, used or expired tokens, disconnected connections); a live one is never dropped. If
   * none can go, the store fails closed: a new rate-limit key is answered `allowed: false`, and
   * `tokens.put` and `connections.create` reject (the gateway answers 503).
   */
  readonly maxKeys?: number | undefined
  /**
   * Called once per refusal for capacity, synchronously, after the operation has finished. The
   * event carries no keys, so nothing secret reaches it. Exceptions it throws are swallowed: a
   * failing logger must not break the store. Wire it to your alerting: a full table means
   * `maxKeys` is too small or someone floods the gateway.
   */
  readonly onCapacity?: ((event: MemoryStoreCapacityEvent) => void) | undefined
}

const DEFAULT_MAX_KEYS = 100_000

const CAPACITY_EVENTS: Readonly<
  Record<MemoryStoreCapacityEvent['kind'], MemoryStoreCapacityEvent>
> = Object.freeze({
  token: Object.freeze({ kind: 'token' }),
  limit: Object.freeze({ kind: 'limit' }),
  connection: Object.freeze({ kind: 'connection' }),
})

function normalizeOptions(options: MemoryStoreOptions | undefined): {
  maxKeys: number
  onCapacity: ((event: MemoryStoreCapacityEvent) => void) | null
} {
  if (options === undefined) return { maxKeys: DEFAULT_MAX_KEYS, onCapacity: null }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('memoryStore: options must be an object')
  }
  const { maxKeys = DEFAULT_MAX_KEYS, onCapacity } = options
  if (typeof maxKeys !== 'number' || !Number.isSafeInteger(maxKeys) || maxKeys < 1) {
    throw new TypeError('memoryStore: maxKeys must be a positive integer')
  }
  if (onCapacity !== undefined && typeof onCapacity !== 'function') {
    throw new TypeError('memoryStore: onCapacity must be a function')
  }
  return { maxKeys, onCapacity: onCapacity ?? null }
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
  const { maxKeys, onCapacity } = normalizeOptions(options)
  const pending: MemoryStoreCapacityEvent[] = []
  const report = (kind: MemoryStoreCapacityEvent['kind']) => () => {
    if (onCapacity !== null) pending.push(CAPACITY_EVENTS[kind])
  }
  const connections = new ConnectionTable(maxKeys, report('connection'))
  const tokens = new TokenTable(maxKeys, report('token'))
  const limits = new LimitTable(maxKeys, report('limit'))
  /** The latest time any call passed in: `tokens.put` takes none, yet may free expired tokens. */
  let latest = Number.NEGATIVE_INFINITY
  const at = (now: number): number => {
    if (now > latest) latest = now
    return now
  }

  // Runs one operation to completion, then reports capacity refusals. Reporting afterwards means
  // a hook that calls back into the store never sees (or changes) a half-done operation.
  function run<T>(operation: () => T): Promise<T> {
    let result: Promise<T>
    try {
      result = Promise.resolve(operation())
    } catch (error) {
      result = Promise.reject(error)
    }
    while (pending.length > 0 && onCapacity !== null) {
      const event = pending.shift() as MemoryStoreCapacityEvent
      try {
        onCapacity(event)
      } catch {
        // Swallowed by contract: reporting is best effort and must not change the outcome.
      }
    }
    return result
  }

  const store = defineStore({
    connections: {
      create: (connection: NewConnection, now: number) =>
        run(() => connections.create(connection, at(now))),
      get: (connectionId: string) => run(() => connections.get(connectionId)),
      touch: (connectionId: string, now: number) =>
        run(() => connections.touch(connectionId, at(now))),
      disconnect: (connectionId: string, now: number) =>
        run(() => connections.disconnect(connectionId, at(now))),
      channels: (connectionId: string) => run(() => connections.channels(connectionId)),
      subscribe: (connectionId: string, channel: string, maxChannels: number) =>
        run(() => connections.subscribe(connectionId, channel, maxChannels)),
      unsubscribe: (connectionId: string, channel: string) =>
        run(() => connections.unsubscribe(connectionId, channel)),
      list: (filter: ConnectionFilter, page: PageRequest) =>
        run(() => connections.list(filter, page)),
    },
    tokens: {
      put: (token: TokenRecord) => run(() => tokens.put(token, latest)),
      consume: (hash: string, sessionHash: string | null, now: number) =>
        run(() => tokens.consume(hash, sessionHash, at(now))),
    },
    limits: {
      hit: (key: string, rule: LimitRule, now: number) =>
        run(() => limits.hit(key, rule.limit, rule.windowMs, at(now))),
    },
    // Both steps inside one synchronous run: nothing can interleave between touch and hit.
    admitMessage: (request: AdmitMessageRequest, now: number) =>
      run((): AdmitMessageResult => {
        const t = at(now)
        const connection = connections.touch(request.connectionId, t)
        if (connection === null) return { admitted: false, code: 'CONNECTION_UNKNOWN' }
        if (request.limit !== null) {
          const { key, rule } = request.limit
          const limit = limits.hit(key, rule.limit, rule.windowMs, t)
          if (!limit.allowed) return { admitted: false, code: 'RATE_LIMITED', limit }
        }
        return { admitted: true, connection }
      }),
    cleanup: (request: CleanupRequest, now: number) =>
      run(
        (): CleanupCounts => ({
          tokens: tokens.sweep(at(now), request.batchSize),
          rateLimits: limits.sweep(now, request.batchSize),
          connections: connections.sweep(
            request.disconnectedBefore,
            request.connectedBefore,
            request.batchSize,
          ),
        }),
      ),
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
 * atomic within the process: N concurrent `consume`s of one token yield exactly one record, N
 * concurrent `hit`s yield counts 1..N, N concurrent `subscribe`s never pass the channel limit.
 * `admitMessage` (touch, then the message limit) is native and runs both steps in one such call;
 * `admit` is composed by `defineStore` from the methods.
 * Records it returns are frozen snapshots; callers can never change the store's state through
 * them. Invalid arguments reject with `TypeError` (checked by `defineStore`).
 *
 * The store never reads a clock and runs no timers: expired tokens, ended windows and old
 * connections stay until `gateway.cleanup()` (which calls `store.cleanup`) removes them, or until
 * a full table needs their room. It never drops a live entry: a table full of live entries fails
 * closed and reports through `onCapacity` (see {@link MemoryStoreOptions}). State lives in this
 * process only: it is lost on restart and not shared between instances, so use it for tests and
 * single-process deployments.
 *
 * Throws `TypeError` at construction for invalid options, naming the option.
 *
 * @example
 * ```ts
 * import { memoryStore } from '@apigw-ws/store-memory'
 *
 * const store = memoryStore({
 *   maxKeys: 50_000,
 *   onCapacity: (event) => console.warn('apigw-ws memory store full:', event.kind),
 * })
 * ```
 */
export function memoryStore(options?: MemoryStoreOptions): Store {
  return createMemoryStore(options).store
}
