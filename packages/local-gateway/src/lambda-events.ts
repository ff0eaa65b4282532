/**
 * Builds Lambda proxy events exactly shaped like API Gateway's WebSocket events (see
 * `fixtures/lambda/` (copied from the shared samples)): which keys exist on which event type, their order, header casing,
 * `requestTime` format and identifiers. Pure functions of their inputs.
 */
import type { BackendCall, ClientConnection } from './backend.js'
import { newTraceId } from './ids.js'
import type { LambdaIdentity, LambdaRequestContext, LambdaWebSocketEvent } from './lambda-types.js'
import { formatRequestTime } from './request-time.js'

/** What every event needs besides the connection and the call. */
export interface EventSettings {
  readonly stage: string
  readonly apiId: string
}

// API Gateway replaces these with its own values on the CONNECT event.
const REPLACED = new Set([
  'x-amzn-trace-id',
  'x-forwarded-for',
  'x-forwarded-port',
  'x-forwarded-proto',
])

function identity(client: ClientConnection): LambdaIdentity {
  return client.userAgent === undefined
    ? { sourceIp: client.sourceIp }
    : { userAgent: client.userAgent, sourceIp: client.sourceIp }
}

function tail(client: ClientConnection, call: BackendCall, settings: EventSettings) {
  return {
    stage: settings.stage,
    connectedAt: client.connectedAt,
    requestTimeEpoch: call.requestTimeEpoch,
    identity: identity(client),
    requestId: call.requestId,
    domainName: client.domainName,
    connectionId: client.connectionId,
    apiId: settings.apiId,
  }
}

/** The CONNECT event: handshake headers (sorted, client casing) and the query when present. */
export function connectEvent(
  client: ClientConnection,
  call: BackendCall,
  settings: EventSettings,
): LambdaWebSocketEvent {
  const grouped = new Map<string, { name: string; values: string[] }>()
  const add = (name: string, value: string): void => {
    const key = name.toLowerCase()
    const entry = grouped.get(key)
    if (entry) entry.values.push(value)
    else grouped.set(key, { name, values: [value] })
  }
  for (const [name, value] of client.headers) {
    if (!REPLACED.has(name.toLowerCase())) add(name, value)
  }
  add('X-Amzn-Trace-Id', newTraceId(call.requestTimeEpoch))
  add('X-Forwarded-For', client.forwardedFor)
  add('X-Forwarded-Port', '443')
  add('X-Forwarded-Proto', 'https')

  const headers: Record<string, string> = {}
  const multiValueHeaders: Record<string, string[]> = {}
  const names = [...grouped.values()].sort((a, b) =>
    a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1,
  )
  for (const { name, values } of names) {
    headers[name] = values[values.length - 1] ?? ''
    multiValueHeaders[name] = values
  }

  const requestContext: LambdaRequestContext = {
    routeKey: '$connect',
    eventType: 'CONNECT',
    extendedRequestId: call.requestId,
    requestTime: formatRequestTime(call.requestTimeEpoch),
    messageDirection: 'IN',
    ...tail(client, call, settings),
  }

  const query = parseQuery(client.query)
  return query
    ? {
        headers,
        multiValueHeaders,
        queryStringParameters: query.single,
        multiValueQueryStringParameters: query.multi,
        requestContext,
        isBase64Encoded: false,
      }
    : { headers, multiValueHeaders, requestContext, isBase64Encoded: false }
}

/** A MESSAGE event: no headers at all, the text as `body`, a fresh `messageId`. */
export function messageEvent(
  client: ClientConnection,
  call: BackendCall,
  settings: EventSettings,
  message: { readonly route: string; readonly text: string; readonly messageId: string },
): LambdaWebSocketEvent {
  return {
    requestContext: {
      routeKey: message.route,
      messageId: message.messageId,
      eventType: 'MESSAGE',
      extendedRequestId: call.requestId,
      requestTime: formatRequestTime(call.requestTimeEpoch),
      messageDirection: 'IN',
      ...tail(client, call, settings),
    },
    body: message.text,
    isBase64Encoded: false,
  }
}

/** A DISCONNECT event with API Gateway's synthetic headers and the close code and reason. */
export function disconnectEvent(
  client: ClientConnection,
  call: BackendCall,
  settings: EventSettings,
  close: { readonly code: number; readonly reason: string },
): LambdaWebSocketEvent {
  return {
    headers: { Host: client.domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' },
    multiValueHeaders: {
      Host: [client.domainName],
      'x-api-key': [''],
      'X-Forwarded-For': [''],
      'x-restapi': [''],
    },
    requestContext: {
      routeKey: '$disconnect',
      disconnectStatusCode: close.code,
      eventType: 'DISCONNECT',
      extendedRequestId: call.requestId,
      requestTime: formatRequestTime(call.requestTimeEpoch),
      messageDirection: 'IN',
      disconnectReason: close.reason,
      ...tail(client, call, settings),
    },
    isBase64Encoded: false,
  }
}

function parseQuery(
  raw: string,
): { single: Record<string, string>; multi: Record<string, string[]> } | undefined {
  if (raw.length === 0) return undefined
  const single: Record<string, string> = {}
  const multi: Record<string, string[]> = {}
  for (const [name, value] of new URLSearchParams(raw)) {
    single[name] = value
    if (Object.hasOwn(multi, name)) multi[name]?.push(value)
    else multi[name] = [value]
  }
  return Object.keys(single).length > 0 ? { single, multi } : undefined
}
