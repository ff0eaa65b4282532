/**
 * The one table of rejection codes. A rejection is a value (`Rejection`), never an exception:
 * checks return it, the pipeline stops at the first one, and `toResponse` turns it into a status
 * and a body that is the same for every code sharing that status. Clients learn the status class
 * and nothing else; the code and safe context go to `onEvent` for operators.
 */
import type { GatewayResponse } from './request.js'

/**
 * Every rejection code with its HTTP status. Codes are stable API: operators alert on them.
 */
export const REJECTION_STATUS = Object.freeze({
  /** Body larger than `maxBodyBytes` (measured in UTF-8 bytes before parsing). */
  BODY_TOO_LARGE: 413,
  /** The body did not arrive within `bodyTimeoutMs` (a stalled or slow upload). */
  BODY_TIMEOUT: 408,
  /** Body is not valid UTF-8, or could not be read (the stream failed). */
  BODY_ENCODING_INVALID: 400,
  /** Integration secret header missing or not one of the configured secrets. */
  SECRET_INVALID: 403,
  /** Required API Gateway headers missing, API id not allowed, or User-Agent inconsistent. */
  GATEWAY_SHAPE_INVALID: 403,
  /** Connection id missing or not matching `^[A-Za-z0-9_=-]{1,128}$`. */
  CONNECTION_ID_INVALID: 400,
  /** No usable client address could be determined on `$connect`. */
  CLIENT_IP_MISSING: 403,
  /** A rate limit was exceeded (the response carries `Retry-After`). */
  RATE_LIMITED: 429,
  /** `Origin` missing or not exactly one of `allowedOrigins`. */
  ORIGIN_REJECTED: 403,
  /** `Host` not exactly one of `allowedHosts`. */
  HOST_REJECTED: 403,
  /** Connect token missing, malformed, unknown, expired, used, or bound to another session. */
  TOKEN_INVALID: 401,
  /** The token's channel binding does not match the requested channel. */
  TOKEN_CHANNEL_MISMATCH: 403,
  /** A user could not be loaded for the token's user id. */
  USER_UNKNOWN: 401,
  /** Channel name not matching `^[A-Za-z0-9_-]{1,128}$`. */
  CHANNEL_INVALID: 400,
  /** `authorizeChannel` refused the channel. */
  CHANNEL_FORBIDDEN: 403,
  /** Joining would put the connection in more than `maxChannelsPerConnection` channels. */
  CHANNEL_LIMIT_REACHED: 403,
  /** `$connect` for a connection id the store already knows (a replay). */
  CONNECTION_DUPLICATE: 400,
  /** Message or disconnect for a connection id that is unknown or disconnected. */
  CONNECTION_UNKNOWN: 404,
  /** Body is not JSON, not an object at the top level, too deep/wide, or has forbidden keys. */
  JSON_INVALID: 400,
  /** The selected handler name is not registered (or malformed). */
  HANDLER_UNKNOWN: 400,
  /** Payload rejected by the handler's schema. */
  PAYLOAD_INVALID: 400,
  /** A permission requirement was not met. */
  PERMISSION_DENIED: 403,
  /** No user is signed in where one is required (token issuance). */
  UNAUTHENTICATED: 401,
  /** Token issuance request failed the CSRF check. */
  CSRF_REJECTED: 403,
  /** The path names no route this gateway serves. */
  ROUTE_UNKNOWN: 404,
  /** HTTP method not allowed for the route. */
  METHOD_NOT_ALLOWED: 405,
  /** A user-supplied check rejected the request. */
  CHECK_FAILED: 403,
  /** A store call failed: the request is refused, never allowed. */
  STORE_UNAVAILABLE: 503,
  /** A hook, handler or check threw: the request is refused, never allowed. */
  INTERNAL_ERROR: 500,
} as const)

/** A stable rejection code. */
export type RejectionCode = keyof typeof REJECTION_STATUS

/** A refusal produced by a check. `detail` is operator-only context and never reaches clients. */
export interface Rejection {
  readonly code: RejectionCode
  /** Safe, short operator context (never a token, cookie, secret or message body). */
  readonly detail?: string
  /** For `RATE_LIMITED`: seconds until the client may try again. */
  readonly retryAfterSeconds?: number
}

/** Builds a rejection value. */
export function reject(code: RejectionCode, detail?: string): Rejection {
  return detail === undefined ? { code } : { code, detail }
}

const REASON: Readonly<Record<number, string>> = Object.freeze({
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
})

/** Headers every generated response carries. */
const JSON_HEADERS = Object.freeze({
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
})

/** The generic client body for a status: identical for every code that maps to it. */
export function genericBody(status: number): string {
  return JSON.stringify({ message: REASON[status] ?? 'Error' })
}

/** The client response for a rejection: status from the table, generic body, no detail. */
export function toResponse(rejection: Rejection): GatewayResponse {
  // An unknown code (from a JS caller or a typo) must not leave a response without a status.
  const status = Object.hasOwn(REJECTION_STATUS, rejection.code)
    ? REJECTION_STATUS[rejection.code]
    : 500
  const headers: Record<string, string> = { ...JSON_HEADERS }
  if (rejection.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(rejection.retryAfterSeconds)
  }
  if (rejection.code === 'METHOD_NOT_ALLOWED') headers.allow = 'POST'
  return { status, headers, body: genericBody(status) }
}

/** A JSON success response (its headers object is shared and frozen). */
export function jsonResponse(status: number, value: unknown): GatewayResponse {
  return { status, headers: JSON_HEADERS, body: JSON.stringify(value) }
}

/**
 * The brand every `RejectionError` carries, registered process-wide with `Symbol.for`, so that an
 * error thrown through another installed copy of `@apigw-ws/core` is still recognised.
 */
const REJECTION_BRAND: unique symbol = Symbol.for('@apigw-ws/core.RejectionError') as never

/**
 * Thrown by handler helpers (`join`, `leave`) and available to handlers and hooks to refuse a
 * request with a specific code. The gateway converts it into the rejection response; it is the
 * one exception that does not become a 500. Recognise it with {@link isRejectionError} rather
 * than `instanceof`, which fails across two installed copies of core.
 */
export class RejectionError extends Error {
  readonly rejection: Rejection
  readonly [REJECTION_BRAND] = true
  constructor(code: RejectionCode, detail?: string) {
    super(`request rejected: ${code}`)
    this.name = 'RejectionError'
    this.rejection = reject(code, detail)
  }
}

/**
 * `true` when `error` is a `RejectionError` from any copy of `@apigw-ws/core` in the process: it
 * carries the process-wide brand and a rejection whose code is in the table.
 */
export function isRejectionError(error: unknown): error is RejectionError {
  if (typeof error !== 'object' || error === null) return false
  if ((error as { [REJECTION_BRAND]?: unknown })[REJECTION_BRAND] !== true) return false
  const rejection = (error as { rejection?: unknown }).rejection
  return (
    typeof rejection === 'object' &&
    rejection !== null &&
    typeof (rejection as Rejection).code === 'string' &&
    Object.hasOwn(REJECTION_STATUS, (rejection as Rejection).code)
  )
}
