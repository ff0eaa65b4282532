/**
 * The life of an open client connection: tracking it (addressable through `@connections` until
 * it starts closing), its idle and maximum-duration timers, forwarding its text messages to the
 * backend by route (a non-2xx or failed call answers with API Gateway's "Internal server error"
 * frame; a 2xx body is a two-way reply), closing it, and sending `$disconnect` exactly once when
 * its socket has closed, whoever closed it.
 */
import { type RawData, WebSocket } from 'ws'
import { type BackendResult, type ClientConnection, isSuccess } from './backend.js'
import type { GatewayState, LiveConnection } from './gateway-state.js'
import { createRouteSelector } from './route-selection.js'

/** Reason text used in `$disconnect` when the client gave none. */
export function defaultCloseReason(code: number): string {
  if (code === 1005) return 'Client-side close frame status not set'
  if (code === 1006) return 'Connection closed abnormally'
  return ''
}

/** Close code and reason for a connection ws had to fail. */
function closeForError(error: Error & { code?: string }): { code: number; reason: string } {
  switch (error.code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
      return { code: 1009, reason: 'Message too big' }
    case 'WS_ERR_INVALID_UTF8':
      return { code: 1007, reason: 'Invalid frame payload data' }
    default:
      return { code: 1002, reason: 'Protocol error' }
  }
}

/** The frame API Gateway sends a client when the integration of its message failed. */
function internalErrorFrame(connectionId: string, requestId: string): string {
  return `{"message": "Internal server error", "connectionId":"${connectionId}", "requestId":"${requestId}"}`
}

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

/** What the rest of the gateway does with client connections. */
export interface ClientConnections {
  /** Starts tracking a socket whose upgrade completed. */
  open(socket: WebSocket, client: ClientConnection): void
  /** Closes a connection with `code` and `reason` (once; later calls are no-ops). */
  close(conn: LiveConnection, code: number, reason: string): void
  /** Sends `$disconnect` for `client` (best-effort, logged). */
  dispatchDisconnect(client: ClientConnection, close: { code: number; reason: string }): void
}

/** Creates the connection handling of the gateway with `state`. */
export function createClientConnections(state: GatewayState): ClientConnections {
  const { opts, backend, connections, sockets } = state
  const { clock, idleTimeoutMs, maxDurationMs, maxMessageBytes } = opts
  const selectRoute = createRouteSelector(opts.routeSelectionExpression, opts.routes)

  function dispatchDisconnect(client: ClientConnection, close: { code: number; reason: string }) {
    state.track(backend.disconnect(client, state.newCall(), close)).then(
      (result) =>
        state.log({
          kind: 'integration',
          route: '$disconnect',
          connectionId: client.connectionId,
          status: result.status,
        }),
      (error: Error) =>
        state.log({
          kind: 'integration',
          route: '$disconnect',
          connectionId: client.connectionId,
          status: null,
          error: error.message,
        }),
    )
  }

  function schedule(conn: LiveConnection): void {
    const due = Math.min(conn.lastActiveAt + idleTimeoutMs, conn.client.connectedAt + maxDurationMs)
    conn.timer = clock.setTimeout(() => onTimer(conn), Math.max(0, due - clock.now()))
  }

  function onTimer(conn: LiveConnection): void {
    conn.timer = undefined
    if (conn.closing) return
    const now = clock.now()
    if (
      now >= conn.lastActiveAt + idleTimeoutMs ||
      now >= conn.client.connectedAt + maxDurationMs
    ) {
      close(conn, 1001, 'Going away')
    } else {
      schedule(conn)
    }
  }

  function stopTracking(conn: LiveConnection): void {
    if (connections.get(conn.client.connectionId) === conn) {
      connections.delete(conn.client.connectionId)
    }
    if (conn.timer !== undefined) {
      clock.clearTimeout(conn.timer)
      conn.timer = undefined
    }
  }

  function close(conn: LiveConnection, code: number, reason: string): void {
    if (conn.closing) return
    conn.closing = { code, reason }
    stopTracking(conn)
    conn.socket.close(code, reason)
  }

  function open(socket: WebSocket, client: ClientConnection): void {
    let markClosed = (): void => {}
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve
    })
    const conn: LiveConnection = {
      client,
      socket,
      lastActiveAt: client.connectedAt,
      timer: undefined,
      closing: undefined,
      closed,
      markClosed,
    }
    sockets.add(conn)
    connections.set(client.connectionId, conn)
    socket.on('message', (data, isBinary) => onMessage(conn, data, isBinary))
    socket.on('error', (error: Error & { code?: string }) => {
      // ws has already started closing; remember the code it sent for `$disconnect`.
      if (!conn.closing) conn.closing = closeForError(error)
      stopTracking(conn)
    })
    socket.on('close', (code, reason) => onClose(conn, code, reason.toString('utf8')))
    if (state.isClosing) close(conn, 1001, 'Going away')
    else schedule(conn)
  }

  function onClose(conn: LiveConnection, code: number, reason: string): void {
    stopTracking(conn)
    sockets.delete(conn)
    const closing = conn.closing ?? { code, reason: reason || defaultCloseReason(code) }
    state.log({ kind: 'close', connectionId: conn.client.connectionId, ...closing })
    dispatchDisconnect(conn.client, closing)
    conn.markClosed()
  }

  function reply(conn: LiveConnection, text: string): void {
    if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(text)
  }

  function onMessage(conn: LiveConnection, data: RawData, isBinary: boolean): void {
    if (conn.closing) return
    if (isBinary) {
      close(conn, 1003, 'Binary frames are not supported')
      return
    }
    conn.lastActiveAt = clock.now()
    const bytes = rawToBuffer(data)
    const text = bytes.toString('utf8')
    const route = selectRoute(text)
    const call = state.newCall()
    const { connectionId } = conn.client
    state.track(backend.message(conn.client, call, { route, text, bytes })).then(
      (result: BackendResult) => {
        const tooBig = result.body !== null && Buffer.byteLength(result.body) > maxMessageBytes
        state.log({ kind: 'integration', route, connectionId, status: result.status })
        if (!isSuccess(result.status) || tooBig) {
          reply(conn, internalErrorFrame(connectionId, call.requestId))
        } else if (result.body !== null) {
          reply(conn, result.body)
        }
      },
      (error: Error) => {
        state.log({ kind: 'integration', route, connectionId, status: null, error: error.message })
        reply(conn, internalErrorFrame(connectionId, call.requestId))
      },
    )
  }

  return { open, close, dispatchDisconnect }
}
