/**
 * `createGateway`: the pure core. It normalizes options once, builds the pipelines, and exposes
 * `handle` (GatewayRequest → GatewayResponse) plus thin entry points for Fetch and Lambda, token
 * issuance, cleanup and sending. Every request ends in a response value: rejections map through
 * the one rejection table, and anything unexpected (a throwing store, hook or handler) becomes a
 * generic 503/500, never an allow.
 */
import {
  type FetchOptions,
  fromFetchRequest,
  parseRoute,
  toFetchResponse,
} from './adapters/fetch.js'
import {
  fromLambdaEvent,
  toLambdaResult,
  type WebSocketEvent,
  type WebSocketResult,
} from './adapters/lambda.js'
import { isOriginAllowed } from './checks/origin-checks.js'
import { hitLimit } from './checks/rate-limits.js'
import { newRequestState, type RequestState } from './checks/request-state.js'
import type { GatewayEvent } from './events.js'
import { errorName, guard, InternalFailure } from './failures.js'
import { MessageContext } from './handler-context.js'
import { type Config, type GatewayOptions, normalizeOptions } from './options.js'
import { buildPipelines, runSteps } from './pipeline.js'
import {
  jsonResponse,
  REJECTION_STATUS,
  type Rejection,
  RejectionError,
  reject,
  toResponse,
} from './rejections.js'
import type { GatewayRequest, GatewayResponse, RouteKey } from './request.js'
import type { Sender } from './send/sender.js'
import { createSender } from './send/sender.js'
import { sha256Hex } from './sha256.js'
import type { CleanupCounts } from './store.js'
import { generateToken, hashToken } from './tokens.js'
import { isChannel } from './validators.js'

/** What `issueToken` needs to know about the token request. */
export interface TokenRequest {
  /** The HTTP method of the token request (only `POST` is served). */
  readonly method: string
  /** Request headers (any casing); `origin` and `sec-fetch-site` are read for the CSRF check. */
  readonly headers: Readonly<Record<string, string | undefined>> | Headers
  /** The signed-in user, or `null`/`undefined` when nobody is signed in (→ 401). */
  readonly userId: string | null | undefined
  /** The app session id. Required when `auth.resolveSession` is configured (session binding). */
  readonly sessionId?: string | null
  /** Bind the token to this channel: the connection may only open it. */
  readonly channel?: string | null
}

/** The body of a successful token response. */
export interface TokenGrant {
  readonly token: string
  /** Seconds until the token expires. */
  readonly expiresIn: number
}

/** Options for `cleanup`. */
export interface CleanupOptions {
  /** Reference time (default: the gateway clock). */
  readonly now?: number
  /** Rows per kind deleted per store call. Default 500. */
  readonly batchSize?: number
}

/** The gateway. */
export interface Gateway {
  /** Runs the pipeline for one request. Never throws; always resolves a response. */
  handle(request: GatewayRequest): Promise<GatewayResponse>
  /**
   * Serves a Fetch `Request` (POST only) at a mount whose last path segment is the route, or
   * with `options.route`. The body is read with the size cap.
   */
  fetch(request: Request, options?: FetchOptions): Promise<Response>
  /** Serves an API Gateway WebSocket Lambda (AWS_PROXY) event. Never throws. */
  lambda(event: WebSocketEvent): Promise<WebSocketResult>
  /**
   * Issues a single-use connect token after checking the method (POST → else 405), CSRF
   * (`Origin` in `allowedOrigins` or `Sec-Fetch-Site: same-origin` → else 403), the user
   * (→ 401) and the per-user issuance limit (→ 429). The response body is `TokenGrant` JSON.
   * Only the token's SHA-256 is stored.
   */
  issueToken(request: TokenRequest): Promise<GatewayResponse>
  /**
   * Deletes expired and used tokens, ended rate-limit windows, disconnected connections (after
   * `disconnectedRetentionMs`) and connections older than `staleConnectionMs`, in batches.
   * Idempotent; safe to run from several instances at once. Resolves the counts deleted.
   */
  cleanup(options?: CleanupOptions): Promise<CleanupCounts>
  /** Sends to connections, users, channels or everyone (requires the `connections` option). */
  readonly send: Sender
  /**
   * The response for a refusal an adapter makes before the pipeline sees the request — a body
   * over `maxBodyBytes` it did not read, a path that names no route, a method other than POST —
   * with the same status, generic body and `request.rejected` event as every other refusal.
   */
  refuse(code: AdapterRejectionCode, route?: RouteKey): GatewayResponse
  /**
   * The largest body the gateway accepts, in bytes. Adapters that read bodies themselves stop
   * reading one byte past it (and may refuse a larger `Content-Length` without reading).
   */
  readonly maxBodyBytes: number
}

