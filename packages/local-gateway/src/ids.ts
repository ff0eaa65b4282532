/**
 * The identifiers API Gateway generates: connection, request and message ids (16 characters of
 * URL-safe base64 ending in `=`, e.g. `TXzPWdnOjoECGjA=`) and X-Ray trace ids
 * (`Root=1-<8 hex seconds>-<24 hex>`). All randomness comes from `node:crypto`, drawn in blocks:
 * one `randomFillSync` per call costs more than the rest of a message's forwarding.
 */
import { randomFillSync } from 'node:crypto'

const POOL_BYTES = 4096
const pool = Buffer.alloc(POOL_BYTES)
let offset = POOL_BYTES

/** `n` (≤ 4096) fresh CSPRNG bytes; each byte is handed out once. Synchronous. */
function randomSlice(n: number): Buffer {
  if (offset + n > POOL_BYTES) {
    randomFillSync(pool)
    offset = 0
  }
  const slice = pool.subarray(offset, offset + n)
  offset += n
  return slice
}

/**
 * A new id shaped like API Gateway's connection and request ids: 11 random bytes as URL-safe
 * base64 with its single padding `=` kept, so it always matches `^[A-Za-z0-9_-]{15}=$`.
 */
export function newGatewayId(): string {
  return randomSlice(11).toString('base64').replace(/\+/g, '-').replace(/\//g, '_')
}

/** A new `X-Amzn-Trace-Id` value for a call made at `nowMs`. */
export function newTraceId(nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, '0')
  return `Root=1-${seconds}-${randomSlice(12).toString('hex')}`
}
