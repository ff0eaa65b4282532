/**
 * Gateway options and their normalization. Options are validated once, at construction: every
 * malformed value throws a `TypeError` naming the option, defaults are applied, and the result is
 * a frozen `Config` that no request can change. The only environment read in core lives here:
 * the documented production guard for a missing integration secret.
 */
import type { Clock } from './clock.js'
import { systemClock } from './clock.js'
import { defineStore, isStore } from './define-store.js'
import type { EventListener } from './events.js'
import { buildRegistry, type HandlerMap, type RegisteredHandler } from './handlers.js'
import { normalizePermissions, type Permissions } from './permissions.js'
import type { Rejection } from './rejections.js'
import type { GatewayRequest } from './request.js'
import type { ConnectionsTransport } from './send/transport.js'
import { sha256 } from './sha256.js'
import type { Store, StoreParts } from './store.js'

/** A fixed-window rate limit: at most `limit` hits per `windowMs`. */
export interface RateLimitRule {
  readonly limit: number
  readonly windowMs: number
}

/** Rate limits; `false` disables one. */
export interface RateLimitOptions {
  /** `$connect` attempts per client address (IPv6 per /56). Default 20 per 60 s. */
  readonly connectPerIp?: RateLimitRule | false | undefined
  /** `$connect` attempts per user (after the token names the user). Default 20 per 60 s. */
  readonly connectPerUser?: RateLimitRule | false | undefined
  /** Token issuance per user. Default 20 per 60 s. */
  readonly tokenPerUser?: RateLimitRule | false | undefined
  /** Messages per connection. Default off. */
  readonly messagePerConnection?: RateLimitRule | false | undefined
}

/** Who the caller is, as seen by permission checks and channel authorization. */
export interface Subject<TUser> {
  readonly userId: string
  /** From `loadUser`, or `null` when no loader is configured. */
  readonly user: TUser | null
}

/** Application hooks. Every hook may be async; a throwing hook refuses the request (500). */
export interface AuthHooks<TUser> {
  /**
   * Returns the app session id for a `$connect` (usually from the `cookie` header), or `null`.
   * When configured, tokens are **session-bound**: `issueToken` requires a `sessionId`, stores its
   * SHA-256, and `$connect` succeeds only when this hook returns the same session. Leave it unset
   * for **bearer** tokens (when the session cookie cannot reach the WebSocket host).
   */
  readonly resolveSession?:
    | ((request: GatewayRequest) => string | null | Promise<string | null>)
    | undefined
  /** Loads the user a token was issued to; `null` refuses the connect (`USER_UNKNOWN`). */
  readonly loadUser?: ((userId: string) => TUser | null | Promise<TUser | null>) | undefined
  /** Whether the subject holds `permission`. Required when any permissions are configured. */
  readonly hasPermission?:
    | ((subject: Subject<TUser>, permission: string) => boolean | Promise<boolean>)
    | undefined
  /**
   * Object-level access to a channel, asked on `$connect` (`?channel=`) and on `join`. When not
   * configured, every valid channel name is allowed.
   */
  readonly authorizeChannel?:
    | ((
        request: {
          readonly channel: string
          readonly connectionId: string
          readonly action: 'connect' | 'join'
        } & Subject<TUser>,
      ) => boolean | Promise<boolean>)
    | undefined
}

/** What a custom check sees. */
export interface CheckInput<TUser> {
  readonly request: GatewayRequest
  readonly connectionId: string
  readonly userId: string | null
  readonly user: TUser | null
  /** The parsed message object (message routes only). */
  readonly message: Readonly<Record<string, unknown>> | null
  /** The selected handler name (message routes only). */
  readonly handler: string | null
}

/** A user-supplied check: return a rejection (see `reject`) to refuse, nothing to pass. */
export type CustomCheck<TUser> = (
  input: CheckInput<TUser>,
) => Rejection | undefined | Promise<Rejection | undefined>

