/**
 * The store SPI (version 2): the only state apigw-ws keeps. Every method is required, except
 * `admit` and `admitMessage`, which `defineStore` composes from the others when a store has no
 * faster ones. Every method returns a Promise. Each group does one job so a store can be reasoned
 * about, and tested by `testStore` from `@apigw-ws/core/testing`, one concern at a time.
 *
 * Three rules hold for every method:
 * - **Time is passed one way.** A method that depends on time takes `now` (milliseconds since the
 *   epoch) as its *last positional argument*. Stores never read a clock.
 * - **A duplicate is a value.** An insert that finds its key taken (`connections.create`,
 *   `tokens.put`) resolves `false` and changes nothing. A rejection means only that the store
 *   failed (or was called with invalid arguments); the gateway then fails closed.
 * - **Atomic means one step.** Each method documented as atomic holds under any number of
 *   concurrent callers, across processes for shared stores: it never reads, awaits, then writes.
 */

/** A connection as the store keeps it. Timestamps are milliseconds since the epoch. */
export interface ConnectionRecord {
  /** API Gateway's connection id (`^[A-Za-z0-9_=-]{1,128}$`). */
  readonly connectionId: string
  /** The user the connect token was issued to; `null` only for connections created without one. */
  readonly userId: string | null
  /** API id the connection arrived through (used to build the `@connections` endpoint). */
  readonly apiId: string | null
  /** Stage the connection arrived through. */
  readonly stage: string | null
  /** Domain name the client connected to (custom domain or execute-api host). */
  readonly domainName: string | null
  /** When the connection was created (the `now` passed to `create`). */
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

/**
 * What `connections.create` receives. The record is created at the `now` passed alongside
 * (`connectedAt = lastSeenAt = now`, `requestCount = 0`).
 */
export interface NewConnection {
  readonly connectionId: string
  readonly userId: string | null
  /**
   * Initial channels, without duplicates, valid names only. Core never passes more than its
   * `maxChannelsPerConnection`; they count towards that limit in later `subscribe` calls.
   */
  readonly channels: readonly string[]
  readonly apiId: string | null
  readonly stage: string | null
  readonly domainName: string | null
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

/**
 * The outcome of `connections.subscribe`: `'subscribed'` (now or already subscribed), `'limit'`
 * (the connection already has `maxChannels` other channels; nothing changed) or `'gone'` (the
 * connection is unknown or disconnected; nothing changed).
 */
export type SubscribeResult = 'subscribed' | 'limit' | 'gone'

/** Connection bookkeeping. */
export interface ConnectionStore {
  /**
   * Inserts a connected record with `connectedAt = lastSeenAt = now`, `requestCount = 0` and the
   * given channels. Resolves `false`, changing nothing, when a record with the same id exists
   * (connected or not): API Gateway never reuses ids, so a duplicate is a replay. Atomic: under
   * N concurrent creates of one id exactly one resolves `true`, and the record and its channels
   * appear together or not at all.
   */
  create(connection: NewConnection, now: number): Promise<boolean>
  /** The record, connected or disconnected, or `null` if unknown. */
  get(connectionId: string): Promise<ConnectionRecord | null>
  /**
   * Atomically increments `requestCount` and sets `lastSeenAt = now` for a *connected* record,
   * resolving the updated record; `null` (changing nothing) when unknown or disconnected. Under
   * N concurrent calls the count grows by exactly N. Its cost must not depend on how many
   * channels the connection has: the record carries none (read them with `channels`).
   */
  touch(connectionId: string, now: number): Promise<ConnectionRecord | null>
  /**
   * Marks a connected record disconnected at `now`. Resolves `true` only for the call that made
   * the transition; later or concurrent calls, and unknown ids, resolve `false` (idempotent).
   */
  disconnect(connectionId: string, now: number): Promise<boolean>
  /**
   * The channels of a record (connected or not) in subscription order, without duplicates;
   * empty for an unknown id. Bounded by the limit `subscribe` enforces.
   */
  channels(connectionId: string): Promise<readonly string[]>
  /**
   * Adds `channel` to a connected record unless it already holds `maxChannels` channels.
   * Subscribing to a channel the connection already has resolves `'subscribed'` and does not
   * count twice. Atomic: under N concurrent subscribes to distinct channels, exactly
   * `min(N, maxChannels - current)` resolve `'subscribed'` and the rest `'limit'`.
   */
  subscribe(connectionId: string, channel: string, maxChannels: number): Promise<SubscribeResult>
  /** Removes a channel (freeing its place); resolves `true` if the connection had it. */
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
   * Stores a token record, unused. Resolves `false`, changing nothing, when the hash is already
   * stored (used or not); a used token stays stored, so its hash keeps being refused, until
   * `cleanup` removes it.
   */
  put(token: TokenRecord): Promise<boolean>
  /**
   * Atomically consumes a token: succeeds only if the hash exists, is unused, `expiresAt > now`,
   * and its `sessionHash` is `null` or equal to `sessionHash`. On success the token is marked
   * used and its record resolved; otherwise `null` and nothing changes. Under N concurrent calls
   * for one hash, exactly one resolves the record.
   */
  consume(hash: string, sessionHash: string | null, now: number): Promise<TokenRecord | null>
}

/** A fixed-window rule: at most `limit` hits per `windowMs`. */
export interface LimitRule {
  /** Hits allowed per window; an integer of at least 0. */
  readonly limit: number
  /** Window length in ms; an integer of at least 1. */
  readonly windowMs: number
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
   * returned are exactly 1..N and exactly `min(N, limit)` are allowed. A store that cannot keep
   * a new key (full) must answer `allowed: false`, never forget a live window.
   */
  hit(key: string, rule: LimitRule, now: number): Promise<LimitResult>
}

/** What `cleanup` may delete; each kind is deleted at most `batchSize` rows per call. */
export interface CleanupRequest {
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

/** One rate-limit hit that `admit` counts: the key and the rule. */
export interface AdmitLimit {
  readonly key: string
  readonly rule: LimitRule
}

/**
 * The stateful part of one `$connect`, after every stateless check passed. See `Store.admit`
 * for the steps and their order.
 */
export interface AdmitRequest {
  /** The connect rate limit of the client address; `null` when disabled. */
  readonly ipLimit: AdmitLimit | null
  /** Hash of the presented token (lower-case hex SHA-256). */
  readonly tokenHash: string
  /** Hash of the app session id the token must be bound to, or `null`. */
  readonly sessionHash: string | null
  /** The channel asked for with `?channel=`, already validated, or `null`. */
  readonly channel: string | null
  /**
   * The per-user connect limit; `null` when disabled. The key is `keyPrefix` followed by the
   * user id of the consumed token.
   */
  readonly userLimit: { readonly keyPrefix: string; readonly rule: LimitRule } | null
  /** The connection to create; its user comes from the token and its channels from `channel`. */
  readonly connection: Omit<NewConnection, 'userId' | 'channels'>
}

/** Why `admit` refused a connection (rejection codes of the gateway's table). */
export type AdmitRefusal =
  | {
      readonly admitted: false
      readonly code: 'RATE_LIMITED'
      /** Which limit refused: the client address or the user. */
      readonly scope: 'ip' | 'user'
      readonly limit: LimitResult
    }
  | {
      readonly admitted: false
      readonly code: 'TOKEN_INVALID' | 'TOKEN_CHANNEL_MISMATCH' | 'CONNECTION_DUPLICATE'
    }

/** The outcome of `admit`. */
export type AdmitResult =
  | {
      readonly admitted: true
      /** The consumed token. */
      readonly token: TokenRecord
      /** The channel the connection was created in (requested or bound by the token). */
      readonly channel: string | null
    }
  | AdmitRefusal

/**
 * The stateful part of one message, after the body was read and parsed. See
 * `Store.admitMessage` for the steps and their order.
 */
export interface AdmitMessageRequest {
  /** The connection the message arrived on. */
  readonly connectionId: string
  /** The message limit of the connection; `null` when disabled. */
  readonly limit: AdmitLimit | null
}

/** Why `admitMessage` refused a message (rejection codes of the gateway's table). */
export type AdmitMessageRefusal =
  | {
      readonly admitted: false
      /** The connection is unknown or disconnected; no hit was counted. */
      readonly code: 'CONNECTION_UNKNOWN'
    }
  | {
      readonly admitted: false
      /** The connection's limit refused; the message was counted (`requestCount`) all the same. */
      readonly code: 'RATE_LIMITED'
      readonly limit: LimitResult
    }

/** The outcome of `admitMessage`. */
export type AdmitMessageResult =
  | {
      readonly admitted: true
      /** The connection as `connections.touch` left it (this message counted). */
      readonly connection: ConnectionRecord
    }
  | AdmitMessageRefusal

/** The whole store. */
export interface Store {
  readonly connections: ConnectionStore
  readonly tokens: TokenStore
  readonly limits: LimitStore
  /**
   * Admits one connection, with exactly the outcomes of these steps run in order, stopping at
   * the first refusal:
   * 1. `ipLimit` (when set) counts one hit; not allowed → `RATE_LIMITED` (scope `ip`);
   * 2. the token is consumed as by `tokens.consume(tokenHash, sessionHash, now)`; not
   *    consumable → `TOKEN_INVALID`;
   * 3. a token bound to a channel other than a requested `channel` → `TOKEN_CHANNEL_MISMATCH`
   *    (the token stays consumed); the connection's channel is the requested one, else the
   *    token's;
   * 4. `userLimit` (when set) counts one hit for `keyPrefix + token.userId`; not allowed →
   *    `RATE_LIMITED` (scope `user`);
   * 5. the connection is created as by `connections.create` with the token's user and that
   *    channel; an existing id → `CONNECTION_DUPLICATE`.
   * Each step is atomic as its own method is; a store may run them in one round trip. Effects
   * of completed steps stay when a later step refuses (a counted hit, a used token), as they
   * would with separate calls. `defineStore` supplies this composition when a store has none.
   */
  admit(request: AdmitRequest, now: number): Promise<AdmitResult>
  /**
   * Admits one message, with exactly the outcomes of these steps run in order, stopping at the
   * first refusal:
   * 1. the connection is touched as by `connections.touch(connectionId, now)`; unknown or
   *    disconnected → `CONNECTION_UNKNOWN` (nothing changed, no hit counted);
   * 2. `limit` (when set) counts one hit for its key as by `limits.hit(key, rule, now)`; not
   *    allowed → `RATE_LIMITED` with that hit's result (the touch stays).
   * Otherwise the message is admitted with the touched record. Each step is atomic as its own
   * method is; a store may run both in one round trip. Effects of the touch stay when the limit
   * refuses, as they would with separate calls. `defineStore` supplies this composition when a
   * store has none.
   */
  admitMessage(request: AdmitMessageRequest, now: number): Promise<AdmitMessageResult>
  /**
   * Deletes tokens that expired (`expiresAt <= now`) or were used, rate-limit windows that ended
   * (`resetAt <= now`), and connections matching the thresholds, at most `batchSize` of each
   * kind. Idempotent; callers loop until every count is below `batchSize`.
   */
  cleanup(request: CleanupRequest, now: number): Promise<CleanupCounts>
}

/**
 * The parts a store implements for `defineStore`: everything but `admit` and `admitMessage`,
 * which are optional.
 */
export interface StoreParts {
  readonly connections: ConnectionStore
  readonly tokens: TokenStore
  readonly limits: LimitStore
  readonly admit?: Store['admit'] | undefined
  readonly admitMessage?: Store['admitMessage'] | undefined
  readonly cleanup: Store['cleanup']
}
