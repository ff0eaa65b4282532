/**
 * The seam between the gateway's WebSocket side and its integration: what the gateway knows
 * about a client connection, and the three calls it makes on the backend (`$connect`, a
 * message route, `$disconnect`). The HTTP and Lambda integrations implement `Backend`.
 */

/** Facts about one client connection, captured once from its WebSocket handshake. */
export interface ClientConnection {
  readonly connectionId: string
  /** Epoch ms at which the handshake arrived (`requestContext.connectedAt`). */
  readonly connectedAt: number
  /** The TCP peer address (IPv4-mapped IPv6 unwrapped). */
  readonly sourceIp: string
  /** The client's `User-Agent`, when it sent one. */
  readonly userAgent: string | undefined
  /** `X-Forwarded-For` as API Gateway builds it: the client's own value, then `sourceIp`. */
  readonly forwardedFor: string
  /** The client's `Host` header (`requestContext.domainName`). */
  readonly domainName: string
  /** Handshake headers in the client's casing and order, hop-by-hop headers removed. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>
  /** The raw query string without `?`; empty when the URL had none. */
  readonly query: string
}

/** Per-call identifiers. */
export interface BackendCall {
  readonly requestId: string
  /** Epoch ms of the call (`requestContext.requestTimeEpoch`). */
  readonly requestTimeEpoch: number
}

/** A client text message. */
export interface InboundMessage {
  /** The selected route key (`$default` or a custom key). */
  readonly route: string
  readonly text: string
  /** The same message as received, UTF-8. */
  readonly bytes: Buffer
}

/** The backend's answer: a status, lower-cased headers, and the body text (null when empty). */
export interface BackendResult {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | null
}

/**
 * An integration. Every method rejects when no answer was obtained (network error, timeout,
 * a throwing handler, a malformed result) and resolves with whatever status the backend gave
 * otherwise. Calls may run concurrently, like API Gateway's.
 */
export interface Backend {
  connect(client: ClientConnection, call: BackendCall): Promise<BackendResult>
  message(
    client: ClientConnection,
    call: BackendCall,
    message: InboundMessage,
  ): Promise<BackendResult>
  disconnect(
    client: ClientConnection,
    call: BackendCall,
    close: { readonly code: number; readonly reason: string },
  ): Promise<BackendResult>
  /**
   * Aborts in-flight calls, makes later calls reject at once, and resolves when every socket the
   * integration opened is closed. Idempotent.
   */
  destroy(): Promise<void>
}

/** Whether `status` is a 2xx success. */
export function isSuccess(status: number): boolean {
  return status >= 200 && status <= 299
}
