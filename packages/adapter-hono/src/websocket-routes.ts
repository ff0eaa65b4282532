/**
 * `websocketRoutes`: the Hono sub-app API Gateway's HTTP integration calls. It serves
 * `POST /:route` under whatever base path the app mounts it at and translates Hono's request
 * into core's `GatewayRequest`: the route from the last path segment (core's `resolveRoute`),
 * headers and query as core expects them, the body read under `gateway.maxBodyBytes`. Then
 * `gateway.handle` decides everything and its response is returned as a plain `Response`.
 * Only portable Hono and Fetch APIs are used, so the same app runs on `@hono/node-server`, Bun,
 * Deno and workers.
 */
import {
  type Gateway,
  type GatewayResponse,
  parseQuery,
  readCapped,
  resolveRoute,
} from '@apigw-ws/core'
import { type Context, type Env, Hono } from 'hono'

const DECIMAL = /^\d{1,15}$/

/**
 * Reads the body under the cap. With a declared `Content-Length` (within the cap) the runtime's
 * HTTP server has already bounded the body to that length, so it is read in one call — on
 * `@hono/node-server` that skips building a web stream, the dominant cost of a request. Without
 * one (chunked), the stream is read chunk by chunk and abandoned one byte past the cap.
 */
async function readBody(c: Context, max: number): Promise<Uint8Array | 'too-large'> {
  const declared = c.req.header('content-length')
  if (declared !== undefined && DECIMAL.test(declared)) {
    if (Number(declared) > max) return 'too-large'
    const body = new Uint8Array(await c.req.arrayBuffer())
    return body.byteLength > max ? 'too-large' : body
  }
  return readCapped(c.req.raw.body, max)
}

/**
 * Core's response as a Fetch `Response`. Built directly rather than with `c.newResponse`, whose
 * header merging allocates a `Headers` per request: the integration route answers API Gateway,
 * and nothing else should add headers to that answer.
 */
function respond(response: GatewayResponse): Response {
  return new Response(response.body, { status: response.status, headers: response.headers })
}

/** Options for {@link websocketRoutes}. */
export interface WebSocketRoutesOptions<E extends Env = Env> {
  /**
   * Returns the TCP peer address of the request, passed to core as `GatewayRequest.peer`
   * (visible to custom checks; the client address itself still comes from API Gateway's
   * `X-Forwarded-For` entry, chosen by core's `trustedProxies`). Hono has no portable way to
   * read it, so by default none is passed. Under `@hono/node-server`, with
   * `Bindings: HttpBindings` in the app's env: `(c) => c.env.incoming.socket.remoteAddress`
   * (or `getConnInfo(c).remote.address` from `@hono/node-server/conninfo`). Called once per
   * integration request; a throw propagates to the app's error handler.
   */
  readonly peer?: (c: Context<E>) => string | undefined
}

/**
 * Creates the integration routes: a Hono app serving `POST /:route`, to be mounted with
 * `app.route('/ws', websocketRoutes(gateway))` so API Gateway calls `/ws/connect`,
 * `/ws/disconnect`, `/ws/default` and `/ws/<custom route>`. Other methods and deeper paths are
 * not matched and reach the app's later routes; no other route's body is read.
 *
 * Every answer comes from core (`gateway.handle`, or `gateway.refuse` for a body over the cap
 * or a path that names no route): rejections carry the status and generic body
 * of the rejection table, bodies over `maxBodyBytes` are refused without being buffered, and the
 * handler of a message decides the 200 body. The returned response is the one Hono sends;
 * headers a middleware adds after `next()` are merged by Hono as for any handler. Requests are
 * independent: the routes keep no state between them. To give `peer` the app's typed context,
 * pass the app's env as the type argument (`websocketRoutes<{ Bindings: HttpBindings }>(…)`):
 * Hono cannot infer it through `app.route`.
 *
 * @throws {TypeError} at construction when `gateway` is not a gateway or `peer` not a function.
 */
export function websocketRoutes<E extends Env = Env>(
  gateway: Gateway,
  options: WebSocketRoutesOptions<E> = {},
): Hono<E> {
  if (typeof gateway?.handle !== 'function' || typeof gateway.maxBodyBytes !== 'number') {
    throw new TypeError('websocketRoutes: gateway must come from createGateway()')
  }
  const peerOf = options.peer
  if (peerOf !== undefined && typeof peerOf !== 'function') {
    throw new TypeError('websocketRoutes: peer must be a function')
  }
  const routes = new Hono<E>()
  const max = gateway.maxBodyBytes
  routes.post('/:route', async function apigwIntegration(c) {
    const route = resolveRoute(undefined, c.req.path)
    if (route === null) return respond(gateway.refuse('ROUTE_UNKNOWN'))
    const body = await readBody(c, max)
    if (body === 'too-large') return respond(gateway.refuse('BODY_TOO_LARGE', route))
    const peer = peerOf?.(c)
    const response = await gateway.handle({
      route,
      method: 'POST',
      headers: c.req.header(),
      query: parseQuery(c.req.url),
      body: body.byteLength === 0 ? null : body,
      ...(peer === undefined ? {} : { peer }),
    })
    return respond(response)
  })
  return routes
}
