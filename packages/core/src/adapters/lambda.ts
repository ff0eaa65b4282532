/**
 * The Lambda adapter: an API Gateway WebSocket proxy event → `GatewayRequest`, and a
 * `GatewayResponse` → the result object API Gateway expects. Every field of the event may be
 * missing or an explicit `null` (older events carry nulls); header names keep the client's
 * casing and are lower-cased here. `requestContext` is trusted: only AWS can invoke the function.
 */
import { type Rejection, reject } from '../rejections.js'
import {
  type GatewayRequest,
  type GatewayResponse,
  type LambdaContext,
  stringEntries,
} from '../request.js'

/** The parts of an API Gateway WebSocket event this library reads. */
export interface WebSocketEvent {
  readonly headers?: Readonly<Record<string, string | null | undefined>> | null
  readonly queryStringParameters?: Readonly<Record<string, string | null | undefined>> | null
  readonly body?: string | null
  readonly isBase64Encoded?: boolean | null
  readonly requestContext?: {
    readonly routeKey?: string | null
    readonly eventType?: string | null
    readonly connectionId?: string | null
    readonly apiId?: string | null
    readonly stage?: string | null
    readonly domainName?: string | null
    readonly requestId?: string | null
    readonly disconnectStatusCode?: number | null
    readonly identity?: {
      readonly sourceIp?: string | null
      readonly userAgent?: string | null
    } | null
  } | null
}

/** The result API Gateway expects from a WebSocket Lambda integration. */
export interface WebSocketResult {
  readonly statusCode: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

function decodeBase64(value: string): Uint8Array | null {
  try {
    const binary = atob(value)
    const bytes = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
    return bytes
  } catch {
    return null
  }
}

/** Translates an event; resolves a rejection when it has no route or an undecodable body. */
export function fromLambdaEvent(
  event: WebSocketEvent | null | undefined,
): GatewayRequest | Rejection {
  const context = event?.requestContext ?? null
  const routeKey = text(context?.routeKey)
  if (
    event === null ||
    event === undefined ||
    context === null ||
    routeKey === null ||
    routeKey === ''
  ) {
    return reject('ROUTE_UNKNOWN', 'not a websocket event')
  }
  const eventType = text(context.eventType)
  const lambda: LambdaContext = {
    connectionId: text(context.connectionId),
    routeKey,
    eventType:
      eventType === 'CONNECT' || eventType === 'DISCONNECT' || eventType === 'MESSAGE'
        ? eventType
        : null,
    apiId: text(context.apiId),
    stage: text(context.stage),
    domainName: text(context.domainName),
    sourceIp: text(context.identity?.sourceIp),
    userAgent: text(context.identity?.userAgent),
    requestId: text(context.requestId),
    disconnectStatusCode:
      typeof context.disconnectStatusCode === 'number' ? context.disconnectStatusCode : null,
  }
  let body: Uint8Array | string | null = text(event.body)
  if (body !== null && event.isBase64Encoded === true) {
    body = decodeBase64(body)
    if (body === null) return reject('BODY_ENCODING_INVALID', 'base64')
  }
  return {
    route: routeKey,
    method: 'POST',
    headers: stringEntries(event.headers, true),
    query: stringEntries(event.queryStringParameters, false),
    body,
    lambda,
  }
}

/** Translates a response into the Lambda result (body omitted when there is none). */
export function toLambdaResult(response: GatewayResponse): WebSocketResult {
  return response.body === null
    ? { statusCode: response.status, headers: { ...response.headers } }
    : { statusCode: response.status, headers: { ...response.headers }, body: response.body }
}
