/**
 * `websocketRoutes`: the Hono sub-app API Gateway's HTTP integration calls. It serves
 * `POST /:route` under whatever base path the app mounts it at and hands the raw `Request` to
 * core's adapter entry (`adapterOf(gateway).serve` with `fetchHead` and `fetchBody`), which
 * checks the head before reading the body and decides everything; its response is returned as a
 * plain `Response`.
 * Only portable Hono and Fetch APIs are needed, so the same app runs on `@hono/node-server`, Bun,
 * Deno and workers; under `@hono/node-server` the Node request (`c.env.incoming`) is read
 * directly, which skips building Fetch headers and a body stream.
 */
import type { Gateway } from '@apigw-ws/core'
import {
  adapterOf,
  type BodyReader,
  fetchBody,
  fetchHead,
  type GatewayAdapter,
  type IntegrationHead,
  type NodeIncoming,
  nodeBodyConsumed,
  nodeBodyReader,
  nodeHeaders,
  toFetchResponse,
} from '@apigw-ws/core/adapter'
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
 * The Node request under `@hono/node-server` (`c.env.incoming`), or `undefined` on other
 * runtimes or when the env holds something else under that name.
 */
function nodeIncomingOf(env: unknown): NodeIncoming | undefined {
  if (typeof env !== 'object' || env === null) return undefined
  const incoming: unknown = (env as { incoming?: unknown }).incoming
  if (typeof incoming !== 'object' || incoming === null) return undefined
  const candidate = incoming as Partial<NodeIncoming>
  return Array.isArray(candidate.rawHeaders) &&
    typeof candidate.read === 'function' &&
    typeof candidate.on === 'function'
    ? (incoming as NodeIncoming)
    : undefined
}

/**
 * Creates the integration routes: a Hono app serving `POST /:route`, to be mounted with
 * `app.route('/ws', websocketRoutes(gateway))` so API Gateway calls `/ws/connect`,
 * `/ws/disconnect`, `/ws/default` and `/ws/<custom route>`. Other methods and deeper paths are
 * not matched and reach the app's later routes; no other route's body is read.
 *
 * Every answer comes from core: rejections carry the status and generic body of the rejection
 * table. A request without the integration secret, without a valid connection id header or at a
 * path that names no route is refused before its body is read; bodies over `maxBodyBytes` are
 * refused without being buffered (413), and a body slower than `bodyTimeoutMs` with 408. The
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
  let adapter: GatewayAdapter
  try {
    adapter = adapterOf(gateway)
  } catch {
    throw new TypeError('websocketRoutes: gateway must come from createGateway()')
  }
  const peerOf = options.peer
  if (peerOf !== undefined && typeof peerOf !== 'function') {
    throw new TypeError('websocketRoutes: peer must be a function')
  }
  const routes = new Hono<E>()
  routes.post('/:route', async function apigwIntegration(c) {
    const peer = peerOf?.(c)
    const request = c.req.raw
    const incoming = nodeIncomingOf(c.env)
    let head: IntegrationHead
    let readBody: BodyReader
    if (incoming !== undefined && !request.bodyUsed && !nodeBodyConsumed(incoming)) {
      head = {
        method: request.method,
        url: request.url,
        headers: nodeHeaders(incoming),
        ...(peer === undefined ? {} : { peer }),
      }
      readBody = nodeBodyReader(incoming)
    } else {
      head = fetchHead(request, peer === undefined ? {} : { peer })
      // The runtime's HTTP server bounds a body to its declared length, so a declared body is
      // read in one call.
      readBody = fetchBody(request, { lengthIsFramed: true })
    }
    return toFetchResponse(await adapter.serve(head, readBody))
  })
  return routes
}
