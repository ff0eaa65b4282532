/**
 * Request builders faithful to API Gateway, for unit-testing handlers and checks without a
 * network. `httpRequests` builds what an HTTP_PROXY integration delivers (the `connectionid`
 * mapping, `X-Amzn-Apigateway-Api-Id`, `X-Amzn-Trace-Id`, `X-Forwarded-For` with the client's
 * address appended right-most, `User-Agent: AmazonAPIGateway_<apiId>` except on `$connect`, the
 * integration secret); `lambdaEvents` builds AWS_PROXY events shaped like real ones.
 */
import type { WebSocketEvent } from '../adapters/lambda.js'
import type { GatewayRequest } from '../request.js'

/** Settings shared by every request a builder makes. */
export interface ApiGatewaySettings {
  /** API id. Default `testapi123`. */
  readonly apiId?: string
  /** Stage. Default `test`. */
  readonly stage?: string
  /** Domain the client connected to. Default `<apiId>.execute-api.us-east-1.amazonaws.com`. */
  readonly domainName?: string
  /** The client's address as API Gateway sees it. Default `203.0.113.10`. */
  readonly clientIp?: string
  /** The integration secret to add (HTTP mode), or none. */
  readonly secret?: string
  /** Header carrying the secret. Default `x-apigw-secret`. */
  readonly secretHeader?: string
}

/** What a `$connect` carries from the client. */
export interface ConnectInit {
  readonly connectionId?: string
  readonly token?: string
  readonly channel?: string
  /** Browser `Origin`; `null` sends none. Default `https://app.example.com`. */
  readonly origin?: string | null
  readonly cookie?: string
  /** An `X-Forwarded-For` the client itself sent (API Gateway appends to it). */
  readonly clientForwardedFor?: string
  /** Overrides `clientIp` for this request. */
  readonly clientIp?: string
  /** Extra query parameters. */
  readonly query?: Readonly<Record<string, string>>
  /** Extra or replaced headers (lower-case names). */
  readonly headers?: Readonly<Record<string, string>>
}

/** A message: an object is serialized as JSON; strings and bytes are sent as they are. */
export interface MessageInit {
  readonly connectionId: string
  readonly body: unknown
  /** The route key API Gateway selected. Default `$default`. */
  readonly route?: string
  readonly headers?: Readonly<Record<string, string>>
}

let sequence = 0

/** A fresh id in API Gateway's format (16 characters of base64 ending in `=`). */
export function connectionIdFor(seed?: string): string {
  const n = (sequence++).toString(36)
  const base = `${seed ?? 'conn'}${n}`.replace(/[^A-Za-z0-9]/g, '')
  return `${base.padEnd(15, 'A').slice(0, 15)}=`
}

function traceId(): string {
  return `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${'0'.repeat(24)}`
}

function bodyOf(body: unknown): string | Uint8Array {
  return typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)
}

/** Builders for HTTP_PROXY integration requests. */
export function httpRequests(settings: ApiGatewaySettings = {}) {
  const apiId = settings.apiId ?? 'testapi123'
  const clientIp = settings.clientIp ?? '203.0.113.10'
  const secretHeader = settings.secretHeader ?? 'x-apigw-secret'
  const common = (
    connectionId: string,
    ip: string,
    clientXff?: string,
  ): Record<string, string> => ({
    connectionid: connectionId,
    'x-amzn-apigateway-api-id': apiId,
    'x-amzn-trace-id': traceId(),
    'x-forwarded-for': clientXff === undefined ? ip : `${clientXff}, ${ip}`,
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
    ...(settings.secret === undefined ? {} : { [secretHeader]: settings.secret }),
  })
  return {
    /** A `$connect` as the backend receives it. */
    connect(init: ConnectInit = {}): GatewayRequest {
      const connectionId = init.connectionId ?? connectionIdFor('connect')
      const origin = init.origin === undefined ? 'https://app.example.com' : init.origin
      const query: Record<string, string> = { ...init.query }
      if (init.token !== undefined) query.token = init.token
      if (init.channel !== undefined) query.channel = init.channel
      return {
        route: '$connect',
        method: 'POST',
        headers: {
          ...common(connectionId, init.clientIp ?? clientIp, init.clientForwardedFor),
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-version': '13',
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/122.0',
          ...(origin === null ? {} : { origin }),
          ...(init.cookie === undefined ? {} : { cookie: init.cookie }),
          ...init.headers,
        },
        query,
        body: null,
      }
    },
    /** A message (`$default` or a custom route). */
    message(init: MessageInit): GatewayRequest {
      return {
        route: init.route ?? '$default',
        method: 'POST',
        headers: {
          ...common(init.connectionId, clientIp),
          'user-agent': `AmazonAPIGateway_${apiId}`,
          'content-type': 'application/json',
          ...init.headers,
        },
        query: {},
        body: bodyOf(init.body),
      }
    },
    /** A `$disconnect`. */
    disconnect(init: {
      readonly connectionId: string
      readonly headers?: Readonly<Record<string, string>>
    }): GatewayRequest {
      return {
        route: '$disconnect',
        method: 'POST',
        headers: {
          ...common(init.connectionId, clientIp),
          'user-agent': `AmazonAPIGateway_${apiId}`,
          ...init.headers,
        },
        query: {},
        body: null,
      }
    },
  }
}

