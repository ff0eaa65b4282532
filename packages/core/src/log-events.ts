/**
 * `logEvents()`: a ready `onEvent` reporter for development, so a refused request is never
 * silent. It writes one line per event with the event type and a fixed list of fields (code,
 * route, status, detail, ids and counts), never anything else: events carry no tokens, cookies,
 * secrets or bodies by construction, and a field this reporter does not know is not printed
 * either. Every value is escaped, so client-chosen text (a route, a user id) cannot forge or
 * break log lines with control characters.
 */
import type { EventListener, GatewayEvent } from './events.js'

/** Options for {@link logEvents}. */
export interface LogEventsOptions {
  /**
   * Receives each line (no trailing newline). Default `console.warn` for refusals, rate limits,
   * internal errors and configuration warnings, `console.info` for everything else. Must not throw.
   */
  readonly write?: ((line: string, event: GatewayEvent) => void) | undefined
  /** `'refusals'` reports only refusals, rate limits, internal errors and warnings. Default `'all'`. */
  readonly only?: 'all' | 'refusals' | undefined
}

/** The fields printed, in this order, when an event has them. Nothing else is ever printed. */
const FIELDS = [
  'code',
  'route',
  'status',
  'detail',
  'handler',
  'scope',
  'count',
  'limit',
  'reason',
  'source',
  'errorName',
  'target',
  'attempted',
  'delivered',
  'gone',
  'failed',
  'connectionId',
  'userId',
  'channel',
  'channels',
  'ip',
  'message',
] as const

const NOTEWORTHY: ReadonlySet<GatewayEvent['type']> = new Set<GatewayEvent['type']>([
  'request.rejected',
  'token.rejected',
  'rate.limited',
  'internal.error',
  'config.warning',
])

// C0 and C1 controls, DEL, the Unicode line and paragraph separators, and bidi overrides.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069"\\]/g

function escapeChar(char: string): string {
  if (char === '"' || char === '\\') return `\\${char}`
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/** One value as log text: escaped, and quoted when it is empty, holds a space or was escaped. */
export function formatLogValue(value: unknown): string {
  let text: string
  if (Array.isArray(value)) text = value.map(String).join(',')
  else text = String(value)
  const escaped = text.replace(UNSAFE, escapeChar)
  return escaped === '' || /\s/.test(escaped) || escaped !== text ? `"${escaped}"` : escaped
}

/** The line {@link logEvents} writes for `event`. */
export function formatEvent(event: GatewayEvent): string {
  const record = event as unknown as Readonly<Record<string, unknown>>
  const parts = [`apigw-ws ${formatLogValue(event.type)}`]
  for (const field of FIELDS) {
    const value = record[field]
    if (value === undefined || value === null) continue
    if (typeof value === 'object' && !Array.isArray(value)) continue
    if (Array.isArray(value) && value.length === 0) continue
    parts.push(`${field}=${formatLogValue(value)}`)
  }
  return parts.join(' ')
}

function defaultWrite(line: string, event: GatewayEvent): void {
  if (NOTEWORTHY.has(event.type)) console.warn(line)
  else console.info(line)
}

/**
 * Returns an `onEvent` listener that writes one line per gateway event, for example
 * `apigw-ws request.rejected code=SECRET_INVALID route=$connect status=403 ip=203.0.113.9`.
 * Meant for development and small deployments: `createGateway({ …, onEvent: logEvents() })`.
 * The line holds the event type and the fields listed above, escaped (control characters as
 * `\uXXXX`); never tokens, cookies, secrets or bodies. The listener never throws: a `write`
 * that throws is ignored. Options are read once.
 */
export function logEvents(options: LogEventsOptions = {}): EventListener {
  const write = options.write ?? defaultWrite
  const refusalsOnly = options.only === 'refusals'
  return function logEvent(event) {
    if (refusalsOnly && !NOTEWORTHY.has(event.type)) return
    try {
      write(formatEvent(event), event)
    } catch {
      // A logger must never break the request it reports on.
    }
  }
}