/** Refusals an adapter may make before the pipeline runs. */
export type AdapterRejectionCode = 'BODY_TOO_LARGE' | 'ROUTE_UNKNOWN' | 'METHOD_NOT_ALLOWED'

const CLEANUP_MAX_ROUNDS = 1_000

function headerValue(headers: TokenRequest['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function')
    return (headers as Headers).get(name) ?? undefined
  const record = headers as Readonly<Record<string, string | undefined>>
  for (const key of Object.keys(record)) if (key.toLowerCase() === name) return record[key]
  return undefined
}

function unconfiguredSender(): Sender {
  const fail = async (): Promise<never> => {
    throw new TypeError('sending requires the `connections` option (e.g. awsConnections(…))')
  }
  return Object.freeze({
    toConnection: fail,
    toUser: fail,
    toChannel: fail,
    broadcast: fail,
    disconnect: fail,
    disconnectUser: fail,
    getConnection: fail,
    verifyConnections: fail,
  })
}

/**
 * Creates a gateway. Options are validated here (a `TypeError` names the offending option) and
 * frozen; nothing a request does can change them.
 */
export function createGateway<TUser = unknown>(options: GatewayOptions<TUser>): Gateway {
  const config: Config<TUser> = normalizeOptions(options)
  const { store, clock } = config

  const emit = (event: GatewayEvent): void => {
    if (config.onEvent === null) return
    try {
      config.onEvent(event)
    } catch {
      // A broken listener must not change the outcome of a request.
    }
  }

  if (config.integration === 'http' && config.secretDigests.length === 0) {
    const message =
      'apigw-ws: no integrationSecret is configured, so any client that can reach this app can impersonate API Gateway. Configure one (see the README).'
    console.warn(message)
    emit({ type: 'config.warning', at: clock.now(), code: 'NO_INTEGRATION_SECRET', message })
  }

  const pipelines = buildPipelines(config, emit)
  const send: Sender =
    config.connections === null
      ? unconfiguredSender()
      : createSender({
          store,
          connections: config.connections,
          clock,
          onEvent: emit,
          concurrency: config.send.concurrency,
          pageSize: config.send.pageSize,
        })

  function refuse(
    state: RequestState<TUser> | null,
    route: RouteKey,
    rejection: Rejection,
  ): GatewayResponse {
    emit({
      type: 'request.rejected',
      at: state?.now ?? clock.now(),
      route,
      code: rejection.code,
      status: REJECTION_STATUS[rejection.code],
      connectionId: state?.connectionId ?? null,
      ip: state?.address?.ip ?? null,
      detail: rejection.detail ?? null,
    })
    return toResponse(rejection)
  }

  async function accept(state: RequestState<TUser>): Promise<GatewayResponse> {
    const { request } = state
    const connectionId = state.connectionId as string
    if (state.route === '$connect') {
      const created = await guard('store', () =>
        store.connections.create({
          connectionId,
          userId: state.userId,
          channels: state.channel === null ? [] : [state.channel],
          apiId: request.lambda?.apiId ?? request.headers['x-amzn-apigateway-api-id'] ?? null,
          stage: request.lambda?.stage ?? request.headers['x-apigw-stage'] ?? null,
          domainName: request.lambda?.domainName ?? request.headers['x-apigw-domain'] ?? null,
          connectedAt: state.now,
        }),
      )
      if (!created) return refuse(state, request.route, reject('CONNECTION_DUPLICATE'))
      emit({
        type: 'connect.accepted',
        at: state.now,
        connectionId,
        userId: state.userId,
        channels: state.channel === null ? [] : [state.channel],
        ip: state.address?.ip ?? null,
      })
      return { status: 200, headers: {}, body: null }
    }
    if (state.route === '$disconnect') {
      const changed = await guard('store', () =>
        store.connections.disconnect(connectionId, state.now),
      )
      if (changed) {
        emit({ type: 'connection.disconnected', at: state.now, connectionId, reason: 'disconnect' })
      }
      return { status: 200, headers: {}, body: null }
    }
    const handler = state.handler
    if (handler === null) return refuse(state, request.route, reject('HANDLER_UNKNOWN'))
    const result = await guard('handler', () =>
      handler.handle(new MessageContext(state, send), state.input),
    )
    const response: GatewayResponse =
      result === undefined
        ? { status: 200, headers: {}, body: null }
        : await guard('handler', () => jsonResponse(200, result))
    if (config.onEvent !== null) {
      emit({ type: 'message.handled', at: state.now, connectionId, handler: handler.name })
    }
    return response
  }

  function failure(
    state: RequestState<TUser> | null,
    request: GatewayRequest,
    error: unknown,
  ): GatewayResponse {
    if (error instanceof RejectionError) return refuse(state, request.route, error.rejection)
    const source = error instanceof InternalFailure ? error.source : 'check'
    emit({
      type: 'internal.error',
      at: state?.now ?? clock.now(),
      source,
      route: request.route,
      errorName: errorName(error),
    })
    return refuse(
      state,
      request.route,
      reject(source === 'store' ? 'STORE_UNAVAILABLE' : 'INTERNAL_ERROR', source),
    )
  }

  /** The request with its route taken from the mapped route-key header, when configured. */
  function routed(request: GatewayRequest): GatewayRequest | null {
    if (config.routeKeyHeader === null || request.lambda) return request
    const value = request.headers[config.routeKeyHeader]
    const route = value === undefined ? null : parseRoute(value)
    return route === null ? null : { ...request, route }
  }

  async function handle(input: GatewayRequest): Promise<GatewayResponse> {
    if (typeof input !== 'object' || input === null || typeof input.route !== 'string') {
      return refuse(null, '$default', reject('ROUTE_UNKNOWN', 'not a gateway request'))
    }
    const request = routed(input)
    if (request === null) return refuse(null, input.route, reject('ROUTE_UNKNOWN', 'route header'))
    let state: RequestState<TUser> | null = null
    try {
      state = newRequestState(config, request, clock.now())
      const steps =
        request.route === '$connect'
          ? pipelines.connect
          : request.route === '$disconnect'
            ? pipelines.disconnect
            : pipelines.message
      const rejection = await runSteps(steps, state)
      if (rejection !== undefined) return refuse(state, request.route, rejection)
      return await accept(state)
    } catch (error) {
      return failure(state, request, error)
    }
  }

  async function issueToken(request: TokenRequest): Promise<GatewayResponse> {
    const now = clock.now()
    const userId =
      typeof request.userId === 'string' && request.userId !== '' ? request.userId : null
    const refuseToken = (rejection: Rejection): GatewayResponse => {
      emit({
        type: 'token.rejected',
        at: now,
        code: rejection.code,
        userId,
        detail: rejection.detail ?? null,
      })
      return toResponse(rejection)
    }
    try {
      if (request.method.toUpperCase() !== 'POST') return refuseToken(reject('METHOD_NOT_ALLOWED'))
      const origin = headerValue(request.headers, 'origin')
      const fetchSite = headerValue(request.headers, 'sec-fetch-site')
      if (!isOriginAllowed(origin, config.allowedOrigins) && fetchSite !== 'same-origin') {
        return refuseToken(reject('CSRF_REJECTED'))
      }
      if (userId === null) return refuseToken(reject('UNAUTHENTICATED', 'no user'))
      const channel = request.channel ?? null
      if (channel !== null && !isChannel(channel)) return refuseToken(reject('CHANNEL_INVALID'))
      let sessionHash: string | null = null
      if (config.auth.resolveSession !== undefined) {
        if (typeof request.sessionId !== 'string' || request.sessionId === '') {
          return refuseToken(reject('UNAUTHENTICATED', 'no session'))
        }
        sessionHash = sha256Hex(request.sessionId)
      }
      const rule = config.limits.tokenPerUser
      if (rule !== null) {
        const refusal = await hitLimit(store, 'token.user', userId, rule, now)
        if (refusal !== null) {
          emit({
            type: 'rate.limited',
            at: now,
            scope: 'token.user',
            count: refusal.count,
            limit: rule.limit,
            resetAt: refusal.resetAt,
          })
          return refuseToken(refusal.rejection)
        }
      }
      const token = generateToken()
      const expiresAt = now + config.tokenTtlMs
      await guard('store', () =>
        store.tokens.put({ hash: hashToken(token), userId, sessionHash, channel, expiresAt }),
      )
      emit({ type: 'token.issued', at: now, userId, channel, expiresAt })
      const grant: TokenGrant = { token, expiresIn: Math.floor(config.tokenTtlMs / 1000) }
      return jsonResponse(200, grant)
    } catch (error) {
      const source = error instanceof InternalFailure ? error.source : 'check'
      emit({ type: 'internal.error', at: now, source, route: null, errorName: errorName(error) })
      return refuseToken(
        reject(source === 'store' ? 'STORE_UNAVAILABLE' : 'INTERNAL_ERROR', source),
      )
    }
  }

  async function cleanup(options: CleanupOptions = {}): Promise<CleanupCounts> {
    const now = options.now ?? clock.now()
    const batchSize = options.batchSize ?? 500
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new TypeError('cleanup: batchSize must be a positive integer')
    }
    const total = { tokens: 0, rateLimits: 0, connections: 0 }
    for (let round = 0; round < CLEANUP_MAX_ROUNDS; round++) {
      const counts = await store.cleanup({
        now,
        batchSize,
        disconnectedBefore: now - config.disconnectedRetentionMs,
        connectedBefore: now - config.staleConnectionMs,
      })
      total.tokens += counts.tokens
      total.rateLimits += counts.rateLimits
      total.connections += counts.connections
      if (
        counts.tokens < batchSize &&
        counts.rateLimits < batchSize &&
        counts.connections < batchSize
      )
        break
    }
    return total
  }

  return Object.freeze({
    handle,
    async fetch(request: Request, options: FetchOptions = {}): Promise<Response> {
      let translated: GatewayRequest | Rejection
      try {
        translated = await fromFetchRequest(request, options, config.maxBodyBytes)
      } catch {
        translated = reject('BODY_ENCODING_INVALID', 'unreadable body')
      }
      if ('code' in translated) {
        return toFetchResponse(refuse(null, options.route ?? '$default', translated))
      }
      return toFetchResponse(await handle(translated))
    },
    async lambda(event: WebSocketEvent): Promise<WebSocketResult> {
      const translated = fromLambdaEvent(event)
      if ('code' in translated) {
        return toLambdaResult(
          refuse(null, event?.requestContext?.routeKey ?? '$default', translated),
        )
      }
      return toLambdaResult(await handle(translated))
    },
    issueToken,
    cleanup,
    send,
    refuse: (code: AdapterRejectionCode, route: RouteKey = '$default') =>
      refuse(null, route, reject(code)),
    maxBodyBytes: config.maxBodyBytes,
  })
}
