/**
 * `createGateway`: the pure core. It normalizes options once, builds the pipelines, and exposes
 * `handle` (GatewayRequest → GatewayResponse) plus thin entry points for Fetch and Lambda, token
 * issuance, cleanup and sending. Every request ends in a response value: rejections map through
 * the one rejection table, and anything unexpected (a throwing store, hook or handler) becomes a
 * generic 503/500, never an allow.
 */
import {
  type FetchOptions,
  fetchBody,
  fetchHead,
  parseRoute,
  toFetchResponse,
} from './adapters/fetch.js'
import {
  fromLambdaEvent,
  toLambdaResult,
  type WebSocketEvent,
  type WebSocketResult,
} from './adapters/lambda.js'
import { createAdapter, type LoadedBody, registerAdapter } from './adapters/serve.js'
import { newRequestState, type RequestState } from './checks/request-state.js'
import { encodePush, envelope } from './client-protocol.js'
import type { GatewayEvent } from './events.js'
import { createAcceptance, release } from './gateway/acceptance.js'
import { type CleanupOptions, sweep } from './gateway/cleanup.js'
import { createRefusals } from './gateway/refusals.js'
import { createTokenIssuer, type TokenRequest } from './gateway/token-issuer.js'
import { type Config, type GatewayOptions, normalizeOptions } from './options.js'
import { buildPipelines, runSteps } from './pipeline.js'
import { reject } from './rejections.js'
import type { GatewayRequest, GatewayResponse } from './request.js'
import type { Sender } from './send/sender.js'
import { createSender } from './send/sender.js'
import type { CleanupCounts } from './store.js'
import { warnOnce } from './warnings.js'

export type { AdapterRejectionCode } from './adapters/serve.js'
export type { CleanupOptions } from './gateway/cleanup.js'
export type { TokenGrant, TokenRequest } from './gateway/token-issuer.js'

/** The gateway. */
export interface Gateway {
  /**
   * Runs the pipeline for one request. Never throws; always resolves a response. A request that
   * carries a `lambda` context is refused (`SECRET_INVALID`): Lambda provenance comes only from
   * `gateway.lambda(event)`, never from a field an HTTP caller can set.
   */
  handle(request: GatewayRequest): Promise<GatewayResponse>
  /**
   * Serves a Fetch `Request` (POST only) at a mount whose last path segment is the route, or
   * with `options.route`. Head first: the route, the method, the integration secret, the API
   * Gateway shape and the connection id are checked before any body is read; the body is then
   * read under `maxBodyBytes` and `bodyTimeoutMs`. Never throws.
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
   * `issueToken` for a Fetch app: the method and headers come from `request` (its body is not
   * read), the user from `identity` (`null`/`undefined` when nobody is signed in → 401), and the
   * answer is a Fetch `Response` (`200 { token, expiresIn }` or a generic refusal).
   *
   * @example
   * ```ts
   * if (url.pathname === '/ws-token') return gateway.fetchToken(req, await signedIn(req))
   * ```
   */
  fetchToken(request: Request, identity: TokenIdentity | null | undefined): Promise<Response>
  /**
   * Deletes expired and used tokens, ended rate-limit windows, disconnected connections (after
   * `disconnectedRetentionMs`) and connections older than `staleConnectionMs`, in batches.
   * Idempotent; safe to run from several instances at once. Resolves the counts deleted.
   */
  cleanup(options?: CleanupOptions): Promise<CleanupCounts>
  /** Sends to connections, users, channels or everyone (requires the `connections` option). */
  readonly send: Sender
}

