/**
 * `startLocalGateway`: a local stand-in for an API Gateway WebSocket API on one HTTP server.
 * This file wires the parts and owns the server's life (listen, close): the client connections
 * (`client-connections.ts`: message forwarding, timeouts, `$disconnect` exactly once per
 * connection on every kind of close), the handshake (`upgrade.ts`: `$connect` before completing
 * the upgrade), and the `@connections` management API (`management-api.ts`) on the same port.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocket } from 'ws'
import type { Backend } from './backend.js'
import { type ClientConnections, createClientConnections } from './client-connections.js'
import { createGatewayState, type GatewayState } from './gateway-state.js'
import { createHttpBackend } from './http-backend.js'
import { createLambdaBackend } from './lambda-backend.js'
import { createManagementApi } from './management-api.js'
import { type LocalGatewayOptions, type NormalizedOptions, normalizeOptions } from './options.js'
import { createUpgradeHandler } from './upgrade.js'

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
  const state = createGatewayState(opts, createBackend(opts))
  const clients = createClientConnections(state)
  const onUpgrade = createUpgradeHandler(state, clients)

  const server = createServer(managementApi(state, clients))
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
    await state.backend.destroy()
    throw error
  }

  const { port } = server.address() as AddressInfo
  const host = urlHost(opts.host)
  state.fallbackHost = `${host}:${port}`
  let closePromise: Promise<void> | undefined

  async function shutdown(): Promise<void> {
    state.isClosing = true
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of state.pendingUpgrades) socket.destroy()
    const open = [...state.sockets]
    for (const conn of open) clients.close(conn, 1001, 'Going away')
    await within(opts.closeTimeoutMs, Promise.all(open.map((c) => c.closed)))
    for (const conn of state.sockets) conn.socket.terminate()
    await within(opts.closeTimeoutMs, Promise.all(open.map((c) => c.closed)))
    await within(opts.closeTimeoutMs, Promise.allSettled([...state.inflight]))
    await state.backend.destroy()
    server.closeAllConnections()
    await serverClosed
  }

  return Object.freeze({
    url: `ws://${host}:${port}/${opts.stage}`,
    managementEndpoint: `http://${host}:${port}/${opts.stage}`,
    port,
    close() {
      closePromise ??= shutdown()
      return closePromise
    },
  })
}

/** The integration the options name: the HTTP backend or the Lambda handler. */
function createBackend(opts: NormalizedOptions): Backend {
  return opts.integration.type === 'http'
    ? createHttpBackend({
        baseUrl: opts.integration.baseUrl,
        apiId: opts.apiId,
        secret: opts.secret,
        timeoutMs: opts.integrationTimeoutMs,
        maxSockets: opts.maxIntegrationSockets,
        maxResponseBytes: opts.maxMessageBytes,
        clock: opts.clock,
      })
    : createLambdaBackend({
        handler: opts.integration.handler,
        stage: opts.stage,
        apiId: opts.apiId,
        timeoutMs: opts.integrationTimeoutMs,
        clock: opts.clock,
      })
}

/** The `@connections` API over the gateway's open connections. */
function managementApi(state: GatewayState, clients: ClientConnections) {
  const { connections, log } = state
  return createManagementApi({
    stage: state.opts.stage,
    maxPayloadBytes: state.opts.maxMessageBytes,
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
        clients.close(conn, 1000, '')
        return true
      },
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
