/**
 * The adapter contract: how a framework hands an integration request to the gateway, head first.
 * An adapter passes the request head (method, target, headers, peer) and a body reader; the
 * gateway resolves the route, checks the method, the integration secret, the API Gateway shape
 * and the connection id, refuses a declared `Content-Length` over the cap, and only then calls
 * the reader, under `maxBodyBytes` and the `bodyTimeoutMs` deadline. So an anonymous or stalled
 * upload is answered without its body ever being buffered.
 */
import { type Rejection, reject } from '../rejections.js'
import type { GatewayRequest, GatewayResponse, RouteKey } from '../request.js'
import { isThenable } from '../thenable.js'
import { createDeadlines, type Deadlines } from './deadlines.js'
import { declaredLength, parseQuery, resolveRoute, targetPath } from './fetch.js'
import { STOPPABLE_READ, type StoppableRead } from './node.js'

/** What an adapter knows about an integration request before reading its body. */
export interface IntegrationHead {
  /** The HTTP method (only `POST` is served; anything else is refused with 405). */
  readonly method: string
  /** The request target (`/ws/connect?token=…`) or the absolute URL; path and query come from it. */
  readonly url: string
  /**
   * The headers, names lower-cased, repeated headers joined with `, ` (Fetch semantics). A
   * null-prototype record is best; it is read, never kept beyond the request.
   */
  readonly headers: Readonly<Record<string, string>>
  /** The route when the mount does not end in it (see `FetchOptions.route`). */
  readonly route?: string
  /** The TCP peer address, when the framework exposes it. */
  readonly peer?: string
}

/** What a body reader produces: the bytes (or text), `null` for none, or `'too-large'`. */
export type BodyRead = Uint8Array | string | null | 'too-large'

/**
 * Reads the request body. Called at most once, and only after the head passed every check. It
 * must stop reading, keeping nothing, once more than `maxBytes` bytes arrived (→ `'too-large'`)
 * and should stop when `signal` aborts (the `bodyTimeoutMs` deadline passed: the gateway has
 * answered 408 by then and ignores the result). A rejection (the client went away, the stream
 * failed) is answered as an unreadable body (400).
 */
export type BodyReader = (maxBytes: number, signal: AbortSignal) => BodyRead | Promise<BodyRead>

/** Refusals an adapter may make itself, with `GatewayAdapter.refuse`. */
export type AdapterRejectionCode =
  | 'BODY_TOO_LARGE'
  | 'BODY_TIMEOUT'
  | 'ROUTE_UNKNOWN'
  | 'METHOD_NOT_ALLOWED'

/** The gateway as adapters see it: `adapterOf(gateway)`. */
export interface GatewayAdapter {
  /**
   * Serves one integration request, head first: route (from `head.route` or the target's last
   * path segment → else 404), method (`POST` → else 405), then the gateway's head checks
   * (integration secret, API Gateway shape, connection id), then a declared `Content-Length`
   * over `maxBodyBytes` (413) — all before `readBody` is called. The body is then read under the
   * cap (413) and the deadline (`BODY_TIMEOUT`, 408), and the full pipeline runs. Never throws;
   * every refusal has the rejection table's status, a generic body and a `request.rejected`
   * event.
   */
  serve(head: IntegrationHead, readBody: BodyReader): Promise<GatewayResponse>
  /**
   * The response for a refusal the adapter makes itself (e.g. a body a framework parser already
   * found too large), with the same status, generic body and `request.rejected` event as every
   * other refusal.
   */
  refuse(code: AdapterRejectionCode, route?: RouteKey): GatewayResponse
  /** The largest body the gateway accepts, in bytes (the `maxBodyBytes` option). */
  readonly maxBodyBytes: number
  /** How long a body may take to arrive, in ms (the `bodyTimeoutMs` option). */
  readonly bodyTimeoutMs: number
}

/** What the gateway gives its adapter entry. */
export interface AdapterEngine {
  readonly maxBodyBytes: number
  readonly bodyTimeoutMs: number
  /**
   * Runs the pipeline for `request` (whose body is still `null`): the head checks, then
   * `loadBody` (a body or a rejection, at once or later), then the rest.
   */
  run(
    request: GatewayRequest,
    loadBody: () => LoadedBody | Promise<LoadedBody>,
  ): Promise<GatewayResponse>
  refuse(rejection: Rejection, route: RouteKey): GatewayResponse
}

const TIMED_OUT = Symbol('timed out')

/** What loading a body gives the pipeline: the body, or the refusal reading it ended in. */
export type LoadedBody = Uint8Array | string | null | Rejection

