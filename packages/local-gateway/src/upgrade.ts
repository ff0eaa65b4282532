/**
 * The WebSocket handshake as API Gateway runs it: the `$connect` call goes to the backend
 * before the upgrade completes; a non-2xx answer (or a failed call, as 500) fails the handshake
 * with that status, and a 2xx completes it with the subprotocol the backend selected. A
 * connection accepted by the backend that can no longer open is reported with `$disconnect`.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { type BackendResult, isSuccess } from './backend.js'
import { type ClientConnections, defaultCloseReason } from './client-connections.js'
import type { GatewayState } from './gateway-state.js'
import { checkHandshake, describeClient, rejectHandshake } from './handshake.js'
import { newGatewayId } from './ids.js'

/** Creates the `upgrade` listener of the gateway's HTTP server. */
export function createUpgradeHandler(
  state: GatewayState,
  clients: ClientConnections,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void> {
  const { opts, backend, pendingUpgrades } = state
  const { clock, stage, maxMessageBytes } = opts
  /** The subprotocol each accepted handshake's `$connect` answer selected. */
  const selectedProtocol = new WeakMap<IncomingMessage, string | undefined>()
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

  return async function onUpgrade(req, socket, head) {
    // A client resetting mid-handshake must not crash the process.
    socket.on('error', () => socket.destroy())
    if (state.isClosing) return rejectHandshake(socket, 503)
    const url = req.url ?? '/'
    const queryAt = url.indexOf('?')
    const path = queryAt >= 0 ? url.slice(0, queryAt) : url
    if (path !== `/${stage}` && path !== `/${stage}/`) return rejectHandshake(socket, 404)
    const malformed = checkHandshake(req)
    if (malformed !== null) return rejectHandshake(socket, malformed)

    const client = describeClient(req, newGatewayId(), clock.now(), state.fallbackHost)
    pendingUpgrades.add(socket)
    let result: BackendResult
    try {
      result = await state.track(backend.connect(client, state.newCall()))
    } catch (error) {
      pendingUpgrades.delete(socket)
      const message = error instanceof Error ? error.message : String(error)
      state.log({
        kind: 'integration',
        route: '$connect',
        connectionId: client.connectionId,
        status: null,
        error: message,
      })
      return rejectHandshake(socket, 500)
    }
    pendingUpgrades.delete(socket)
    state.log({
      kind: 'integration',
      route: '$connect',
      connectionId: client.connectionId,
      status: result.status,
    })
    if (!isSuccess(result.status)) return rejectHandshake(socket, result.status)
    if (state.isClosing || socket.destroyed || !socket.writable) {
      // The backend accepted a connection that will never open: tell it, as for any close.
      rejectHandshake(socket, 503)
      clients.dispatchDisconnect(client, { code: 1006, reason: defaultCloseReason(1006) })
      return
    }
    const protocol = result.headers['sec-websocket-protocol']?.split(',')[0]?.trim()
    selectedProtocol.set(req, protocol)
    wss.handleUpgrade(req, socket, head, (ws) => clients.open(ws, client))
  }
}
