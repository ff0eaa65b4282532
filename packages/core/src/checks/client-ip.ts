/**
 * Client address extraction and normalisation. The address a rate limit keys on must be the one
 * the attacker cannot choose: in Lambda mode API Gateway's `identity.sourceIp`; in HTTP mode a
 * header the integration maps from `context.identity.sourceIp`, or else the entry API Gateway
 * appended to `X-Forwarded-For`, found by counting `trustedProxies` hops from the right. The
 * left-most entries are whatever the client sent and are never read.
 */
import type { GatewayRequest } from '../request.js'

/** A parsed client address. */
export interface ClientAddress {
  /** Canonical text form (IPv4 dotted quad, or IPv6 with every group, lower-case). */
  readonly ip: string
  /** Rate-limit key: the IPv4 address, or the IPv6 /56 prefix (a customer's usual allocation). */
  readonly key: string
}

/** Where to find the client address in HTTP mode. */
export interface ClientIpSource {
  /** Lower-cased header mapped from `context.identity.sourceIp`, if the integration maps one. */
  readonly sourceIpHeader: string | null
  /** Proxies between API Gateway and this app that append to `X-Forwarded-For`. */
  readonly trustedProxies: number
}

/** The raw, unvalidated client address for a request, or `null` when none is available. */
export function rawClientIp(request: GatewayRequest, source: ClientIpSource): string | null {
  if (request.lambda) return request.lambda.sourceIp
  if (source.sourceIpHeader !== null) {
    const mapped = request.headers[source.sourceIpHeader]
    if (mapped !== undefined && mapped.trim() !== '') return mapped.trim()
  }
  const forwarded = request.headers['x-forwarded-for']
  if (forwarded === undefined) return null
  // Walk from the right without splitting the whole (attacker-sized) list.
  let end = forwarded.length
  let skipped = 0
  while (end > 0) {
    const comma = forwarded.lastIndexOf(',', end - 1)
    const entry = forwarded.slice(comma + 1, end).trim()
    if (entry !== '') {
      if (skipped === source.trustedProxies) return entry
      skipped++
    }
    if (comma < 0) break
    end = comma
  }
  return null
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

function parseIpv6Groups(text: string): number[] | null {
  let body = text
  let tail: number[] = []
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) counts as two groups.
  const lastColon = text.lastIndexOf(':')
  const last = text.slice(lastColon + 1)
  if (last.includes('.')) {
    if (!IPV4.test(last)) return null
    const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number]
    tail = [(a << 8) | b, (c << 8) | d]
    body = text.slice(0, lastColon + 1)
    if (!body.endsWith('::')) body = body.slice(0, -1)
  }
  const halves = body.split('::')
  if (halves.length > 2) return null
  const parse = (part: string): number[] | null => {
    if (part === '') return []
    const groups = part.split(':')
    const out: number[] = []
    for (const g of groups) {
      if (!HEX_GROUP.test(g)) return null
      out.push(Number.parseInt(g, 16))
    }
    return out
  }
  const head = parse(halves[0] ?? '')
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : []
  if (head === null || rest === null) return null
  const total = head.length + rest.length + tail.length
  if (halves.length === 2) {
    if (total > 7) return null
    return [...head, ...new Array<number>(8 - total).fill(0), ...rest, ...tail]
  }
  return total === 8 ? [...head, ...tail] : null
}

/**
 * Parses an IPv4 or IPv6 address (no zone ids, no ports, at most 45 characters). IPv4-mapped IPv6
 * addresses are treated as the IPv4 address. Returns `null` for anything else.
 */
export function parseClientAddress(value: string | null): ClientAddress | null {
  if (value === null || value.length === 0 || value.length > 45) return null
  if (IPV4.test(value)) return { ip: value, key: value }
  if (!value.includes(':')) return null
  const groups = parseIpv6Groups(value)
  if (groups === null) return null
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff
  if (isMapped) {
    const hi = groups[6] as number
    const lo = groups[7] as number
    const ip = `${hi >>> 8}.${hi & 255}.${lo >>> 8}.${lo & 255}`
    return { ip, key: ip }
  }
  const ip = groups.map((g) => g.toString(16)).join(':')
  // /56 = the first three groups and the high byte of the fourth.
  const key = `${groups
    .slice(0, 3)
    .map((g) => g.toString(16))
    .join(':')}:${((groups[3] as number) >>> 8).toString(16)}00::/56`
  return { ip, key }
}
