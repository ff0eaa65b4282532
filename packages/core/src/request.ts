/**
 * The plain request/response model between adapters and the core. Adapters translate their
 * framework's request into a `GatewayRequest` and write a `GatewayResponse` back; they make no
 * decisions. Everything here is data: no streams, no framework types, no Node APIs.
 */

/** The route an event belongs to: the three API Gateway system routes or a custom route key. */
export type RouteKey = '$connect' | '$disconnect' | '$default' | (string & {})

/**
 * Trusted fields from a Lambda event's `requestContext`. Only AWS can invoke the function, so
 * these are authoritative; HTTP mode never has them.
 */
export interface LambdaContext {
  readonly connectionId: string | null
  readonly routeKey: string | null
  readonly eventType: 'CONNECT' | 'DISCONNECT' | 'MESSAGE' | null
  readonly apiId: string | null
  readonly stage: string | null
  readonly domainName: string | null
  readonly sourceIp: string | null
  readonly userAgent: string | null
  readonly requestId: string | null
  readonly disconnectStatusCode: number | null
}

/** A request as the core sees it. */
export interface GatewayRequest {
  /**
   * The route: in HTTP mode the mount's last path segment (`connect`, `disconnect`, `default`,
   * or a custom route name) mapped to a `RouteKey` (or, with the `routeKeyHeader` option, the
   * header the integration maps from `context.routeKey`); in Lambda mode `requestContext.routeKey`.
   */
  readonly route: RouteKey
  /** Upper-case HTTP method (`POST` for every API Gateway integration call). */
  readonly method: string
  /** Header names lower-cased; repeated headers joined with `, ` as in the Fetch API. */
  readonly headers: Readonly<Record<string, string>>
  /** Query string parameters (first value wins for repeated names). */
  readonly query: Readonly<Record<string, string>>
  /** The raw body; `null` when there is none. Strings are measured as UTF-8. */
  readonly body: Uint8Array | string | null
  /** The TCP peer address the adapter saw, if any (the last proxy hop in HTTP mode). */
  readonly peer?: string
  /**
   * Present only for Lambda events translated by `gateway.lambda(event)`. `gateway.handle`
   * refuses a request that carries it, so an HTTP caller cannot claim Lambda provenance.
   */
  readonly lambda?: LambdaContext
}

/** A response as the core produces it. */
export interface GatewayResponse {
  readonly status: number
  /** Response headers; the record may be shared between responses and frozen: copy to change it. */
  readonly headers: Readonly<Record<string, string>>
  /** The body text (JSON for every response the core generates), or `null` for none. */
  readonly body: string | null
}

/** Maps a mount path segment to a route key: `connect` → `$connect` and so on. */
export function routeFromSegment(segment: string): RouteKey {
  switch (segment) {
    case 'connect':
      return '$connect'
    case 'disconnect':
      return '$disconnect'
    case 'default':
      return '$default'
    default:
      return segment
  }
}

/**
 * Copies the string-valued entries of a record (Lambda headers or query parameters, where values
 * may be `null`) into a null-prototype object, lower-casing names when `lowerCaseNames` is set.
 */
export function stringEntries(
  record: Readonly<Record<string, string | null | undefined>> | null | undefined,
  lowerCaseNames: boolean,
): Record<string, string> {
  const out: Record<string, string> = Object.create(null)
  if (!record) return out
  for (const name of Object.keys(record)) {
    const value = record[name]
    if (typeof value === 'string') out[lowerCaseNames ? name.toLowerCase() : name] = value
  }
  return out
}
