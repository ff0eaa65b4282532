/**
 * The options of `startLocalGateway`, their defaults (API Gateway's own limits), and their
 * validation. Options are checked once, copied and frozen; a bad value throws `TypeError`
 * before any socket is opened.
 */
import { type GatewayClock, systemClock } from './clock.js'
import type { LambdaWebSocketHandler } from './lambda-types.js'
import { isSystemRouteName, parseRouteSelectionExpression } from './route-selection.js'

/** Forward every event as an HTTP POST to `baseUrl/connect|disconnect|default|<route>`. */
export interface HttpIntegrationOptions {
  readonly type: 'http'
  /** `http:` or `https:` URL of the backend mount, e.g. `http://127.0.0.1:3000/ws`. */
  readonly baseUrl: string
}

/** Invoke an in-process handler with Lambda proxy events. */
export interface LambdaIntegrationOptions {
  readonly type: 'lambda'
  readonly handler: LambdaWebSocketHandler
}

/** Where events go: an HTTP backend (HTTP_PROXY) or a Lambda handler (AWS_PROXY). */
export type IntegrationOptions = HttpIntegrationOptions | LambdaIntegrationOptions

/** A static header added to every backend call (HTTP mode), as an integration request mapping. */
export interface SecretHeaderOptions {
  /** Header name; default `x-apigw-secret`. */
  readonly header?: string
  readonly value: string
}

/** One line of the gateway's activity, for logs. Never contains bodies, cookies or secrets. */
export type GatewayLogEntry =
  | {
      readonly kind: 'integration'
      readonly route: string
      readonly connectionId: string
      /** Backend status, or `null` when the call failed without one (network, timeout, throw). */
      readonly status: number | null
      readonly error?: string
    }
  | {
      readonly kind: 'close'
      readonly connectionId: string
      readonly code: number
      readonly reason: string
    }
  | {
      readonly kind: 'management'
      readonly method: string
      readonly connectionId: string
      readonly status: number
    }

/** Options of `startLocalGateway`. */
export interface LocalGatewayOptions {
  /** Port to listen on; default 0 (a free port, see the returned `port`). */
  readonly port?: number
  /** Interface to listen on; default `127.0.0.1` (loopback only). */
  readonly host?: string
  /** Stage name: the WebSocket URL is `ws://host:port/<stage>`; default `local`. */
  readonly stage?: string
  /** API id sent in `X-Amzn-Apigateway-Api-Id` and `User-Agent`; default `local`. */
  readonly apiId?: string
  readonly integration: IntegrationOptions
  /** Default `$request.body.action`. Only `$request.body.<dotted.path>` is supported. */
  readonly routeSelectionExpression?: string
  /**
   * The custom route keys the API defines. Recommended: a selected value not listed goes to
   * `$default`, as on a real API. When omitted, any selected string matching
   * `^[A-Za-z0-9_-]{1,128}$` is forwarded as its own route. `connect`, `disconnect` and `default`
   * (any case, with or without `$`) are reserved: listing one throws, and a message selecting
   * one goes to `$default`.
   */
  readonly routes?: readonly string[]
  /** Static secret header added to every HTTP backend call. HTTP mode only. */
  readonly secret?: SecretHeaderOptions
  /** Close (1001) a connection with no client message for this long; default 600 000 (10 min). */
  readonly idleTimeoutMs?: number
  /** Close (1001) any connection this old; default 7 200 000 (2 h). */
  readonly maxDurationMs?: number
  /** Largest client message and `@connections` POST, in bytes; default 131 072 (128 KiB). */
  readonly maxMessageBytes?: number
  /** Backend call timeout; default 29 000 (API Gateway's integration timeout). */
  readonly integrationTimeoutMs?: number
  /**
   * Backend calls in flight at most (HTTP mode), each on a keep-alive socket of a pool this size;
   * further calls wait first come, first served (the integration timeout includes the wait).
   * Default 32.
   */
  readonly maxIntegrationSockets?: number
  /** How long `close()` waits for clients' close frames and last `$disconnect` calls; default 2 000. */
  readonly closeTimeoutMs?: number
  /** Time and timers; default the system clock. Tests pass `createManualClock()`. */
  readonly clock?: GatewayClock
  /** Receives one entry per backend call, close and management call. Must not throw. */
  readonly onLog?: (entry: GatewayLogEntry) => void
}

/** Options after validation and defaults. */
export interface NormalizedOptions {
  readonly port: number
  readonly host: string
  readonly stage: string
  readonly apiId: string
  readonly integration: Readonly<
    { type: 'http'; baseUrl: URL } | { type: 'lambda'; handler: LambdaWebSocketHandler }
  >
  readonly routeSelectionExpression: string
  readonly routes: ReadonlySet<string> | undefined
  readonly secret: { readonly header: string; readonly value: string } | undefined
  readonly idleTimeoutMs: number
  readonly maxDurationMs: number
  readonly maxMessageBytes: number
  readonly integrationTimeoutMs: number
  readonly maxIntegrationSockets: number
  readonly closeTimeoutMs: number
  readonly clock: GatewayClock
  readonly onLog: ((entry: GatewayLogEntry) => void) | undefined
}

