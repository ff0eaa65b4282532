/**
 * `startLocalGateway`: a local stand-in for an API Gateway WebSocket API on one HTTP server.
 * It owns the connection lifecycle (call `$connect` before completing the upgrade, forward
 * messages by route, send `$disconnect` exactly once per connection on every kind of close),
 * API Gateway's limits (message size, binary frames, idle and maximum-duration timeouts), and
 * the `@connections` management API on the same port.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { type RawData, WebSocket, WebSocketServer } from 'ws'
import {
  type Backend,
  type BackendCall,
  type BackendResult,
  type ClientConnection,
  isSuccess,
} from './backend.js'
import type { TimerHandle } from './clock.js'
import { checkHandshake, describeClient, rejectHandshake } from './handshake.js'
import { createHttpBackend } from './http-backend.js'
import { newGatewayId } from './ids.js'
import { createLambdaBackend } from './lambda-backend.js'
import { createManagementApi } from './management-api.js'
import { type GatewayLogEntry, type LocalGatewayOptions, normalizeOptions } from './options.js'
import { createRouteSelector } from './route-selection.js'

/** A running local gateway. */
export interface LocalGateway {
  /** The WebSocket URL clients connect to: `ws://<host>:<port>/<stage>`. */
  readonly url: string
  /**
   * The `@connections` endpoint: `http://<host>:<port>/<stage>`. Pass it as the `endpoint` of
   * `awsConnections` or of an `ApiGatewayManagementApiClient`.
   */
  readonly managementEndpoint: string
  /** The port actually listened on. */
  readonly port: number
  /**
   * Closes every client connection with 1001 "Going away" (sending `$disconnect` for each,
   * best-effort), fails handshakes still waiting on `$connect`, waits up to `closeTimeoutMs` for
   * clients and last backend calls, then aborts what remains and stops listening. Resolves when
   * the server and every socket are closed. Idempotent: later calls return the same promise.
   */
  close(): Promise<void>
}

/** One open client connection. */
interface LiveConnection {
  readonly client: ClientConnection
  readonly socket: WebSocket
  lastActiveAt: number
  timer: TimerHandle | undefined
  /** Set when the gateway decided to close (or ws failed the connection): the code it sent. */
  closing: { code: number; reason: string } | undefined
  /** Resolves once the socket closed and `$disconnect` was dispatched. */
  readonly closed: Promise<void>
  markClosed: () => void
}

