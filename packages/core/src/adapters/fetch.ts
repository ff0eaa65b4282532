/**
 * The raw Fetch adapter: `Request` → `GatewayRequest` and `GatewayResponse` → `Response`. It only
 * translates. The body is read with a cap: a declared `Content-Length` over the limit is refused
 * without reading, and a streamed body stops being read one byte past the limit, so a 10 MB body
 * never sits in memory. Works wherever the Fetch API exists (Node, Bun, Deno, workers).
 */
import { type Rejection, reject } from '../rejections.js'
import {
  type GatewayRequest,
  type GatewayResponse,
  type RouteKey,
  routeFromSegment,
} from '../request.js'
import { isHandlerName } from '../validators.js'

/** Options for `gateway.fetch`. */
export interface FetchOptions {
  /**
   * The route, when the mount does not end in it: `connect`, `disconnect`, `default`, a custom
   * route name, or a route key (`$connect`…). Default: the last path segment. (With the
   * `routeKeyHeader` gateway option, the mapped header names the route instead.)
   */
  readonly route?: string
  /** The TCP peer address, when the runtime exposes it. */
  readonly peer?: string
}

/** Resolves a route name or key to a `RouteKey`; `null` for names no route can have. */
export function parseRoute(value: string): RouteKey | null {
  if (value === '$connect' || value === '$disconnect' || value === '$default') return value
  const route = routeFromSegment(value)
  return route.startsWith('$') || isHandlerName(route) ? route : null
}

/**
 * The route of an integration request: `explicit` when the mount names it, else the last path
 * segment. `null` when the result cannot be a route (the adapter answers 404). Request headers
 * are never consulted here: on `$connect` API Gateway forwards the client's own headers, so a
 * header only names the route when the gateway's `routeKeyHeader` option says the integration
 * maps it (the mapping overwrites whatever the client sent).
 */
export function resolveRoute(explicit: string | undefined, pathname: string): RouteKey | null {
  return parseRoute(explicit ?? lastSegment(pathname))
}

function lastSegment(pathname: string): string {
  const trimmed = pathname.endsWith('/') ? pathname.slice(0, -1) : pathname
  return decodeURIComponentSafe(trimmed.slice(trimmed.lastIndexOf('/') + 1))
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return ''
  }
}

/**
 * Query parameters of a request target (`/ws/connect?token=…` or a full URL), decoded; the first
 * value of a repeated name wins, as everywhere in apigw-ws. Returns a null-prototype record.
 */
export function parseQuery(target: string): Record<string, string> {
  const query: Record<string, string> = Object.create(null)
  const mark = target.indexOf('?')
  if (mark < 0) return query
  const hash = target.indexOf('#', mark)
  const search = hash < 0 ? target.slice(mark + 1) : target.slice(mark + 1, hash)
  for (const [name, value] of new URLSearchParams(search)) {
    if (!(name in query)) query[name] = value
  }
  return query
}

/** Reads at most `max + 1` bytes of a body stream; more means "too large" and stops reading. */
export async function readCapped(
  stream: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<Uint8Array | 'too-large'> {
  if (stream === null) return new Uint8Array(0)
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > max) {
        await reader.cancel().catch(() => undefined)
        return 'too-large'
      }
      chunks.push(value)
    }
  } finally {
    reader.releaseLock()
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

/** Translates a Fetch `Request`; resolves a rejection for what cannot be a gateway request. */
export async function fromFetchRequest(
  request: Request,
  options: FetchOptions,
  maxBodyBytes: number,
): Promise<GatewayRequest | Rejection> {
  const url = new URL(request.url)
  const route = resolveRoute(options.route, url.pathname)
  if (route === null) return reject('ROUTE_UNKNOWN')
  if (request.method !== 'POST') return reject('METHOD_NOT_ALLOWED')
  const declared = request.headers.get('content-length')
  const declaredBytes = declared === null ? Number.NaN : Number(declared)
  if (declaredBytes > maxBodyBytes) return reject('BODY_TOO_LARGE')
  // Always read through the cap, even when the declared length is small: a Request built in
  // process (decompression middleware, a framework) may carry a length its body does not match.
  const body = await readCapped(request.body, maxBodyBytes)
  if (body === 'too-large') return reject('BODY_TOO_LARGE')
  const headers: Record<string, string> = Object.create(null)
  request.headers.forEach((value, name) => {
    headers[name] = value
  })
  const query = parseQuery(request.url)
  return {
    route,
    method: request.method,
    headers,
    query,
    body: body.byteLength === 0 ? null : body,
    ...(options.peer === undefined ? {} : { peer: options.peer }),
  }
}

/** Translates a `GatewayResponse` into a Fetch `Response`. */
export function toFetchResponse(response: GatewayResponse): Response {
  return new Response(response.body, { status: response.status, headers: response.headers })
}