/** Options for `createGateway`. */
export interface GatewayOptions<TUser = unknown> {
  /**
   * Where connections, tokens and limits live. Required: there is no per-process default. A
   * store from `defineStore` (as `memoryStore` and `kyselyStore` return) is used as it is; any
   * other object is passed through `defineStore`, so a store missing a method is refused here.
   */
  readonly store: Store | StoreParts
  /** Transport for sending (`awsConnections` from `@apigw-ws/core/aws`). */
  readonly connections?: ConnectionsTransport | undefined
  /**
   * How API Gateway reaches this app. `http` (default): HTTP_PROXY integration; requests must carry
   * the integration secret. `lambda`: AWS_PROXY; only `gateway.lambda(event)` is served and HTTP
   * requests are refused.
   */
  readonly integration?: 'http' | 'lambda' | undefined
  /**
   * The integration secret API Gateway adds as a header (HTTP mode). A list allows rotation: any
   * listed secret is accepted. Each must be at least 16 printable ASCII characters with at least
   * 8 distinct ones and no surrounding whitespace (see `secretWeakness`). Pass the environment
   * variable as is (`process.env.APIGW_SECRET`), never with a fallback value: when it is
   * `undefined` the gateway warns once per process, and refuses to start when `NODE_ENV` is `production`
   * (compared trimmed and case-insensitively) unless `allowMissingSecret` is set.
   */
  readonly integrationSecret?: string | readonly string[] | undefined
  /** Header carrying the secret. Default `x-apigw-secret`. */
  readonly secretHeader?: string | undefined
  /** Acknowledges running HTTP mode without a secret in production. Default `false`. */
  readonly allowMissingSecret?: boolean | undefined
  /** Serialized origins allowed to connect and to request tokens, compared exactly. */
  readonly allowedOrigins: readonly string[]
  /** Accept `$connect` without an `Origin` header (non-browser clients). Default `false`. */
  readonly allowMissingOrigin?: boolean | undefined
  /** Exact `Host` values allowed on `$connect`, when set. */
  readonly allowedHosts?: readonly string[] | undefined
  /**
   * API ids allowed (`x-amzn-apigateway-api-id` / `requestContext.apiId`), when set. In HTTP mode
   * a connection's `apiId` is stored only when this list pins it (the header is otherwise
   * client-controlled on `$connect`); without it the stored `apiId` is `null`.
   */
  readonly apiIds?: readonly string[] | undefined
  /**
   * Lower-case header the integration maps from `context.routeKey` (e.g. `x-apigw-route-key`),
   * for setups that point every route at one URL. When set, every HTTP request must carry it and
   * it names the route; the path is ignored. Leave unset (the default) unless the mapping exists:
   * API Gateway forwards client headers on `$connect`, and only its mapping overwrites them.
   */
  readonly routeKeyHeader?: string | undefined
  /**
   * Lower-case header the integration maps from `context.stage` (e.g. `x-apigw-stage`). When set,
   * every `$connect` must carry it with a valid stage name (`^[A-Za-z0-9_-]{1,128}$`), and it is
   * stored with the connection for the sender's default endpoint. Unset (the default), the stage
   * of an HTTP connection is `null`: API Gateway forwards the client's own headers on `$connect`,
   * so a header no mapping overwrites is the client's choice.
   */
  readonly stageHeader?: string | undefined
  /**
   * Lower-case header the integration maps from `context.domainName` (e.g. `x-apigw-domain`).
   * When set, every `$connect` must carry it with a bare host (a DNS name or IP address with an
   * optional port; no path, userinfo or query), stored with the connection. Unset (the default),
   * the domain name of an HTTP connection is `null`, for the same reason as `stageHeader`.
   */
  readonly domainNameHeader?: string | undefined
  /** Lower-case header the integration maps from `context.identity.sourceIp`, if any. */
  readonly sourceIpHeader?: string | undefined
  /** Proxies between API Gateway and this app that append to `X-Forwarded-For`. Default 0. */
  readonly trustedProxies?: number | undefined
  /** Largest body accepted, in UTF-8 bytes. Default 131,072 (API Gateway's frame limit). */
  readonly maxBodyBytes?: number | undefined
  /**
   * How long an adapter waits for a request body to arrive, in ms, once its head has passed the
   * checks; a slower body is refused with `BODY_TIMEOUT` (408). API Gateway sends the whole body
   * at once, so only a stalled or trickling client needs more than a moment. 1–300,000; default
   * 5,000.
   */
  readonly bodyTimeoutMs?: number | undefined
  /** JSON nesting depth limit for messages. Default 32. */
  readonly maxJsonDepth?: number | undefined
  /** Entries per JSON object or array. Default 1,000. */
  readonly maxJsonKeys?: number | undefined
  /** Connect token settings. */
  readonly tokens?:
    | {
        /** Token lifetime. Default 60,000 ms. */
        readonly ttlMs?: number | undefined
        /** Query parameter carrying the token on `$connect`. Default `token`. */
        readonly queryParam?: string | undefined
      }
    | undefined
  /** Query parameter naming the channel to join on `$connect`. Default `channel`. */
  readonly channelParam?: string | undefined
  /**
   * Most channels one connection may be in (the `$connect` channel included). `ctx.join` beyond
   * it is refused with `CHANNEL_LIMIT_REACHED` (403); the store enforces it atomically. An
   * integer from 1 to 10,000; default 100.
   */
  readonly maxChannelsPerConnection?: number | undefined
  readonly rateLimits?: RateLimitOptions | undefined
  readonly auth?: AuthHooks<TUser> | undefined
  /** Message handlers by name. */
  readonly handlers?: HandlerMap<TUser> | undefined
  /** Message keys naming the handler, in priority order. Default `['handler', 'action']`. */
  readonly handlerKeys?: readonly string[] | undefined
  /** Permissions required for every message (in addition to each handler's). */
  readonly permissions?: Permissions | undefined
  /** Permissions required to connect. */
  readonly connectPermissions?: Permissions | undefined
  /** Extra checks, run after the built-in ones. */
  readonly checks?:
    | {
        readonly connect?: readonly CustomCheck<TUser>[] | undefined
        readonly message?: readonly CustomCheck<TUser>[] | undefined
      }
    | undefined
  /** Sending: requests in flight per send call (1–1,000, default 32) and store page size (1–10,000, default 500). */
  readonly send?:
    | {
        readonly concurrency?: number | undefined
        readonly pageSize?: number | undefined
      }
    | undefined
  /** Connections older than this are swept by `cleanup` (API Gateway's 2 h cap + grace). */
  readonly staleConnectionMs?: number | undefined
  /** How long disconnected records are kept before `cleanup` deletes them. Default 0. */
  readonly disconnectedRetentionMs?: number | undefined
  /**
   * Speak the client protocol of `@apigw-ws/client` (see `docs/client.md`): messages carrying
   * `$id` get a reply envelope (refusals as `{ status, message }`, sent with HTTP 200), the
   * `$heartbeat` action is answered by a built-in no-op, and every `send.*` payload carries a
   * message id (`{ $mid, data }`). Default `false`: responses and payloads are unchanged.
   */
  readonly clientProtocol?: boolean | undefined
  /** Receives operator events. Must not throw (errors are swallowed). */
  readonly onEvent?: EventListener | undefined
  readonly clock?: Clock | undefined
}

