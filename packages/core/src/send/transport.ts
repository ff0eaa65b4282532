/**
 * The transport SPI between the sender and API Gateway's `@connections` management API. The
 * sender decides *who* receives a message; a transport only delivers one call to one connection
 * and classifies the outcome. `awsConnections` (from `@apigw-ws/core/aws`) is the production
 * transport; `capturingConnections` (from `@apigw-ws/core/testing`) records calls for tests.
 */

/** Where a connection lives: enough to pick the `@connections` endpoint and address it. */
export interface ConnectionTarget {
  readonly connectionId: string
  readonly apiId: string | null
  readonly stage: string | null
  readonly domainName: string | null
}

/**
 * A failed call, classified. `gone` means API Gateway no longer knows the connection
 * (`GoneException` or HTTP 410): the sender marks it disconnected and never retries it.
 */
export interface TransportFailure {
  readonly ok: false
  /** Stable code: the AWS error name when known (`GoneException`, `ForbiddenException`, …). */
  readonly code: string
  readonly gone: boolean
  /** Whether trying again later could succeed (throttling, 5xx, network, aborted). */
  readonly retryable: boolean
  /** HTTP status when one was received. */
  readonly status?: number
  /** HTTP attempts made, including the transport's own retries, when the transport knows. */
  readonly attempts?: number
}

/** A successful call. */
export interface TransportSuccess {
  readonly ok: true
  /** HTTP attempts made, including the transport's own retries, when the transport knows. */
  readonly attempts?: number
}

export type TransportResult = TransportSuccess | TransportFailure

/** What GetConnection reports about a live connection. */
export interface ConnectionInfo {
  readonly ok: true
  readonly connectedAt: number | null
  readonly lastActiveAt: number | null
  readonly sourceIp: string | null
  readonly userAgent: string | null
}

/**
 * Delivers calls to API Gateway. Implementations never throw for a per-connection failure:
 * they resolve a `TransportFailure`. Retries of throttling and 5xx belong to the transport (the
 * AWS SDK's standard retry mode); the sender adds no second retry layer.
 */
export interface ConnectionsTransport {
  /** PostToConnection with the already-serialized payload. */
  post(target: ConnectionTarget, data: Uint8Array, signal?: AbortSignal): Promise<TransportResult>
  /** DeleteConnection: API Gateway closes the socket and sends `$disconnect`. */
  delete(target: ConnectionTarget, signal?: AbortSignal): Promise<TransportResult>
  /** GetConnection. */
  get(target: ConnectionTarget, signal?: AbortSignal): Promise<ConnectionInfo | TransportFailure>
}