/** Reason text used in `$disconnect` when the client gave none. */
function defaultCloseReason(code: number): string {
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

/** Formats a host for a URL (brackets around IPv6 literals; wildcard binds become loopback). */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

/**
 * Starts a local API Gateway WebSocket API. Resolves once listening. Rejects with `TypeError`
 * for invalid options (before anything listens), and with the listen error (after releasing
 * everything) when the port cannot be bound. Only ever connects to the configured HTTP backend.
 */
export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const opts = normalizeOptions(options)
  const { clock, stage, idleTimeoutMs, maxDurationMs, maxMessageBytes } = opts
  const selectRoute = createRouteSelector(opts.routeSelectionExpression, opts.routes)

  const backend: Backend =
    opts.integration.type === 'http'
      ? createHttpBackend({
          baseUrl: opts.integration.baseUrl,
          apiId: opts.apiId,
          secret: opts.secret,
          timeoutMs: opts.integrationTimeoutMs,
          maxSockets: opts.maxIntegrationSockets,
          maxResponseBytes: maxMessageBytes,
          clock,
        })
      : createLambdaBackend({
          handler: opts.integration.handler,
          stage,
          apiId: opts.apiId,
          timeoutMs: opts.integrationTimeoutMs,
          clock,
        })

  const log = (entry: GatewayLogEntry): void => {
    try {
      opts.onLog?.(entry)
    } catch {
      // A faulty logger must not break connections.
    }
  }

  /** Open connections addressable through `@connections` (closing ones are removed). */
  const connections = new Map<string, LiveConnection>()
  /** Every socket not yet closed, including closing ones. */
  const sockets = new Set<LiveConnection>()
  /** Handshakes waiting on `$connect`. */
  const pendingUpgrades = new Set<Duplex>()
  /** Backend calls in flight, awaited (bounded) by `close()`. */
  const inflight = new Set<Promise<unknown>>()
  /** The subprotocol each accepted handshake's `$connect` answer selected. */
  const selectedProtocol = new WeakMap<IncomingMessage, string | undefined>()
  let isClosing = false
  let closePromise: Promise<void> | undefined
  let fallbackHost = ''

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inflight.add(promise)
    const forget = (): void => {
      inflight.delete(promise)
    }
    promise.then(forget, forget)
    return promise
  }
  const newCall = (): BackendCall => ({ requestId: newGatewayId(), requestTimeEpoch: clock.now() })

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: maxMessageBytes,
    handleProtocols(protocols, req) {
      const chosen = selectedProtocol.get(req)
      return chosen !== undefined && protocols.has(chosen) ? chosen : false
    },
  })

  function dispatchDisconnect(client: ClientConnection, close: { code: number; reason: string }) {
    track(backend.disconnect(client, newCall(), close)).then(
      (result) =>
        log({
          kind: 'integration',
          route: '$disconnect',
          connectionId: client.connectionId,
          status: result.status,
        }),
      (error: Error) =>
        log({
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
      closeConnection(conn, 1001, 'Going away')
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

  function closeConnection(conn: LiveConnection, code: number, reason: string): void {
    if (conn.closing) return
    conn.closing = { code, reason }
    stopTracking(conn)
    conn.socket.close(code, reason)
  }

  function onOpen(socket: WebSocket, client: ClientConnection): void {
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
    if (isClosing) closeConnection(conn, 1001, 'Going away')
    else schedule(conn)
  }

  function onClose(conn: LiveConnection, code: number, reason: string): void {
    stopTracking(conn)
    sockets.delete(conn)
    const close = conn.closing ?? { code, reason: reason || defaultCloseReason(code) }
    log({ kind: 'close', connectionId: conn.client.connectionId, ...close })
    dispatchDisconnect(conn.client, close)
    conn.markClosed()
  }

  function reply(conn: LiveConnection, text: string): void {
    if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(text)
  }

  function onMessage(conn: LiveConnection, data: RawData, isBinary: boolean): void {
    if (conn.closing) return
    if (isBinary) {
      closeConnection(conn, 1003, 'Binary frames are not supported')
      return
    }
    conn.lastActiveAt = clock.now()
    const bytes = rawToBuffer(data)
    const text = bytes.toString('utf8')
    const route = selectRoute(text)
    const call = newCall()
    const { connectionId } = conn.client
    track(backend.message(conn.client, call, { route, text, bytes })).then(
      (result: BackendResult) => {
        const tooBig = result.body !== null && Buffer.byteLength(result.body) > maxMessageBytes
        log({ kind: 'integration', route, connectionId, status: result.status })
        if (!isSuccess(result.status) || tooBig) {
          reply(conn, internalErrorFrame(connectionId, call.requestId))
        } else if (result.body !== null) {
          reply(conn, result.body)
        }
      },
      (error: Error) => {
        log({ kind: 'integration', route, connectionId, status: null, error: error.message })
        reply(conn, internalErrorFrame(connectionId, call.requestId))
      },
    )
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // A client resetting mid-handshake must not crash the process.
    socket.on('error', () => socket.destroy())
    if (isClosing) return rejectHandshake(socket, 503)
    const url = req.url ?? '/'
    const queryAt = url.indexOf('?')
    const path = queryAt >= 0 ? url.slice(0, queryAt) : url
    if (path !== `/${stage}` && path !== `/${stage}/`) return rejectHandshake(socket, 404)
    const malformed = checkHandshake(req)
    if (malformed !== null) return rejectHandshake(socket, malformed)

    const client = describeClient(req, newGatewayId(), clock.now(), fallbackHost)
    pendingUpgrades.add(socket)
    let result: BackendResult
    try {
      result = await track(backend.connect(client, newCall()))
    } catch (error) {
      pendingUpgrades.delete(socket)
      const message = error instanceof Error ? error.message : String(error)
      log({
        kind: 'integration',
        route: '$connect',
        connectionId: client.connectionId,
        status: null,
        error: message,
      })
      return rejectHandshake(socket, 500)
    }
    pendingUpgrades.delete(socket)
    log({
      kind: 'integration',
      route: '$connect',
      connectionId: client.connectionId,
      status: result.status,
    })
    if (!isSuccess(result.status)) return rejectHandshake(socket, result.status)
    if (isClosing || socket.destroyed || !socket.writable) {
      // The backend accepted a connection that will never open: tell it, as for any close.
      rejectHandshake(socket, 503)
      dispatchDisconnect(client, { code: 1006, reason: defaultCloseReason(1006) })
      return
    }
    const protocol = result.headers['sec-websocket-protocol']?.split(',')[0]?.trim()
    selectedProtocol.set(req, protocol)
    wss.handleUpgrade(req, socket, head, (ws) => onOpen(ws, client))
  }

  const server = createServer(
    createManagementApi({
      stage,
      maxPayloadBytes: maxMessageBytes,
      onCall: (method, connectionId, status) =>
        log({ kind: 'management', method, connectionId, status }),
      connections: {
        post(connectionId, data) {
          const conn = connections.get(connectionId)
          if (!conn || conn.closing || conn.socket.readyState !== WebSocket.OPEN) {
            return Promise.resolve(false)
          }
          return new Promise<boolean>((resolve) => {
            conn.socket.send(data, { binary: false }, (error) => resolve(!error))
          })
        },
        describe(connectionId) {
          const conn = connections.get(connectionId)
          if (!conn) return undefined
          return {
            connectedAt: conn.client.connectedAt,
            lastActiveAt: conn.lastActiveAt,
            sourceIp: conn.client.sourceIp,
            userAgent: conn.client.userAgent,
          }
        },
        delete(connectionId) {
          const conn = connections.get(connectionId)
          if (!conn || conn.closing) return false
          closeConnection(conn, 1000, '')
          return true
        },
      },
    }),
  )
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void onUpgrade(req, socket, head)
  })
  server.on('clientError', (_error, socket) => {
    socket.destroy()
  })

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await backend.destroy()
    throw error
  }

  const { port } = server.address() as AddressInfo
  const host = urlHost(opts.host)
  fallbackHost = `${host}:${port}`

  async function shutdown(): Promise<void> {
    isClosing = true
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of pendingUpgrades) socket.destroy()
    const open = [...sockets]
    for (const conn of open) closeConnection(conn, 1001, 'Going away')
    await within(opts.closeTimeoutMs, Promise.all(open.map((c) => c.closed)))
    for (const conn of sockets) conn.socket.terminate()
    await within(opts.closeTimeoutMs, Promise.all(open.map((c) => c.closed)))
    await within(opts.closeTimeoutMs, Promise.allSettled([...inflight]))
    await backend.destroy()
    server.closeAllConnections()
    await serverClosed
  }

  return Object.freeze({
    url: `ws://${host}:${port}/${stage}`,
    managementEndpoint: `http://${host}:${port}/${stage}`,
    port,
    close() {
      closePromise ??= shutdown()
      return closePromise
    },
  })
}

/** Waits for `promise` or `ms` of real time, whichever comes first (shutdown must end). */
function within(ms: number, promise: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    const done = (): void => {
      clearTimeout(timer)
      resolve()
    }
    promise.then(done, done)
  })
}