const STAGE = /^[A-Za-z0-9_-]{1,128}$/
const API_ID = /^[A-Za-z0-9_-]{1,64}$/
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/
const HEADER_VALUE = /^[\t\x20-\x7e]{1,4096}$/
// setTimeout clamps anything larger to 1 ms, which would close every connection at once.
const MAX_TIMER_MS = 2_147_483_647

function intOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
) {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return v
}

function parseBaseUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new TypeError(`integration.baseUrl is not a URL: ${JSON.stringify(raw)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError('integration.baseUrl must be an http: or https: URL')
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new TypeError('integration.baseUrl must not carry credentials, a query or a fragment')
  }
  url.pathname = url.pathname.replace(/\/+$/, '')
  return url
}

function normalizeRoutes(routes: readonly string[] | undefined): ReadonlySet<string> | undefined {
  if (routes === undefined) return undefined
  const set = new Set<string>()
  for (const route of routes) {
    if (typeof route !== 'string' || route.length === 0 || route.length > 128) {
      throw new TypeError('routes must be non-empty strings of at most 128 characters')
    }
    if (route.startsWith('$') || isSystemRouteName(route)) {
      throw new TypeError(
        `routes lists custom routes only; ${route} names a system route (connect, disconnect and default are reserved in any case)`,
      )
    }
    set.add(route)
  }
  return set
}

/** Validates `options` and applies defaults; throws `TypeError` on any invalid value. */
export function normalizeOptions(options: LocalGatewayOptions): NormalizedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('startLocalGateway needs an options object')
  }
  const host = options.host ?? '127.0.0.1'
  if (typeof host !== 'string' || host.length === 0) throw new TypeError('host must be a string')
  const stage = options.stage ?? 'local'
  if (!STAGE.test(stage)) throw new TypeError('stage must match ^[A-Za-z0-9_-]{1,128}$')
  const apiId = options.apiId ?? 'local'
  if (!API_ID.test(apiId)) throw new TypeError('apiId must match ^[A-Za-z0-9_-]{1,64}$')

  const given = options.integration
  let integration: NormalizedOptions['integration']
  if (given?.type === 'http') {
    integration = { type: 'http', baseUrl: parseBaseUrl(given.baseUrl) }
  } else if (given?.type === 'lambda' && typeof given.handler === 'function') {
    integration = { type: 'lambda', handler: given.handler }
  } else {
    throw new TypeError(
      "integration must be { type: 'http', baseUrl } or { type: 'lambda', handler }",
    )
  }

  let secret: NormalizedOptions['secret']
  if (options.secret !== undefined) {
    if (integration.type !== 'http') {
      throw new TypeError('secret applies to HTTP integrations only (Lambda is invoked directly)')
    }
    const header = options.secret.header ?? 'x-apigw-secret'
    if (!HEADER_NAME.test(header)) throw new TypeError('secret.header is not a valid header name')
    if (typeof options.secret.value !== 'string' || !HEADER_VALUE.test(options.secret.value)) {
      throw new TypeError('secret.value must be 1 to 4096 printable ASCII characters')
    }
    secret = Object.freeze({ header, value: options.secret.value })
  }

  const routeSelectionExpression = options.routeSelectionExpression ?? '$request.body.action'
  parseRouteSelectionExpression(routeSelectionExpression)

  if (options.onLog !== undefined && typeof options.onLog !== 'function') {
    throw new TypeError('onLog must be a function')
  }

  return Object.freeze({
    port: intOption('port', options.port, 0, 0, 65_535),
    host,
    stage,
    apiId,
    integration: Object.freeze(integration),
    routeSelectionExpression,
    routes: normalizeRoutes(options.routes),
    secret,
    idleTimeoutMs: intOption('idleTimeoutMs', options.idleTimeoutMs, 600_000, 1, MAX_TIMER_MS),
    maxDurationMs: intOption('maxDurationMs', options.maxDurationMs, 7_200_000, 1, MAX_TIMER_MS),
    maxMessageBytes: intOption(
      'maxMessageBytes',
      options.maxMessageBytes,
      131_072,
      1,
      64 * 1024 * 1024,
    ),
    integrationTimeoutMs: intOption(
      'integrationTimeoutMs',
      options.integrationTimeoutMs,
      29_000,
      1,
      MAX_TIMER_MS,
    ),
    maxIntegrationSockets: intOption(
      'maxIntegrationSockets',
      options.maxIntegrationSockets,
      32,
      1,
      65_535,
    ),
    closeTimeoutMs: intOption('closeTimeoutMs', options.closeTimeoutMs, 2_000, 0, 600_000),
    clock: options.clock ?? systemClock,
    onLog: options.onLog,
  })
}
