/**
 * `tokenHandler`: the Express handler for the app's connect-token endpoint. The app says who is
 * signed in (`identify`); core does the rest through `gateway.issueToken`: the method check
 * (POST only, else 405 with `Allow: POST`), the CSRF check (`Origin` in `allowedOrigins`, or
 * `Sec-Fetch-Site: same-origin`), the user check (401), the per-user issuance limit (429 with
 * `Retry-After`), and the single-use token itself. It reads no body.
 */
import type { Gateway } from '@apigw-ws/core'
import { nodeHeaders } from '@apigw-ws/core/adapter'
import type {
  Request as ExpressRequest,
  Response as ExpressResponse,
  RequestHandler,
} from 'express'
import { writeResponse } from './node-http.js'

/** Who asks for a token, as the app knows it. */
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

/** Options for {@link tokenHandler}. */
export interface TokenHandlerOptions {
  /**
   * Returns who is signed in for this request, or `null`/`undefined` when nobody is (→ 401).
   * Usually reads what the app's session middleware set (`req.session`, `req.user`). It runs for
   * every request to the route, before core's checks; a throw or rejection goes to the app's
   * error handler.
   */
  readonly identify: (
    req: ExpressRequest,
  ) => TokenIdentity | null | undefined | Promise<TokenIdentity | null | undefined>
}

/**
 * Creates the token handler: `app.post('/ws-token', tokenHandler(gateway, { identify }))`, or
 * `app.all(…)` to answer other methods with core's 405. Core's status, headers and JSON body are
 * written as they are; a `Set-Cookie` the app already set on `res` is kept.
 *
 * @throws {TypeError} at construction when `gateway` is not a gateway or `identify` is missing.
 */
export function tokenHandler(gateway: Gateway, options: TokenHandlerOptions): RequestHandler {
  if (typeof gateway?.issueToken !== 'function') {
    throw new TypeError('tokenHandler: gateway must come from createGateway()')
  }
  const identify = options?.identify
  if (typeof identify !== 'function') {
    throw new TypeError('tokenHandler: identify must be a function')
  }
  return async function apigwToken(req: ExpressRequest, res: ExpressResponse): Promise<void> {
    const identity = await identify(req)
    const result = await gateway.issueToken({
      method: req.method,
      headers: nodeHeaders(req),
      userId: identity?.userId ?? null,
      sessionId: identity?.sessionId ?? null,
      channel: identity?.channel ?? null,
    })
    writeResponse(res, result, false)
  }
}