function requestTime(ms: number): string {
  const d = new Date(ms)
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ]
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
}

/** Builders for AWS_PROXY (Lambda) events, shaped like API Gateway's. */
export function lambdaEvents(settings: ApiGatewaySettings = {}) {
  const apiId = settings.apiId ?? 'testapi123'
  const stage = settings.stage ?? 'test'
  const domainName = settings.domainName ?? `${apiId}.execute-api.us-east-1.amazonaws.com`
  const clientIp = settings.clientIp ?? '203.0.113.10'
  const context = (connectionId: string, routeKey: string, eventType: string, now: number) => ({
    routeKey,
    eventType,
    extendedRequestId: 'TXzPWFkkjoEF92g=',
    requestTime: requestTime(now),
    messageDirection: 'IN',
    stage,
    connectedAt: now,
    requestTimeEpoch: now,
    identity: { sourceIp: clientIp },
    requestId: 'TXzPWFkkjoEF92g=',
    domainName,
    connectionId,
    apiId,
  })
  return {
    /** A CONNECT event. */
    connect(init: ConnectInit = {}): WebSocketEvent {
      const connectionId = init.connectionId ?? connectionIdFor('connect')
      const origin = init.origin === undefined ? 'https://app.example.com' : init.origin
      const query: Record<string, string> = { ...init.query }
      if (init.token !== undefined) query.token = init.token
      if (init.channel !== undefined) query.channel = init.channel
      const headers: Record<string, string> = {
        Host: domainName,
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version': '13',
        'X-Amzn-Trace-Id': traceId(),
        'X-Forwarded-For': init.clientIp ?? clientIp,
        'X-Forwarded-Port': '443',
        'X-Forwarded-Proto': 'https',
        ...(origin === null ? {} : { Origin: origin }),
        ...(init.cookie === undefined ? {} : { Cookie: init.cookie }),
        ...init.headers,
      }
      const now = Date.now()
      return {
        headers,
        ...(Object.keys(query).length === 0 ? {} : { queryStringParameters: query }),
        requestContext: {
          ...context(connectionId, '$connect', 'CONNECT', now),
          identity: { sourceIp: init.clientIp ?? clientIp },
        },
        isBase64Encoded: false,
      }
    },
    /** A MESSAGE event (no headers, as API Gateway sends). */
    message(init: MessageInit): WebSocketEvent {
      const body = bodyOf(init.body)
      return {
        requestContext: {
          ...context(init.connectionId, init.route ?? '$default', 'MESSAGE', Date.now()),
        },
        body: typeof body === 'string' ? body : new TextDecoder().decode(body),
        isBase64Encoded: false,
      }
    },
    /** A DISCONNECT event. */
    disconnect(init: {
      readonly connectionId: string
      readonly statusCode?: number
    }): WebSocketEvent {
      return {
        headers: { Host: domainName, 'X-Forwarded-For': '' },
        requestContext: {
          ...context(init.connectionId, '$disconnect', 'DISCONNECT', Date.now()),
          disconnectStatusCode: init.statusCode ?? 1000,
        },
        isBase64Encoded: false,
      }
    },
  }
}
