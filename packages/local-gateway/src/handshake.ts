/**
 * The HTTP side of a WebSocket handshake before it is upgraded: checking that the request is a
 * well-formed RFC 6455 opening handshake (so the backend is never called for junk), capturing
 * what API Gateway would know about the client, and failing a handshake with a plain HTTP status
 * written on the raw socket.
 */
import { type IncomingMessage, STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ClientConnection } from './backend.js'

// Hop-by-hop headers never reach an integration.
const HOP_BY_HOP = new Set([
  'connection',
  'upgrade',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
])
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/

/**
 * Returns the HTTP status that rejects a malformed opening handshake (400, or 426 for an
 * unsupported `Sec-WebSocket-Version`), or `null` when it is well formed.
 */
export function checkHandshake(req: IncomingMessage): number | null {
  if (req.method !== 'GET') return 400
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return 400
  const key = req.headers['sec-websocket-key']
  if (typeof key !== 'string' || !WEBSOCKET_KEY.test(key.trim())) return 400
  if (req.headers['sec-websocket-version'] !== '13') return 426
  return null
}

/** Removes the `::ffff:` prefix Node puts on IPv4 peers of dual-stack sockets. */
export function peerAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? ''
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

/** Captures the connection facts API Gateway would hand its integration. */
export function describeClient(
  req: IncomingMessage,
  connectionId: string,
  connectedAt: number,
  fallbackHost: string,
): ClientConnection {
  const headers: [string, string][] = []
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? ''
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers.push([name, raw[i + 1] ?? ''])
  }
  const sourceIp = peerAddress(req)
  const xff = req.headers['x-forwarded-for']
  const clientForwardedFor = (Array.isArray(xff) ? xff.join(', ') : (xff ?? '')).trim()
  const url = req.url ?? '/'
  const queryAt = url.indexOf('?')
  return {
    connectionId,
    connectedAt,
    sourceIp,
    userAgent: req.headers['user-agent'],
    forwardedFor: clientForwardedFor ? `${clientForwardedFor}, ${sourceIp}` : sourceIp,
    domainName: req.headers.host ?? fallbackHost,
    headers,
    query: queryAt >= 0 ? url.slice(queryAt + 1) : '',
  }
}

/**
 * Fails a handshake: writes `HTTP/1.1 <status>` with an empty body and closes the socket.
 * Statuses outside 200–599 (or a 2xx, which cannot fail a handshake) become 500.
 */
export function rejectHandshake(socket: Duplex, status: number): void {
  const code = Number.isInteger(status) && status >= 300 && status <= 599 ? status : 500
  if (!socket.writable) {
    socket.destroy()
    return
  }
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Length: 0\r\n\r\n',
    () => socket.destroy(),
  )
}
