/**
 * Parsers for attacker-controlled identifiers. Each checks the length before anything else so a
 * multi-megabyte value costs nothing, and each limit matches the storage column it ends up in.
 */

/** Longest connection id accepted (API Gateway's are 16 characters; storage allows 128). */
export const MAX_CONNECTION_ID_LENGTH = 128
/** Longest channel name accepted, everywhere (connect, join, storage). */
export const MAX_CHANNEL_LENGTH = 128
/** Longest handler name accepted. */
export const MAX_HANDLER_NAME_LENGTH = 64

const CONNECTION_ID = /^[A-Za-z0-9_=-]+$/
const CHANNEL = /^[A-Za-z0-9_-]+$/
/** Handler names start with a letter: `_private`, `123` and `__proto__` are never names. */
const HANDLER_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/

/** `true` when `value` is a syntactically valid connection id (`^[A-Za-z0-9_=-]{1,128}$`). */
export function isConnectionId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_CONNECTION_ID_LENGTH &&
    CONNECTION_ID.test(value)
  )
}

/** `true` when `value` is a valid channel name (`^[A-Za-z0-9_-]{1,128}$`). */
export function isChannel(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_CHANNEL_LENGTH &&
    CHANNEL.test(value)
  )
}

/** `true` when `value` is a valid handler name (`^[A-Za-z][A-Za-z0-9_-]{0,63}$`). */
export function isHandlerName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_HANDLER_NAME_LENGTH &&
    HANDLER_NAME.test(value)
  )
}
