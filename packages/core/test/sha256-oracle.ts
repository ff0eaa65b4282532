/**
 * The independent SHA-256 for core's tests: `node:crypto`, never core's own hand-written
 * `sha256Hex`, so a bug in core's hash cannot hide behind an expected value computed by the same
 * bug.
 */
import { createHash } from 'node:crypto'

/** The lower-case hex SHA-256 of `input` (a string is hashed as UTF-8), from `node:crypto`. */
export function oracleSha256Hex(input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('hex')
}
