/**
 * The store SPI: the only state apigw-ws keeps. Every method is required and returns a Promise;
 * time is always passed in (`now`, milliseconds since the epoch) because stores never read a clock.
 * Each group does one job so a store can be reasoned about, and tested by `testStore` from
 * `@apigw-ws/core/testing`, one concern at a time.
 */

/** A connection as the store keeps it. Timestamps are milliseconds since the epoch. */
export interface ConnectionRecord {
  /** API Gateway's connection id (`^[A-Za-z0-9_=-]{1,128}$`). */
  readonly connectionId: string
  /** The user the connect token was issued to; `null` only for anonymous connections. */
  readonly userId: string | null
  /** Channels the connection is subscribed to, in subscription order, without duplicates. */
  readonly channels: readonly string[]
  /** API id the connection arrived through (used to build the `@connections` endpoint). */
  readonly apiId: string | null
  /** Stage the connection arrived through. */
  readonly stage: string | null
  /** Domain name the client connected to (custom domain or execute-api host). */
  readonly domainName: string | null
  readonly connectedAt: number
  /** Last time a message for this connection was accepted (starts at `connectedAt`). */
  readonly lastSeenAt: number
  /**
   * Messages received for this connection while connected (counted by `touch` when the known-
   * connection check passes, before later checks may still refuse the message); atomic.
   */
  readonly requestCount: number
  /** When the connection was marked disconnected, or `null` while connected. */
  readonly disconnectedAt: number | null
}

/** What `connections.create` receives: a fresh record, before any message. */
export interface NewConnection {
  readonly connectionId: string
  readonly userId: string | null
  readonly channels: readonly string[]
  readonly apiId: string | null
  readonly stage: string | null
  readonly domainName: string | null
  readonly connectedAt: number
}

/** Which connected connections `connections.list` returns. Exactly one selector is set. */
export type ConnectionFilter =
  | { readonly userId: string }
  | { readonly channel: string }
  | { readonly all: true }

/** A page request for `connections.list`. */
export interface PageRequest {
  /** Opaque cursor from the previous page's `nextCursor`; absent or `null` for the first page. */
  readonly cursor?: string | null
  /** Maximum number of records to return; at least 1. */
  readonly limit: number
}

/** A page of connections, in a stable order (ascending connection id). */
export interface Page<T> {
  readonly items: readonly T[]
  /** Cursor for the next page, or `null` when this page is the last. */
  readonly nextCursor: string | null
}

/** Connection bookkeeping. */
export interface ConnectionStore {
  /**
   * Inserts a connection. Resolves `false`, changing nothing, when a record with the same id
   * exists (connected or not): API Gateway never reuses ids, so a duplicate is a replay.
   */
  create(connection: NewConnection): Promise<boolean>
  /** The record, connected or disconnected, or `null` if unknown. */
  get(connectionId: string): Promise<ConnectionRecord | null>
  /**
   * Atomically increments `requestCount` and sets `lastSeenAt = now` for a *connected* record,
   * resolving the updated record; `null` (changing nothing) when unknown or disconnected. Under
   * N concurrent calls the count grows by exactly N.
   */
  touch(connectionId: string, now: number): Promise<ConnectionRecord | null>
  /**
   * Marks a connected record disconnected at `now`. Resolves `true` only for the call that made
   * the transition; later or concurrent calls, and unknown ids, resolve `false` (idempotent).
   */
  disconnect(connectionId: string, now: number): Promise<boolean>
  /**
   * Adds a channel to a connected record. Resolves `false` when the connection is unknown or
   * disconnected; subscribing twice is a no-op that resolves `true`.
   */
  subscribe(connectionId: string, channel: string): Promise<boolean>
  /** Removes a channel; resolves `true` if the connection was subscribed to it. */
  unsubscribe(connectionId: string, channel: string): Promise<boolean>
  /**
   * Connected records matching `filter`, ordered by connection id in code-unit (byte) order —
   * on PostgreSQL compare with `COLLATE "C"` — one page at a time. Pages never overlap and, for
   * records that exist for the whole iteration, never skip one. A page may hold fewer than
   * `limit` records, but the page holding the last record has `nextCursor: null`.
   */
  list(filter: ConnectionFilter, page: PageRequest): Promise<Page<ConnectionRecord>>
}

/** A connect token as stored: the token itself is never stored, only its SHA-256 (hex). */
export interface TokenRecord {
  /** Lower-case hex SHA-256 of the token string. */
  readonly hash: string
  readonly userId: string
  /** Lower-case hex SHA-256 of the app session id the token is bound to, if any. */
  readonly sessionHash: string | null
  /** Channel the token is bound to, if any. */
  readonly channel: string | null
  readonly expiresAt: number
}

/** Single-use connect tokens. */
export interface TokenStore {
  /**
   * Stores a token record. A second `put` with the same hash replaces nothing and rejects; a used
   * token stays stored (so its hash keeps rejecting) until `cleanup` removes it.
   */
  put(token: TokenRecord): Promise<void>
  /**
   * Atomically consumes a token: succeeds only if the hash exists, is unused, `expiresAt > now`,
   * and its `sessionHash` is `null` or equal to `options.sessionHash`. On success the token is
   * marked used and its record resolved; otherwise `null` and nothing changes. Under N concurrent
   * calls for one hash, exactly one resolves the record.
   */
  consume(
    hash: string,
    options: { readonly sessionHash: string | null; readonly now: number },
  ): Promise<TokenRecord | null>
}

/** The outcome of one rate-limit hit. */
export interface LimitResult {
  /** `true` when `count <= limit`. */
  readonly allowed: boolean
  /** Hits in the current window, including this one. */
  readonly count: number
  /** When the current window ends (ms since the epoch). */
  readonly resetAt: number
}

/** Fixed-window counters. */
export interface LimitStore {
  /**
   * Counts one hit for `key` and decides, in one atomic step: if the key's window has ended
   * (`now >= resetAt`) a new window starts at `now` with count 1; otherwise the count grows by
   * one. Every hit is counted, allowed or not. Under N concurrent hits in one window the counts
   * returned are exactly 1..N and exactly `min(N, limit)` are allowed.
   */
  hit(
    key: string,
    rule: { readonly limit: number; readonly windowMs: number },
    now: number,
  ): Promise<LimitResult>
}

/** What `cleanup` may delete; each kind is deleted at most `batchSize` rows per call. */
export interface CleanupRequest {
  readonly now: number
  /** Delete disconnected connections whose `disconnectedAt` is at or before this time. */
  readonly disconnectedBefore: number
  /** Delete connections (connected or not) whose `connectedAt` is at or before this time. */
  readonly connectedBefore: number
  /** Upper bound on rows deleted per kind in this call. */
  readonly batchSize: number
}

/** Rows deleted by one `cleanup` call, per kind. */
export interface CleanupCounts {
  /** Expired or used tokens. */
  readonly tokens: number
  /** Rate-limit windows that ended at or before `now`. */
  readonly rateLimits: number
  readonly connections: number
}

/** The whole store. */
export interface Store {
  readonly connections: ConnectionStore
  readonly tokens: TokenStore
  readonly limits: LimitStore
  /**
   * Deletes tokens that expired (`expiresAt <= now`) or were used, rate-limit windows that ended
   * (`resetAt <= now`), and connections matching the thresholds, at most `batchSize` of each
   * kind. Idempotent; callers loop until every count is below `batchSize`.
   */
  cleanup(request: CleanupRequest): Promise<CleanupCounts>
}