/** The normalized, frozen configuration. */
export interface Config<TUser> {
  readonly store: Store
  readonly connections: ConnectionsTransport | null
  readonly integration: 'http' | 'lambda'
  /** SHA-256 digests of the integration secrets (the secrets themselves are not kept). */
  readonly secretDigests: readonly Uint8Array[]
  readonly secretHeader: string
  readonly allowedOrigins: ReadonlySet<string>
  readonly allowMissingOrigin: boolean
  readonly allowedHosts: ReadonlySet<string> | null
  readonly apiIds: ReadonlySet<string> | null
  readonly routeKeyHeader: string | null
  readonly stageHeader: string | null
  readonly domainNameHeader: string | null
  readonly sourceIpHeader: string | null
  readonly trustedProxies: number
  readonly maxBodyBytes: number
  readonly bodyTimeoutMs: number
  readonly json: { readonly maxDepth: number; readonly maxKeys: number }
  readonly tokenTtlMs: number
  readonly tokenParam: string
  readonly channelParam: string
  readonly maxChannelsPerConnection: number
  readonly limits: {
    readonly connectPerIp: RateLimitRule | null
    readonly connectPerUser: RateLimitRule | null
    readonly tokenPerUser: RateLimitRule | null
    readonly messagePerConnection: RateLimitRule | null
  }
  readonly auth: AuthHooks<TUser>
  readonly handlers: ReadonlyMap<string, RegisteredHandler<TUser>>
  readonly handlerKeys: readonly string[]
  readonly permissions: Permissions | null
  readonly connectPermissions: Permissions | null
  readonly checks: {
    readonly connect: readonly CustomCheck<TUser>[]
    readonly message: readonly CustomCheck<TUser>[]
  }
  readonly send: { readonly concurrency: number; readonly pageSize: number }
  readonly staleConnectionMs: number
  readonly disconnectedRetentionMs: number
  readonly clientProtocol: boolean
  readonly onEvent: EventListener | null
  readonly clock: Clock
}

