/**
 * The one error type of the client. Every failure a caller can see (a refused request, a timeout,
 * a lost connection, a full queue, an oversized message, a signed-out user) is a `ClientError`
 * with a stable `code`; a refusal also carries the server's HTTP-like status and generic message.
 */

/** Stable error codes. */
export type ClientErrorCode =
  /** The server refused the request; see `status` and `message` (e.g. 403 Forbidden). */
  | 'REFUSED'
  /** No reply within `requestTimeoutMs`. */
  | 'TIMEOUT'
  /** The connection carrying the request closed before its reply arrived. */
  | 'CONNECTION_LOST'
  /** `close()` was called (or the client stopped) before the call completed. */
  | 'CLOSED'
  /** The serialized message is larger than `maxMessageBytes`; nothing was sent. */
  | 'MESSAGE_TOO_LARGE'
  /** The send queue is full while reconnecting (overflow policy `reject`, or dropped as oldest). */
  | 'QUEUE_FULL'
  /** The token route answered 401/403: the user is signed out, and the client stopped. */
  | 'SIGNED_OUT'
  /** Fetching a token failed (network, unexpected status or body); the client retries. */
  | 'TOKEN_FAILED'
  /** API Gateway answered a message with its opaque "Internal server error" frame. */
  | 'SERVER_ERROR'

/** A failure of the client, with a stable code. */
export class ClientError extends Error {
  override readonly name = 'ClientError'
  readonly code: ClientErrorCode
  /** For `REFUSED`: the status (400, 403, 429…); for `SIGNED_OUT`: the token route's status. */
  readonly status: number | undefined
  /** For `REFUSED` with 429 and for a 429 token route: milliseconds to wait before retrying. */
  readonly retryAfterMs: number | undefined
  /** For `CONNECTION_LOST`: the WebSocket close code. */
  readonly closeCode: number | undefined

  constructor(
    code: ClientErrorCode,
    message: string = code,
    extra: { status?: number; retryAfterMs?: number; closeCode?: number } = {},
  ) {
    super(message)
    this.code = code
    this.status = extra.status
    this.retryAfterMs = extra.retryAfterMs
    this.closeCode = extra.closeCode
  }
}
