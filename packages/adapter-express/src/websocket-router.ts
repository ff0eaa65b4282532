/**
 * `websocketRouter`: the Express 5 router API Gateway's HTTP integration calls. It serves
 * `POST /:route` under the app's mount path, translates the Node request into core's
 * `GatewayRequest` (headers and query with Fetch semantics, the raw body read here under
 * `gateway.maxBodyBytes`, the socket peer), runs `gateway.handle`, and writes core's response
 * back. It needs no body parser and never reads `req.ip`/`req.ips`, so `trust proxy` cannot
 * change the client address core derives (core alone chooses the `X-Forwarded-For` entry).
 */
import type { IncomingMessage } from 'node:http'
import { type Gateway, parseQuery, type RouteKey, resolveRoute } from '@apigw-ws/core'
import { type Request as ExpressRequest, type Response as ExpressResponse, Router } from 'express'
import { headersOf, pathOf, readBody, writeResponse } from './node-http.js'

/** Options for {@link websocketRouter}. */
export interface WebSocketRouterOptions {
  /**
   * Where a body parser that ran before the router kept the raw request bytes. Default: the
   * `rawBody` property of the request when it is a `Buffer`/`Uint8Array` or a string (what
   * `express.raw()`/`express.json()` leave when given
   * `verify: (req, _res, buf) => { req.rawBody = buf }`, and what several hosts set). When it
   * returns bytes, they are the body core sees (and measures against `maxBodyBytes`); when it
   * returns `undefined` the router reads the stream itself.
   */
  readonly rawBody?: (req: ExpressRequest) => Uint8Array | string | undefined
}

/** Thrown (passed to `next`) when a body parser consumed the body and kept no raw bytes. */
export class BodyAlreadyConsumedError extends Error {
  constructor() {
    super(
      'apigw-ws: the request body was consumed before websocketRouter (a body parser such as express.json() runs earlier on this path). Mount websocketRouter before body parsers, or keep the raw bytes on req.rawBody (or the rawBody option).',
    )
    this.name = 'BodyAlreadyConsumedError'
  }
}

function defaultRawBody(req: ExpressRequest): Uint8Array | string | undefined {
  const raw: unknown = (req as { rawBody?: unknown }).rawBody
  return raw instanceof Uint8Array || typeof raw === 'string' ? raw : undefined
}

/** `true` when something already read from the body stream. */
function wasConsumed(req: IncomingMessage): boolean {
  return req.readableDidRead || req.readableEnded
}

/**
 * Creates the integration router: `app.use('/ws', websocketRouter(gateway))` so API Gateway calls
 * `/ws/connect`, `/ws/disconnect`, `/ws/default` and `/ws/<custom route>` (with the gateway's
 * `routeKeyHeader` option, the mapped header names the route instead). Only `POST /:route` is
 * matched; other methods and paths go on to the app's later routes with their body unread.
 *
 * The body: a declared `Content-Length` over `gateway.maxBodyBytes` is refused (413) without
 * reading; a streamed body stops being read as soon as it passes the cap, and the socket is
 * closed after the 413 instead of draining the rest. Raw bytes kept by a body parser are reused
 * (see `rawBody`); if a parser consumed the body without keeping them, the request fails with a
 * {@link BodyAlreadyConsumedError} passed to the app's error handler (500) rather than a guess.
 * Every status, header and body comes from core. Requests are independent; the router keeps no
 * state between them.
 *
 * @throws {TypeError} at construction when `gateway` is not a gateway or `rawBody` not a function.
 */
export function websocketRouter(gateway: Gateway, options: WebSocketRouterOptions = {}): Router {
  if (typeof gateway?.handle !== 'function' || typeof gateway.maxBodyBytes !== 'number') {
    throw new TypeError('websocketRouter: gateway must come from createGateway()')
  }
  const rawBodyOf = options.rawBody ?? defaultRawBody
  if (typeof rawBodyOf !== 'function') {
    throw new TypeError('websocketRouter: rawBody must be a function')
  }
  const max = gateway.maxBodyBytes

  const router = Router()
  router.post(
    '/:route',
    async function apigwIntegration(req: ExpressRequest, res: ExpressResponse) {
      const headers = headersOf(req)
      const route: RouteKey | null = resolveRoute(undefined, pathOf(req.originalUrl))
      if (route === null) return writeResponse(res, gateway.refuse('ROUTE_UNKNOWN'), !req.complete)

      let body: Uint8Array | string | null = rawBodyOf(req) ?? null
      if (body === null) {
        if (wasConsumed(req)) throw new BodyAlreadyConsumedError()
        const read = await readBody(req, max)
        if (read === 'aborted') return
        if (read === 'too-large') {
          return writeResponse(res, gateway.refuse('BODY_TOO_LARGE', route), !req.complete)
        }
        body = read.byteLength === 0 ? null : read
      }
      const peer = req.socket.remoteAddress
      const response = await gateway.handle({
        route,
        method: 'POST',
        headers,
        query: parseQuery(req.originalUrl),
        body,
        ...(peer === undefined ? {} : { peer }),
      })
      writeResponse(res, response, !req.complete)
    },
  )
  return router
}
