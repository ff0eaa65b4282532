/**
 * `websocketRoutes`: the Hono sub-app API Gateway's HTTP integration calls. It serves
 * `POST /:route` under whatever base path the app mounts it at, and hands the request, untouched,
 * to `gateway.fetch`: core resolves the route (the last path segment, or the mapped route-key
 * header with the gateway's `routeKeyHeader` option), checks the method, reads the body with its size cap, runs the pipeline and
 * builds the response. The adapter reads only `c.req.raw`, so the same app runs on
 * `@hono/node-server`, Bun, Deno and workers.
 */
import type { Gateway } from '@apigw-ws/core'
import { type Context, type Env, Hono } from 'hono'

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
 * Every answer comes from core (`gateway.fetch`): rejections carry the status and generic body
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
  if (typeof gateway?.fetch !== 'function') {
    throw new TypeError('websocketRoutes: gateway must come from createGateway()')
  }
  const peerOf = options.peer
  if (peerOf !== undefined && typeof peerOf !== 'function') {
    throw new TypeError('websocketRoutes: peer must be a function')
  }
  const routes = new Hono<E>()
  routes.post('/:route', function apigwIntegration(c) {
    const peer = peerOf?.(c)
    return gateway.fetch(c.req.raw, peer === undefined ? {} : { peer })
  })
  return routes
}