/**
 * Calls `readBody` and gives what it produced, or `TIMED_OUT` once the gateway's body deadline
 * passed (`deadlines`; the read is stopped then, so a reader that listens stops reading). A reader that ignores the
 * signal is abandoned; its eventual result or failure is dropped. A reader that answers
 * synchronously (the body was already in hand) cannot stall: its answer is returned as it is,
 * with no timer and no promise. A reader that throws synchronously throws here.
 */
function readWithin(
  readBody: BodyReader,
  maxBytes: number,
  deadlines: Deadlines,
): BodyRead | Promise<BodyRead | typeof TIMED_OUT> {
  const stoppable = (readBody as { [STOPPABLE_READ]?: (maxBytes: number) => StoppableRead })[
    STOPPABLE_READ
  ]
  let result: BodyRead | Promise<BodyRead>
  let stop: () => void
  if (stoppable !== undefined) {
    const read = stoppable(maxBytes)
    result = read.result
    stop = read.stop
  } else {
    const controller = new AbortController()
    result = readBody(maxBytes, controller.signal)
    stop = () => controller.abort()
  }
  if (!isThenable(result)) return result
  return withinDeadline(result, stop, deadlines)
}

/** `result`, or `TIMED_OUT` (after calling `stop`) once the deadline passed, whichever is first. */
function withinDeadline(
  result: PromiseLike<BodyRead>,
  stop: () => void,
  deadlines: Deadlines,
): Promise<BodyRead | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    const watch = deadlines.watch(() => {
      // Settle first: the failure `stop` causes must not win.
      resolve(TIMED_OUT)
      stop()
    })
    result.then(
      (body) => {
        watch.done()
        resolve(body)
      },
      (error: unknown) => {
        watch.done()
        reject(error)
      },
    )
  })
}

const unreadable = (): Rejection => reject('BODY_ENCODING_INVALID', 'unreadable body')

/** The body read, or the refusal for a read that ended over the cap or past the deadline. */
function loaded(body: BodyRead | typeof TIMED_OUT): LoadedBody {
  if (body === TIMED_OUT) return reject('BODY_TIMEOUT')
  if (body === 'too-large') return reject('BODY_TOO_LARGE')
  return body
}

/** Builds the adapter entry of one gateway. */
export function createAdapter(engine: AdapterEngine): GatewayAdapter {
  const { maxBodyBytes, bodyTimeoutMs } = engine

  const deadlines = createDeadlines(bodyTimeoutMs)

  function loadBody(head: IntegrationHead, readBody: BodyReader): LoadedBody | Promise<LoadedBody> {
    const declared = declaredLength(head.headers)
    if (declared !== null && declared > maxBodyBytes) return reject('BODY_TOO_LARGE', 'declared')
    let body: BodyRead | Promise<BodyRead | typeof TIMED_OUT>
    try {
      body = readWithin(readBody, maxBodyBytes, deadlines)
    } catch {
      return unreadable()
    }
    return body instanceof Promise ? body.then(loaded, unreadable) : loaded(body)
  }

  async function serve(head: IntegrationHead, readBody: BodyReader): Promise<GatewayResponse> {
    const route = resolveRoute(head.route, targetPath(head.url))
    if (route === null) return engine.refuse(reject('ROUTE_UNKNOWN'), '$default')
    if (head.method !== 'POST') return engine.refuse(reject('METHOD_NOT_ALLOWED'), route)
    const request: GatewayRequest = {
      route,
      method: 'POST',
      headers: head.headers,
      query: parseQuery(head.url),
      body: null,
      ...(head.peer === undefined ? {} : { peer: head.peer }),
    }
    return engine.run(request, () => loadBody(head, readBody))
  }

  return Object.freeze({
    serve,
    refuse: (code: AdapterRejectionCode, route: RouteKey = '$default') =>
      engine.refuse(reject(code), route),
    maxBodyBytes,
    bodyTimeoutMs,
  })
}

const ADAPTERS = new WeakMap<object, GatewayAdapter>()

/** Records the adapter entry of `gateway` (called once by `createGateway`). */
export function registerAdapter(gateway: object, adapter: GatewayAdapter): void {
  ADAPTERS.set(gateway, adapter)
}

/**
 * The adapter entry of a gateway: what a framework adapter calls to serve API Gateway's
 * integration requests head first.
 *
 * @example
 * ```ts
 * const adapter = adapterOf(gateway)
 * const response = await adapter.serve(
 *   { method: req.method, url: req.url, headers, peer },
 *   (maxBytes, signal) => readMyBody(req, maxBytes, signal),
 * )
 * ```
 * @throws {TypeError} when `gateway` does not come from `createGateway` (of this copy of core).
 */
export function adapterOf(gateway: object): GatewayAdapter {
  const adapter =
    typeof gateway === 'object' && gateway !== null ? ADAPTERS.get(gateway) : undefined
  if (adapter === undefined)
    throw new TypeError('adapterOf: gateway must come from createGateway()')
  return adapter
}
