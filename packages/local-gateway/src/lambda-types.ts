/**
 * The Lambda proxy (AWS_PROXY) event and result shapes that the local gateway's Lambda mode
 * produces and consumes. They mirror the real API Gateway WebSocket events in
 * `fixtures/lambda/` (copied from the shared samples): which keys exist on which event type is part of the contract.
 */

/** `requestContext.identity`: `userAgent` only when the client sent a `User-Agent`. */
export interface LambdaIdentity {
  readonly userAgent?: string
  readonly sourceIp: string
}

/** `requestContext` of every WebSocket event. */
export interface LambdaRequestContext {
  readonly routeKey: string
  /** MESSAGE events only. */
  readonly messageId?: string
  /** DISCONNECT events only. */
  readonly disconnectStatusCode?: number
  readonly eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT'
  readonly extendedRequestId: string
  /** `dd/Mon/yyyy:HH:mm:ss +0000` */
  readonly requestTime: string
  readonly messageDirection: 'IN'
  /** DISCONNECT events only. */
  readonly disconnectReason?: string
  readonly stage: string
  readonly connectedAt: number
  readonly requestTimeEpoch: number
  readonly identity: LambdaIdentity
  readonly requestId: string
  readonly domainName: string
  readonly connectionId: string
  readonly apiId: string
}

/**
 * A WebSocket event as API Gateway delivers it to Lambda. CONNECT carries the handshake headers
 * (client casing) and the query string when there was one; MESSAGE carries no headers and a
 * `body`; DISCONNECT carries API Gateway's synthetic headers.
 */
export interface LambdaWebSocketEvent {
  readonly headers?: Readonly<Record<string, string>>
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[]>>
  readonly queryStringParameters?: Readonly<Record<string, string>>
  readonly multiValueQueryStringParameters?: Readonly<Record<string, readonly string[]>>
  readonly requestContext: LambdaRequestContext
  /** MESSAGE events only: the text frame as received. */
  readonly body?: string
  readonly isBase64Encoded: false
}

/** What a proxy handler returns. */
export interface LambdaWebSocketResult {
  readonly statusCode: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | null
}

/**
 * A Lambda handler as the local gateway invokes it: one event in, one result out. A rejection
 * counts as a failed invocation (500 on `$connect`, an `Internal server error` frame on a
 * message).
 */
export type LambdaWebSocketHandler = (event: LambdaWebSocketEvent) => Promise<LambdaWebSocketResult>
