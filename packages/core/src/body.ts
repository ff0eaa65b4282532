/**
 * Body measurement, decoding and bounded JSON parsing. Size is measured in UTF-8 bytes before
 * anything else touches the body; text must be well-formed UTF-8; JSON must be an object at the
 * top level, nested at most `maxDepth` deep, with at most `maxKeys` entries per object or array,
 * and without the keys that reach prototypes. Nothing here throws on attacker input.
 */

/** Structural limits for message JSON. */
export interface JsonLimits {
  readonly maxDepth: number
  readonly maxKeys: number
}

/** Keys rejected anywhere in a message: they reach or shadow prototypes in careless code. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * UTF-8 byte length of a string, counting lone surrogates as the 3-byte replacement character.
 * Stops counting once `stopAfter` is exceeded.
 */
export function utf8Length(text: string, stopAfter = Number.POSITIVE_INFINITY): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
    if (bytes > stopAfter) return bytes
  }
  return bytes
}

/**
 * `true` when the body is larger than `max` bytes (UTF-8 for strings). A string whose length
 * times 3 (the most bytes a UTF-16 unit encodes to) is within `max` is not walked at all.
 */
export function bodyExceeds(body: Uint8Array | string | null, max: number): boolean {
  if (body === null) return false
  if (typeof body !== 'string') return body.byteLength > max
  if (body.length * 3 <= max) return false
  return utf8Length(body, max) > max
}

/** `true` when a string has no lone surrogates (so it encodes to UTF-8 without loss). */
function isWellFormed(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0xd800 || c > 0xdfff) continue
    if (c > 0xdbff) return false
    const next = text.charCodeAt(i + 1)
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false
    i++
  }
  return true
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The body as text, or `null` when it is not well-formed UTF-8. */
export function decodeBody(body: Uint8Array | string | null): string | null {
  if (body === null) return ''
  if (typeof body === 'string') return isWellFormed(body) ? body : null
  try {
    return decoder.decode(body)
  } catch {
    return null
  }
}

/** Nesting depth of JSON text, scanning strings correctly; stops early past `limit`. */
function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return false
}

function isWithinLimits(value: unknown, maxKeys: number): boolean {
  if (typeof value !== 'object' || value === null) return true
  if (Array.isArray(value)) {
    if (value.length > maxKeys) return false
    for (const item of value) if (!isWithinLimits(item, maxKeys)) return false
    return true
  }
  const keys = Object.keys(value)
  if (keys.length > maxKeys) return false
  for (const key of keys) {
    if (FORBIDDEN_KEYS.has(key)) return false
    if (!isWithinLimits((value as Record<string, unknown>)[key], maxKeys)) return false
  }
  return true
}

/** A plain JSON object. */
export type JsonObject = { readonly [key: string]: unknown }

/**
 * Parses message text into a JSON object within `limits`, or `null` when the text is not JSON,
 * not an object at the top level, too deep, too wide, or uses a forbidden key. `JSON.parse`
 * defines `__proto__` as an own property (never a prototype), and such objects are refused anyway.
 */
export function parseJsonObject(text: string, limits: JsonLimits): JsonObject | null {
  if (jsonDepthExceeds(text, limits.maxDepth)) return null
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  return isWithinLimits(value, limits.maxKeys) ? (value as JsonObject) : null
}