const DEFAULT_RULE: RateLimitRule = Object.freeze({ limit: 20, windowMs: 60_000 })
/** API Gateway closes every connection after 2 hours; 10 minutes of grace for late events. */
export const DEFAULT_STALE_MS = 2 * 60 * 60 * 1000 + 10 * 60 * 1000
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/
const PARAM_NAME = /^[A-Za-z0-9_.-]{1,64}$/

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a positive integer`)
  }
  return value
}

function boundedInt(value: unknown, name: string, fallback: number, max: number): number {
  const n = positiveInt(value, name, fallback)
  if (n > max) throw new TypeError(`${name} must be at most ${max}`)
  return n
}

function nonNegativeInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer`)
  }
  return value
}

function optionalObject<T extends object>(value: T | undefined, name: string): Partial<T> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object`)
  return value
}

function optionalBoolean(value: unknown, name: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`${name} must be a boolean`)
  }
  return value === true
}

function rule(
  value: RateLimitRule | false | undefined,
  name: string,
  fallback: RateLimitRule | null,
) {
  if (value === false) return null
  if (value === undefined) return fallback
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${name} must be { limit, windowMs } or false`)
  }
  return Object.freeze({
    limit: positiveInt(value.limit ?? Number.NaN, `${name}.limit`, 0),
    windowMs: positiveInt(value.windowMs ?? Number.NaN, `${name}.windowMs`, 0),
  })
}

function stringList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new TypeError(`${name} must be an array of non-empty strings`)
  }
  return value as string[]
}

function headerName(value: unknown, name: string, fallback: string | null): string | null {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    throw new TypeError(`${name} must be a lower-case HTTP header name`)
  }
  return value
}

function paramName(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !PARAM_NAME.test(value)) {
    throw new TypeError(`${name} must match ${PARAM_NAME}`)
  }
  return value
}