/** Who asks for a connect token, as the app knows it (see {@link Gateway.fetchToken}). */
export interface TokenIdentity {
  /** The signed-in user's id. */
  readonly userId: string
  /**
   * The app session id. Required when the gateway has `auth.resolveSession` (session-bound
   * tokens): the token is bound to its SHA-256 and `$connect` must present the same session.
   */
  readonly sessionId?: string | null
  /** Bind the token to this channel: the connection may only open it. */
  readonly channel?: string | null
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
    warnOnce('NO_INTEGRATION_SECRET', message)
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
          ...(config.clientProtocol ? { encode: encodePush } : {}),
        })

  const refusals = createRefusals<TUser>(emit, clock)
  const { refuse } = refusals
  const accept = createAcceptance(config, emit, send, refusals)
  const issueToken = createTokenIssuer(config, emit)

  /** The request with its route taken from the mapped route-key header, when configured. */
  function routed(request: GatewayRequest): GatewayRequest | null {
    if (config.routeKeyHeader === null || request.lambda) return request
    const value = request.headers[config.routeKeyHeader]
    const route = value === undefined ? null : parseRoute(value)
    return route === null ? null : { ...request, route }
  }

  /** The public entry point: anything carrying a Lambda context is refused (see `run`). */
  function handle(input: GatewayRequest): Promise<GatewayResponse> {
    if (typeof input !== 'object' || input === null || typeof input.route !== 'string') {
      return Promise.resolve(
        refuse(null, '$default', reject('ROUTE_UNKNOWN', 'not a gateway request')),
      )
    }
    // Lambda provenance comes only from `gateway.lambda`: a caller of `handle` (an HTTP adapter)
    // must not be able to skip the integration secret by setting the field itself.
    if (input.lambda !== undefined) {
      return Promise.resolve(
        refuse(
          null,
          input.route,
          reject('SECRET_INVALID', 'lambda context outside gateway.lambda'),
        ),
      )
    }
    return run(input, null)
  }

  /**
   * Runs the pipeline for `input`: the head checks, then (for adapters) `loadBody`, whose body
   * replaces the head's `null`, then the route's checks and the accepted path. Never throws.
   * `input.lambda` is trusted here, so only `handle` (which refuses it), `lambda` and the
   * adapter entry (which never sets it) call it.
   */
  async function run(
    input: GatewayRequest,
    loadBody: (() => LoadedBody | Promise<LoadedBody>) | null,
  ): Promise<GatewayResponse> {
    const request = routed(input)
    if (request === null) return refuse(null, input.route, reject('ROUTE_UNKNOWN', 'route header'))
    let state: RequestState<TUser> | null = null
    try {
      state = newRequestState(config, request, clock.now())
      const head = runSteps(pipelines.head, state)
      const rejection = head instanceof Promise ? await head : head
      if (rejection !== undefined) return refuse(state, request.route, rejection)
      if (loadBody !== null) {
        const body = await loadBody()
        if (body !== null && typeof body === 'object' && 'code' in body) {
          return refuse(state, request.route, body)
        }
        state.request = { ...request, body }
      }
      const steps =
        request.route === '$connect'
          ? pipelines.connect
          : request.route === '$disconnect'
            ? pipelines.disconnect
            : pipelines.message
      const checked = runSteps(steps, state)
      const refusal = checked instanceof Promise ? await checked : checked
      if (refusal !== undefined) await release(state)
      const response =
        refusal !== undefined ? refuse(state, request.route, refusal) : await accept(state)
      return config.clientProtocol ? envelope(state, response) : response
    } catch (error) {
      await release(state)
      const response = refusals.failure(state, request.route, error)
      return config.clientProtocol ? envelope(state, response) : response
    }
  }

  const adapter = createAdapter({
    maxBodyBytes: config.maxBodyBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    run,
    refuse: (rejection, route) => refuse(null, route, rejection),
  })

  const gateway: Gateway = Object.freeze({
    handle,
    async fetch(request: Request, options: FetchOptions = {}): Promise<Response> {
      return toFetchResponse(await adapter.serve(fetchHead(request, options), fetchBody(request)))
    },
    async lambda(event: WebSocketEvent): Promise<WebSocketResult> {
      const translated = fromLambdaEvent(event)
      if ('code' in translated) {
        return toLambdaResult(
          refuse(null, event?.requestContext?.routeKey ?? '$default', translated),
        )
      }
      return toLambdaResult(await run(translated, null))
    },
    issueToken,
    async fetchToken(request: Request, identity: TokenIdentity | null | undefined) {
      const response = await issueToken({
        method: request.method,
        headers: request.headers,
        userId: identity?.userId ?? null,
        sessionId: identity?.sessionId ?? null,
        channel: identity?.channel ?? null,
      })
      return toFetchResponse(response)
    },
    cleanup: (options: CleanupOptions = {}): Promise<CleanupCounts> =>
      sweep(store, config, options.now ?? clock.now(), options.batchSize),
    send,
  })
  registerAdapter(gateway, adapter)
  return gateway
}
