/**
 * Token issuance: the endpoint a signed-in page calls before opening the WebSocket. It checks
 * the method, CSRF (an allowed `Origin` or `Sec-Fetch-Site: same-origin`), the user, the channel
 * name and the per-user issuance limit, then stores only the new token's SHA-256 and answers
 * `{ token, expiresIn }`. Every refusal is a `token.rejected` event and a generic body.
 */
import { isOriginAllowed } from '../checks/origin-checks.js'
import { hitLimit } from '../checks/rate-limits.js'
import type { GatewayEvent } from '../events.js'
import { errorName, guard, InternalFailure } from '../failures.js'
import type { Config } from '../options.js'
import { jsonResponse, type Rejection, reject, toResponse } from '../rejections.js'
import type { GatewayResponse } from '../request.js'
import { sha256Hex } from '../sha256.js'
import { generateToken, hashToken } from '../tokens.js'
import { isChannel } from '../validators.js'

/** What `issueToken` needs to know about the token request. */
export interface TokenRequest {
  /** The HTTP method of the token request (only `POST` is served). */
  readonly method: string
  /** Request headers (any casing); `origin` and `sec-fetch-site` are read for the CSRF check. */
  readonly headers: Readonly<Record<string, string | undefined>> | Headers
  /** The signed-in user, or `null`/`undefined` when nobody is signed in (→ 401). */
  readonly userId: string | null | undefined
  /** The app session id. Required when `auth.resolveSession` is configured (session binding). */
  readonly sessionId?: string | null
  /** Bind the token to this channel: the connection may only open it. */
  readonly channel?: string | null
}

/** The body of a successful token response. */
export interface TokenGrant {
  readonly token: string
  /** Seconds until the token expires. */
  readonly expiresIn: number
}

function headerValue(headers: TokenRequest['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name) ?? undefined
  }
  const record = headers as Readonly<Record<string, string | undefined>>
  for (const key of Object.keys(record)) if (key.toLowerCase() === name) return record[key]
  return undefined
}

/** Builds the `issueToken` function of one gateway. */
export function createTokenIssuer<TUser>(
  config: Config<TUser>,
  emit: (event: GatewayEvent) => void,
): (request: TokenRequest) => Promise<GatewayResponse> {
  const { store, clock } = config

  return async function issueToken(request) {
    const now = clock.now()
    const userId =
      typeof request.userId === 'string' && request.userId !== '' ? request.userId : null
    const refuseToken = (rejection: Rejection): GatewayResponse => {
      emit({
        type: 'token.rejected',
        at: now,
        code: rejection.code,
        userId,
        detail: rejection.detail ?? null,
      })
      return toResponse(rejection)
    }
    try {
      if (request.method.toUpperCase() !== 'POST') return refuseToken(reject('METHOD_NOT_ALLOWED'))
      const origin = headerValue(request.headers, 'origin')
      const fetchSite = headerValue(request.headers, 'sec-fetch-site')
      if (!isOriginAllowed(origin, config.allowedOrigins) && fetchSite !== 'same-origin') {
        return refuseToken(reject('CSRF_REJECTED'))
      }
      if (userId === null) return refuseToken(reject('UNAUTHENTICATED', 'no user'))
      const channel = request.channel ?? null
      if (channel !== null && !isChannel(channel)) return refuseToken(reject('CHANNEL_INVALID'))
      let sessionHash: string | null = null
      if (config.auth.resolveSession !== undefined) {
        if (typeof request.sessionId !== 'string' || request.sessionId === '') {
          return refuseToken(reject('UNAUTHENTICATED', 'no session'))
        }
        sessionHash = sha256Hex(request.sessionId)
      }
      const rule = config.limits.tokenPerUser
      if (rule !== null) {
        const refusal = await hitLimit(store, 'token.user', userId, rule, now)
        if (refusal !== null) {
          emit({
            type: 'rate.limited',
            at: now,
            scope: 'token.user',
            count: refusal.count,
            limit: rule.limit,
            resetAt: refusal.resetAt,
          })
          return refuseToken(refusal.rejection)
        }
      }
      const token = generateToken()
      const expiresAt = now + config.tokenTtlMs
      const stored = await guard('store', () =>
        store.tokens.put({ hash: hashToken(token), userId, sessionHash, channel, expiresAt }),
      )
      // 256 random bits never collide in practice; if the store says they did, issue nothing.
      if (!stored) throw new InternalFailure('store', new Error('token hash already stored'))
      emit({ type: 'token.issued', at: now, userId, channel, expiresAt })
      const grant: TokenGrant = { token, expiresIn: Math.floor(config.tokenTtlMs / 1000) }
      return jsonResponse(200, grant)
    } catch (error) {
      const source = error instanceof InternalFailure ? error.source : 'check'
      emit({ type: 'internal.error', at: now, source, route: null, errorName: errorName(error) })
      return refuseToken(
        reject(source === 'store' ? 'STORE_UNAVAILABLE' : 'INTERNAL_ERROR', source),
      )
    }
  }
}