function optionalFunction(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${name} must be a function`)
  }
}

/**
 * Whether `NODE_ENV` names production, however it is spelled: `Production`, ` production ` and
 * `PRODUCTION` all count, so a typo in case or a stray space cannot switch the guard off.
 */
export function isProduction(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env
  return env?.NODE_ENV?.trim().toLowerCase() === 'production'
}

/** Shortest integration secret accepted, in characters. */
export const MIN_SECRET_LENGTH = 16
/** Fewest distinct characters an integration secret must contain. */
export const MIN_SECRET_DISTINCT_CHARACTERS = 8
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/

/**
 * Why `secret` is unfit to authenticate API Gateway, or `null` when it is acceptable: it must be
 * at least {@link MIN_SECRET_LENGTH} printable ASCII characters (what an HTTP header can carry),
 * must not start or end with whitespace (header values are trimmed in transit, so it could never
 * match), and must contain at least {@link MIN_SECRET_DISTINCT_CHARACTERS} distinct characters,
 * which refuses blank, repeated and keyboard-walk values such as `aaaaaaaaaaaaaaaa`.
 */
export function secretWeakness(secret: string): string | null {
  if (secret.length < MIN_SECRET_LENGTH) {
    return `must be at least ${MIN_SECRET_LENGTH} characters (got ${secret.length})`
  }
  if (secret.trim().length === 0) return 'must not be blank (it is only whitespace)'
  if (!PRINTABLE_ASCII.test(secret)) {
    return 'must be printable ASCII: an HTTP header cannot carry control or non-ASCII characters'
  }
  if (secret.trim() !== secret) {
    return 'must not start or end with whitespace: header values are trimmed in transit'
  }
  const distinct = new Set(secret).size
  if (distinct < MIN_SECRET_DISTINCT_CHARACTERS) {
    return `is too predictable: it has ${distinct} distinct characters, at least ${MIN_SECRET_DISTINCT_CHARACTERS} are required (use a random value from a secret manager)`
  }
  return null
}

/**
 * The store, checked: a store built by `defineStore` is used as it is; any other object is run
 * through `defineStore`, which refuses (with a `TypeError` listing them) missing methods.
 */
function checkStore(store: unknown): Store {
  if (typeof store !== 'object' || store === null) {
    throw new TypeError('store is required: pass memoryStore(), kyselyStore(…) or your own Store')
  }
  if (isStore(store)) return store
  try {
    return defineStore(store as StoreParts)
  } catch (error) {
    throw new TypeError(`store: ${(error as Error).message}`)
  }
}

/** Validates `options` and returns the frozen configuration. Throws `TypeError` on bad input. */
export function normalizeOptions<TUser>(options: GatewayOptions<TUser>): Config<TUser> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createGateway(options): options must be an object')
  }
  const store = checkStore(options.store)
  const integration = options.integration ?? 'http'
  if (integration !== 'http' && integration !== 'lambda') {
    throw new TypeError("integration must be 'http' or 'lambda'")
  }
  const allowMissingSecret = optionalBoolean(options.allowMissingSecret, 'allowMissingSecret')
  const rawSecrets = options.integrationSecret
  const secrets =
    rawSecrets === undefined
      ? []
      : typeof rawSecrets === 'string'
        ? [rawSecrets]
        : stringList(rawSecrets, 'integrationSecret')
  secrets.forEach((secret, index) => {
    const problem = secretWeakness(secret)
    if (problem !== null) {
      const which =
        typeof rawSecrets === 'string' ? 'integrationSecret' : `integrationSecret[${index}]`
      throw new TypeError(`${which} ${problem}`)
    }
  })
  if (rawSecrets !== undefined && secrets.length === 0) {
    throw new TypeError('integrationSecret must not be an empty list')
  }
  if (integration === 'http' && secrets.length === 0 && !allowMissingSecret && isProduction()) {
    throw new TypeError(
      'integrationSecret is required in production (NODE_ENV=production) and was undefined (is its environment variable set?); set allowMissingSecret: true to run without one',
    )
  }

  if (options.allowedOrigins === undefined) {
    throw new TypeError(
      'allowedOrigins is required (use [] with allowMissingOrigin for non-browser clients)',
    )
  }
  const origins = stringList(options.allowedOrigins, 'allowedOrigins')
  for (const origin of origins) {
    let serialized: string | null = null
    try {
      serialized = new URL(origin).origin
    } catch {
      serialized = null
    }
    if (serialized !== origin || serialized === 'null') {
      throw new TypeError(
        `allowedOrigins: "${origin}" is not a serialized origin (scheme://host[:port], no path or trailing slash)`,
      )
    }
  }

  const auth = optionalObject(options.auth, 'auth')
  for (const hook of ['resolveSession', 'loadUser', 'hasPermission', 'authorizeChannel'] as const) {
    optionalFunction(auth[hook], `auth.${hook}`)
  }
  const handlers = buildRegistry(options.handlers)
  const permissions = normalizePermissions(options.permissions, 'permissions')
  const connectPermissions = normalizePermissions(options.connectPermissions, 'connectPermissions')
  const needsPermissionHook =
    permissions !== null ||
    connectPermissions !== null ||
    [...handlers.values()].some((h) => h.permissions !== null)
  if (needsPermissionHook && auth.hasPermission === undefined) {
    throw new TypeError('auth.hasPermission is required when permissions are configured')
  }
  const handlerKeys = options.handlerKeys ?? ['handler', 'action']
  stringList(handlerKeys, 'handlerKeys')
  if (handlerKeys.length === 0) throw new TypeError('handlerKeys must name at least one key')

  const checks = optionalObject(options.checks, 'checks')
  for (const kind of ['connect', 'message'] as const) {
    const list = checks[kind] ?? []
    if (!Array.isArray(list) || list.some((c) => typeof c !== 'function')) {
      throw new TypeError(`checks.${kind} must be an array of functions`)
    }
  }
  optionalFunction(options.onEvent, 'onEvent')
  if (options.clock !== undefined && typeof options.clock?.now !== 'function') {
    throw new TypeError('clock must have a now() method')
  }
  const connections = options.connections ?? null
  if (connections !== null && typeof connections.post !== 'function') {
    throw new TypeError('connections must be a ConnectionsTransport (e.g. awsConnections(…))')
  }
  const allowedHosts = options.allowedHosts
  const apiIds = options.apiIds
  const tokens = optionalObject(options.tokens, 'tokens')
  const limits = optionalObject(options.rateLimits, 'rateLimits')
  const send = optionalObject(options.send, 'send')

  return Object.freeze({
    store,
    connections,
    integration,
    secretDigests: Object.freeze(secrets.map((secret) => sha256(secret))),
    secretHeader: headerName(options.secretHeader, 'secretHeader', 'x-apigw-secret') as string,
    allowedOrigins: new Set(origins),
    allowMissingOrigin: optionalBoolean(options.allowMissingOrigin, 'allowMissingOrigin'),
    allowedHosts:
      allowedHosts === undefined
        ? null
        : new Set(stringList(allowedHosts, 'allowedHosts').map((h) => h.toLowerCase())),
    apiIds: apiIds === undefined ? null : new Set(stringList(apiIds, 'apiIds')),
    routeKeyHeader: headerName(options.routeKeyHeader, 'routeKeyHeader', null),
    stageHeader: headerName(options.stageHeader, 'stageHeader', null),
    domainNameHeader: headerName(options.domainNameHeader, 'domainNameHeader', null),
    sourceIpHeader: headerName(options.sourceIpHeader, 'sourceIpHeader', null),
    trustedProxies: nonNegativeInt(options.trustedProxies, 'trustedProxies', 0),
    maxBodyBytes: positiveInt(options.maxBodyBytes, 'maxBodyBytes', 131_072),
    bodyTimeoutMs: boundedInt(options.bodyTimeoutMs, 'bodyTimeoutMs', 5_000, 300_000),
    json: Object.freeze({
      maxDepth: positiveInt(options.maxJsonDepth, 'maxJsonDepth', 32),
      maxKeys: positiveInt(options.maxJsonKeys, 'maxJsonKeys', 1_000),
    }),
    tokenTtlMs: positiveInt(tokens.ttlMs, 'tokens.ttlMs', 60_000),
    tokenParam: paramName(tokens.queryParam, 'tokens.queryParam', 'token'),
    channelParam: paramName(options.channelParam, 'channelParam', 'channel'),
    maxChannelsPerConnection: boundedInt(
      options.maxChannelsPerConnection,
      'maxChannelsPerConnection',
      100,
      10_000,
    ),
    limits: Object.freeze({
      connectPerIp: rule(limits.connectPerIp, 'rateLimits.connectPerIp', DEFAULT_RULE),
      connectPerUser: rule(limits.connectPerUser, 'rateLimits.connectPerUser', DEFAULT_RULE),
      tokenPerUser: rule(limits.tokenPerUser, 'rateLimits.tokenPerUser', DEFAULT_RULE),
      messagePerConnection: rule(
        limits.messagePerConnection,
        'rateLimits.messagePerConnection',
        null,
      ),
    }),
    auth: Object.freeze({ ...auth }),
    handlers,
    handlerKeys: Object.freeze([...handlerKeys]),
    permissions,
    connectPermissions,
    checks: Object.freeze({
      connect: Object.freeze([...(checks.connect ?? [])]),
      message: Object.freeze([...(checks.message ?? [])]),
    }),
    send: Object.freeze({
      concurrency: boundedInt(send.concurrency, 'send.concurrency', 32, 1_000),
      pageSize: boundedInt(send.pageSize, 'send.pageSize', 500, 10_000),
    }),
    staleConnectionMs: positiveInt(
      options.staleConnectionMs,
      'staleConnectionMs',
      DEFAULT_STALE_MS,
    ),
    disconnectedRetentionMs: nonNegativeInt(
      options.disconnectedRetentionMs,
      'disconnectedRetentionMs',
      0,
    ),
    clientProtocol: optionalBoolean(options.clientProtocol, 'clientProtocol'),
    onEvent: options.onEvent ?? null,
    clock: options.clock ?? systemClock,
  })
}
