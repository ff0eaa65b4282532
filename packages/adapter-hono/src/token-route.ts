/**
 * `tokenRoute`: the Hono handler for the app's connect-token endpoint. The app says who is
 * signed in (`identify`); core does the rest through `gateway.issueToken`: the method check
 * (POST only, else 405 with `Allow: POST`), the CSRF check (`Origin` in `allowedOrigins`, or
 * `Sec-Fetch-Site: same-origin`), the user check (401), the per-user issuance limit (429 with
 * `Retry-After`), and the single-use token itself.
 */
import type { Gateway } from '@apigw-ws/core'
import type { Context, Env, Handler } from 'hono'
import type { StatusCode } from 'hono/utils/http-status'

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

/** Options for {@link tokenRoute}. */
export interface TokenRouteOptions<E extends Env = Env> {
  /**
   * Returns who is signed in for this request, or `null`/`undefined` when nobody is (→ 401).
   * Usually reads what the app's auth middleware put on the context (`c.get('user')`). It runs
   * for every request to the route, before core's checks; a throw or rejection propagates to the
   * app's error handler.
   */
  readonly identify: (
    c: Context<E>,
  ) => TokenIdentity | null | undefined | Promise<TokenIdentity | null | undefined>
}

/**
 * Creates the token handler: `app.post('/ws-token', tokenRoute(gateway, { identify }))`. Mount
 * it with `app.all` to answer other methods with core's 405. The response is core's (`200
 * { token, expiresIn }` or a generic refusal) built with `c.newResponse`, so headers and cookies
 * the app's middleware set before it (for example `setCookie`) are kept. To give `identify` the
 * app's typed context (`c.get('user')`), pass the app's env as the type argument
 * (`tokenRoute<AppEnv>(…)`): Hono cannot infer it through `app.post`. Requests are independent.
 *
 * @throws {TypeError} at construction when `gateway` is not a gateway or `identify` is missing.
 */
export function tokenRoute<E extends Env = Env>(
  gateway: Gateway,
  options: TokenRouteOptions<E>,
): Handler<E> {
  if (typeof gateway?.issueToken !== 'function') {
    throw new TypeError('tokenRoute: gateway must come from createGateway()')
  }
  const identify = options?.identify
  if (typeof identify !== 'function') {
    throw new TypeError('tokenRoute: identify must be a function')
  }
  return async function apigwToken(c) {
    const identity = await identify(c)
    const result = await gateway.issueToken({
      method: c.req.method,
      headers: c.req.raw.headers,
      userId: identity?.userId ?? null,
      sessionId: identity?.sessionId ?? null,
      channel: identity?.channel ?? null,
    })
    return c.newResponse(result.body, result.status as StatusCode, { ...result.headers })
  }
}
