/**
 * Connect tokens: generation and format parsing. A token is a recognisable prefix followed by
 * 256 bits from `crypto.getRandomValues` in base64url. The store only ever sees its SHA-256, so
 * a database dump cannot be replayed. Parsing is strict and happens before any store access.
 */
import { sha256Hex } from './sha256.js'

/** Every token starts with this prefix, so leaked tokens are easy to find by secret scanners. */
export const TOKEN_PREFIX = 'awst_'
const TOKEN_BYTES = 32
/** base64url of 32 bytes without padding is 43 characters. */
const TOKEN_PATTERN = /^awst_[A-Za-z0-9_-]{43}$/
const TOKEN_LENGTH = TOKEN_PREFIX.length + 43
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

function base64url(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n =
      ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number)
    out +=
      BASE64URL.charAt(n >>> 18) +
      BASE64URL.charAt((n >>> 12) & 63) +
      BASE64URL.charAt((n >>> 6) & 63) +
      BASE64URL.charAt(n & 63)
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = (bytes[i] as number) << 16
    out += BASE64URL.charAt(n >>> 18) + BASE64URL.charAt((n >>> 12) & 63)
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8)
    out +=
      BASE64URL.charAt(n >>> 18) +
      BASE64URL.charAt((n >>> 12) & 63) +
      BASE64URL.charAt((n >>> 6) & 63)
  }
  return out
}

/** A fresh token: prefix + 256 random bits (base64url). */
export function generateToken(): string {
  const bytes = new Uint8Array(TOKEN_BYTES)
  crypto.getRandomValues(bytes)
  return TOKEN_PREFIX + base64url(bytes)
}

/** `true` when `value` has the exact token format (checked by length first). */
export function isTokenFormat(value: unknown): value is string {
  return typeof value === 'string' && value.length === TOKEN_LENGTH && TOKEN_PATTERN.test(value)
}

/** The value stored for a token: lower-case hex SHA-256. */
export function hashToken(token: string): string {
  return sha256Hex(token)
}
