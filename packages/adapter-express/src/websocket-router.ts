/**
 * `websocketRouter`: the Express 5 router API Gateway's HTTP integration calls. It serves
 * `POST /:route` under the app's mount path, hands the request head (target, headers with Fetch
 * semantics, the socket peer) and a body reader to core (`adapterOf(gateway).serve`, which checks
 * the head before the body is read, then reads it under `maxBodyBytes` and `bodyTimeoutMs`), and
 * writes core's response back. It needs no body parser and never reads `req.ip`/`req.ips`, so `trust proxy` cannot
 * change the client address core derives (core alone chooses the `X-Forwarded-For` entry).
 */
import type { Gateway } from '@apigw-ws/core'
import {
  adapterOf,
  type BodyReader,
  type GatewayAdapter,
  nodeBodyConsumed,
  nodeBodyReader,
  nodeHeaders,
} from '@apigw-ws/core/adapter'
import { type Request as ExpressRequest, type Response as ExpressResponse, Router } from 'express'
import { writeResponse } from './node-http.js'

/** Options for {@link websocketRouter}. */
export interface WebSocketRouterOptions {
  /**
   * Where a body parser that ran before the router kept the raw request bytes. Default: the
   * `rawBody` property of the request when it is a `Buffer`/`Uint8Array` or a string (what
   * `express.raw()`/`express.json()` leave when given
   * `verify: (req, _res, buf) => { req.rawBody = buf }`, and what several hosts set). When it
   * returns bytes, they are the body core sees (and measures against `maxBodyBytes`) once the
   * head has passed its checks; when it
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

/**
 * Creates the integration router: `app.use('/ws', websocketRouter(gateway))` so API Gateway calls
 * `/ws/connect`, `/ws/disconnect`, `/ws/default` and `/ws/<custom route>` (with the gateway's
 * `routeKeyHeader` option, the mapped header names the route instead). Only `POST /:route` is
 * matched; other methods and paths go on to the app's later routes with their body unread.
 *
 * Head first: a request without the integration secret, with no valid connection id header, or
 * at a path that names no route is refused before any body byte is read, and so is a declared
 * `Content-Length` over the gateway's `maxBodyBytes` (413). A streamed body stops being read as
 * soon as it passes the cap (413) or the `bodyTimeoutMs` deadline (408), and the socket is
 * closed after such a refusal instead of draining the rest. Raw bytes kept by a body parser are reused
 * (see `rawBody`); if a parser consumed the body without keeping them, the request fails with a
 * {@link BodyAlreadyConsumedError} passed to the app's error handler (500) rather than a guess.
 * Every status, header and body comes from core. Requests are independent; the router keeps no
 * state between them.
 *
 * @throws {TypeError} at construction when `gateway` is not a gateway or `rawBody` not a function.
 */
export function websocketRouter(gateway: Gateway, options: WebSocketRouterOptions = {}): Router {
  let adapter: GatewayAdapter
  try {
    adapter = adapterOf(gateway)
  } catch {
    throw new TypeError('websocketRouter: gateway must come from createGateway()')
  }
  const rawBodyOf = options.rawBody ?? defaultRawBody
  if (typeof rawBodyOf !== 'function') {
    throw new TypeError('websocketRouter: rawBody must be a function')
  }

  const router = Router()
  router.post(
    '/:route',
    async function apigwIntegration(req: ExpressRequest, res: ExpressResponse) {
      const raw = rawBodyOf(req)
      if (raw === undefined && nodeBodyConsumed(req)) throw new BodyAlreadyConsumedError()
      const readRequestBody: BodyReader = raw === undefined ? nodeBodyReader(req) : () => raw
      const peer = req.socket.remoteAddress
      const response = await adapter.serve(
        {
          method: req.method,
          url: req.originalUrl,
          headers: nodeHeaders(req),
          ...(peer === undefined ? {} : { peer }),
        },
        readRequestBody,
      )
      writeResponse(res, response, !req.complete)
    },
  )
  return router
}
