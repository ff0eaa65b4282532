/**
 * Translation between the Fetch API and core's plain request/response values, shared by
 * `gateway.fetch` and every adapter built on Fetch (Hono): the route and query of a request
 * target, the one `Content-Length` parser, the capped body readers, the `IntegrationHead` of a
 * `Request`, and the one builder of a Fetch `Response`. Nothing here decides anything: refusals
 * are made by the gateway's adapter entry (`adapterOf(gateway).serve`). Works wherever the Fetch
 * API exists (Node, Bun, Deno, workers).
 */
import { type GatewayResponse, type RouteKey, routeFromSegment } from '../request.js'
import { isHandlerName } from '../validators.js'
import type { BodyRead, BodyReader, IntegrationHead } from './serve.js'

/** Options for `gateway.fetch` and {@link fetchHead}. */
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
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return ''
  }
}

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/

/** The path of a request target (`/ws/connect?x=1`) or an absolute URL, without query or hash. */
export function targetPath(target: string): string {
  const authority = ABSOLUTE.exec(target)
  const rest = authority === null ? target : target.slice(authority[0].length)
  const end = rest.search(/[?#]/)
  const path = end < 0 ? rest : rest.slice(0, end)
  return path === '' ? '/' : path
}

/** The query of a target without one: shared, so it is frozen. */
const NO_QUERY: Record<string, string> = Object.freeze(Object.create(null))

/**
 * Query parameters of a request target (`/ws/connect?token=…` or a full URL), decoded; the first
 * value of a repeated name wins, as everywhere in apigw-ws. Returns a null-prototype record (a shared frozen one when there is no query).
 */
export function parseQuery(target: string): Record<string, string> {
  const mark = target.indexOf('?')
  if (mark < 0) return NO_QUERY
  const query: Record<string, string> = Object.create(null)
  const hash = target.indexOf('#', mark)
  const search = hash < 0 ? target.slice(mark + 1) : target.slice(mark + 1, hash)
  for (const [name, value] of new URLSearchParams(search)) {
    if (!(name in query)) query[name] = value
  }
  return query
}

const DECIMAL = /^\d{1,15}$/

/**
 * The declared body length: the `content-length` value when it is a plain decimal of at most 15
 * digits, else `null` (absent, chunked, or malformed: the body is then read under the cap). The
 * one `Content-Length` parser of apigw-ws; `headers` has lower-case names.
 */
export function declaredLength(headers: Readonly<Record<string, string>>): number | null {
  const value = headers['content-length']
  return value !== undefined && DECIMAL.test(value) ? Number(value) : null
}

/**
 * Reads at most `max + 1` bytes of a body stream; more means "too large" and stops reading.
 * When `signal` aborts, reading stops (the stream is cancelled) and the promise rejects.
 */
export async function readCapped(
  stream: ReadableStream<Uint8Array> | null,
  max: number,
  signal?: AbortSignal,
): Promise<Uint8Array | 'too-large'> {
  if (stream === null) return new Uint8Array(0)
  const reader = stream.getReader()
  const stop = (): void => {
    reader.cancel().catch(() => undefined)
  }
  signal?.addEventListener('abort', stop, { once: true })
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (signal?.aborted) throw new Error('body read aborted')
      if (done) break
      size += value.byteLength
      if (size > max) {
        await reader.cancel().catch(() => undefined)
        return 'too-large'
      }
      chunks.push(value)
    }
  } finally {
    signal?.removeEventListener('abort', stop)
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

/** The request headers as a null-prototype record (Fetch already lower-cases and joins them). */
function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = Object.create(null)
  headers.forEach((value, name) => {
    record[name] = value
  })
  return record
}

/** The head of a Fetch `Request`: everything the gateway checks before it reads the body. */
export function fetchHead(request: Request, options: FetchOptions = {}): IntegrationHead {
  return {
    method: request.method,
    url: request.url,
    headers: headerRecord(request.headers),
    ...(options.route === undefined ? {} : { route: options.route }),
    ...(options.peer === undefined ? {} : { peer: options.peer }),
  }
}

/** Options for {@link fetchBody}. */
export interface FetchBodyOptions {
  /**
   * `true` when the runtime's HTTP server has already bounded the body to its declared
   * `Content-Length` (a request straight off a server socket, as under `@hono/node-server`, Bun
   * or Deno). A declared body is then read in one `arrayBuffer()` call, which skips building a
   * web stream on Node. Leave it `false` (the default) for requests built in process, whose
   * declared length is only a header: the body is then always read through the cap.
   */
  readonly lengthIsFramed?: boolean
}

/**
 * The body reader of a Fetch `Request`, for `adapterOf(gateway).serve`: reads at most
 * `maxBytes + 1` bytes (`'too-large'` past that), stops when the deadline's signal aborts, and
 * resolves `null` for an empty body. A stream that fails rejects.
 */
export function fetchBody(request: Request, options: FetchBodyOptions = {}): BodyReader {
  return async function readFetchBody(maxBytes, signal): Promise<BodyRead> {
    let body: Uint8Array | 'too-large'
    if (options.lengthIsFramed === true && request.headers.has('content-length')) {
      body = new Uint8Array(await request.arrayBuffer())
      if (body.byteLength > maxBytes) body = 'too-large'
    } else {
      body = await readCapped(request.body, maxBytes, signal)
    }
    return body === 'too-large' || body.byteLength > 0 ? body : null
  }
}

/**
 * Core's response as a Fetch `Response`, built directly (no `Headers` merge): the one Fetch
 * response builder of apigw-ws.
 */
export function toFetchResponse(response: GatewayResponse): Response {
  // A copy of the headers: the gateway's may be shared and frozen, and some runtimes' `Response`
  // keeps the record it is given and adds to it (`@hono/node-server` 1.8, the lowest release of
  // the Hono adapter's peer range, sets `Content-Length` on it).
  return new Response(response.body, { status: response.status, headers: { ...response.headers } })
}
