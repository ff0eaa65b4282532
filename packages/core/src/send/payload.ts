/**
 * Message payloads: turning what a caller passes to a send into the exact bytes API Gateway will
 * deliver, once per call, and refusing anything larger than API Gateway accepts before a single
 * recipient is listed or a single request is made.
 */

/** API Gateway's WebSocket message limit: 128 KiB of UTF-8 (131,072 bytes). */
export const MAX_PAYLOAD_BYTES = 131_072

/**
 * What a send accepts. Strings are sent as their UTF-8 bytes, unchanged (not JSON-quoted);
 * `Uint8Array`, other typed-array views and `ArrayBuffer` are sent as raw bytes; any other value
 * (object, array, number, boolean, `null`) is serialized with `JSON.stringify` exactly once per
 * call, however many recipients there are.
 */
export type SendData =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | object
  | number
  | boolean
  | null

/**
 * A payload larger than {@link MAX_PAYLOAD_BYTES}. Every send rejects with it before listing any
 * recipient or calling API Gateway, so an oversized message costs nothing and reaches no one.
 */
export class PayloadTooLargeError extends RangeError {
  override readonly name = 'PayloadTooLargeError'
  /** Size of the encoded payload in bytes. */
  readonly bytes: number
  /** The limit it exceeded ({@link MAX_PAYLOAD_BYTES}). */
  readonly limit: number

  constructor(bytes: number, limit: number = MAX_PAYLOAD_BYTES) {
    super(`payload is ${bytes} bytes; API Gateway accepts at most ${limit}`)
    this.bytes = bytes
    this.limit = limit
  }
}

const encoder = new TextEncoder()

/**
 * Encodes `data` into the bytes to post (see {@link SendData}) and checks the size.
 *
 * Byte inputs are copied, so mutating the caller's buffer during a fan-out cannot change what
 * later recipients receive. Throws `PayloadTooLargeError` above {@link MAX_PAYLOAD_BYTES}, and
 * `TypeError` for values JSON cannot represent (`undefined`, functions, symbols, `BigInt`,
 * cycles): both are programmer errors, reported before any network call.
 */
export function encodePayload(data: SendData): Uint8Array {
  const bytes = toBytes(data)
  if (bytes.byteLength > MAX_PAYLOAD_BYTES) throw new PayloadTooLargeError(bytes.byteLength)
  return bytes
}

function toBytes(data: SendData): Uint8Array {
  if (typeof data === 'string') return encoder.encode(data)
  if (data instanceof Uint8Array) return data.slice()
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0))
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()
  }
  const json: unknown = JSON.stringify(data)
  // JSON.stringify returns undefined (not a string) for undefined, functions and symbols.
  if (typeof json !== 'string') throw new TypeError('send data is not JSON-serializable')
  return encoder.encode(json)
}
