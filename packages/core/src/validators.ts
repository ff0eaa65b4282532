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

/** Names of API Gateway's system routes, which no handler or custom route may take. */
export const RESERVED_ROUTE_NAMES: ReadonlySet<string> = new Set([
  'connect',
  'disconnect',
  'default',
])

/**
 * Whether `name` collides with a system route: `connect`, `disconnect` or `default` in any case,
 * with or without the `$` prefix. A handler or route by that name could turn a client's message
 * into a `$disconnect` (or another system event) wherever routes map to paths.
 */
export function isReservedName(name: unknown): boolean {
  return typeof name === 'string' && RESERVED_ROUTE_NAMES.has(name.replace(/^\$/, '').toLowerCase())
}

/** Longest stage name accepted (API Gateway allows 128). */
export const MAX_STAGE_LENGTH = 128
/** Longest `host[:port]` accepted as a domain name (a DNS name is at most 253 characters). */
export const MAX_DOMAIN_NAME_LENGTH = 259

const STAGE = /^(?:\$default|[A-Za-z0-9_-]+)$/
const API_ID = /^[a-z0-9]{1,64}$/
const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/
const IPV6_LITERAL = /^\[[0-9A-Fa-f:.]{2,45}\]$/
const PORT = /^[1-9]\d{0,4}$/

/**
 * `true` when `value` is a stage name that is safe in a URL path: `^[A-Za-z0-9_-]{1,128}$`, or
 * API Gateway's `$default`. Never a dot, slash, percent sign or anything else a path interprets.
 */
export function isStage(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_STAGE_LENGTH &&
    STAGE.test(value)
  )
}

/** `true` when `value` is an API id that is safe in a host name: `^[a-z0-9]{1,64}$`. */
export function isApiId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 64 && API_ID.test(value)
}

/**
 * `true` when `value` is a bare host: a DNS name, an IPv4 address or a bracketed IPv6 literal,
 * with an optional `:port` (1–65535). Userinfo (`@`), paths, queries, fragments, percent escapes,
 * whitespace and empty labels are refused, so the value can only ever name a host.
 */
export function isDomainName(value: unknown): value is string {
  if (typeof value !== 'string' || value.length < 1 || value.length > MAX_DOMAIN_NAME_LENGTH) {
    return false
  }
  let host = value
  const colon = value.lastIndexOf(':')
  if (colon !== -1 && colon > value.lastIndexOf(']')) {
    const port = value.slice(colon + 1)
    if (!PORT.test(port) || Number(port) > 65_535) return false
    host = value.slice(0, colon)
  }
  if (IPV6_LITERAL.test(host)) return true
  if (IPV4.test(host)) return true
  if (host.length > 253) return false
  const labels = host.endsWith('.') ? host.slice(0, -1).split('.') : host.split('.')
  // A name whose last label is all digits would be read as an IPv4 address by URL parsers.
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return false
  return labels.every((label) => DNS_LABEL.test(label))
}
