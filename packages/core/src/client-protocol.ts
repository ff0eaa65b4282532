/**
 * The opt-in client protocol (`clientProtocol: true`) that `@apigw-ws/client` speaks. It owns
 * three small wire rules and nothing else:
 *
 * - **Replies.** A message carrying `"$id"` (`^[A-Za-z0-9_-]{1,64}$`) is answered with the
 *   envelope `{"$id", "ok": true, "data"?}` (the handler's return value; no `data` when it
 *   returned `undefined`) or, when refused or failed, `{"$id", "ok": false, "error": {"status",
 *   "message", "retryAfter"?}}`: the status and the generic message of the rejection table,
 *   never the internal code or detail. Envelopes go out with HTTP 200 because API Gateway turns
 *   any other integration status into an opaque "Internal server error" frame.
 * - **Heartbeat.** A message whose handler key is `"$heartbeat"` is served by a built-in handler
 *   that does nothing: the message itself resets API Gateway's idle timer.
 * - **Push ids.** Every `send.*` payload goes out as `{"$mid": "<unique id>", "data": …}`, so a
 *   client holding two connections during a rollover can drop the copy it already saw. Byte
 *   payloads are sent unchanged (without an id).
 *
 * Messages without `$id` and gateways without the option behave exactly as before.
 */
import type { RequestState } from './checks/request-state.js'
import type { RegisteredHandler } from './handlers.js'
import type { GatewayResponse } from './request.js'
import { encodePayload, type SendData } from './send/payload.js'

/** The handler name a client uses for a heartbeat (not a valid name for an app handler). */
export const HEARTBEAT_ACTION = '$heartbeat'

/** The built-in heartbeat handler: no work, no reply data. */
export const heartbeatHandler: RegisteredHandler<unknown> = Object.freeze({
  name: HEARTBEAT_ACTION,
  schema: null,
  permissions: null,
  handle: () => undefined,
})

const MESSAGE_ID = /^[A-Za-z0-9_-]{1,64}$/

/** The request id a message carries, or `null` when it has none (or a malformed one). */
export function requestIdOf(message: Readonly<Record<string, unknown>> | null): string | null {
  if (message === null || !Object.hasOwn(message, '$id')) return null
  const id = message.$id
  return typeof id === 'string' && MESSAGE_ID.test(id) ? id : null
}

const REPLY_HEADERS = Object.freeze({
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
})

/**
 * The envelope answering a message that carried an id; other responses are returned unchanged.
 * A success body is already JSON and is embedded without re-parsing. A refusal keeps only its
 * status, the generic message and `retry-after`.
 */
export function envelope<TUser>(
  state: RequestState<TUser> | null,
  response: GatewayResponse,
): GatewayResponse {
  if (state === null || state.route === '$connect' || state.route === '$disconnect') {
    return response
  }
  const id = requestIdOf(state.message)
  if (id === null) return response
  let body: string
  if (response.status >= 200 && response.status < 300) {
    body = `{"$id":"${id}","ok":true${response.body === null ? '' : `,"data":${response.body}`}}`
  } else {
    const retryAfter = Number(response.headers['retry-after'])
    body = JSON.stringify({
      $id: id,
      ok: false,
      error: {
        status: response.status,
        message: genericMessage(response),
        ...(Number.isInteger(retryAfter) ? { retryAfter } : {}),
      },
    })
  }
  return { status: 200, headers: REPLY_HEADERS, body }
}

function genericMessage(response: GatewayResponse): string {
  try {
    const parsed: unknown = JSON.parse(response.body ?? '')
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed) {
      return String(parsed.message)
    }
  } catch {
    // Generated refusals always carry `{ message }`; anything else gets the fallback.
  }
  return 'Error'
}

let pushCounter = 0
const pushPrefix = randomPrefix()

function randomPrefix(): string {
  const bytes = new Uint8Array(8)
  globalThis.crypto.getRandomValues(bytes)
  let text = ''
  for (const byte of bytes) text += byte.toString(36).padStart(2, '0')
  return text
}

/**
 * Encodes a push with a message id unique to this process (a random prefix and a counter).
 * Throws like `encodePayload` (too large, not serializable), measured on the final bytes.
 */
export function encodePush(data: SendData): Uint8Array {
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return encodePayload(data)
  const json = JSON.stringify(data)
  if (typeof json !== 'string') throw new TypeError('send data is not JSON-serializable')
  pushCounter += 1
  return encodePayload(`{"$mid":"${pushPrefix}${pushCounter.toString(36)}","data":${json}}`)
}
