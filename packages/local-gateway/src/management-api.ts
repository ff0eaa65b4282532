/**
 * The `@connections` management API at `/<stage>/@connections/<connectionId>`: POST sends the
 * body to the client as a text frame, GET describes the connection, DELETE closes it. Errors
 * use API Gateway's wire format (status, `x-amzn-errortype`, JSON `{"message"}`) so the AWS SDK
 * raises `GoneException`, `PayloadTooLargeException`, … as it does against AWS. SigV4
 * `Authorization` headers are accepted without verification.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** What GET reports about a connection. */
export interface ConnectionDescription {
  readonly connectedAt: number
  readonly lastActiveAt: number
  readonly sourceIp: string
  readonly userAgent: string | undefined
}

/** The gateway's side of the management API. */
export interface ManagedConnections {
  /** Sends one text frame; resolves false when the connection is unknown or no longer open. */
  post(connectionId: string, data: Buffer): Promise<boolean>
  describe(connectionId: string): ConnectionDescription | undefined
  /** Starts closing with 1000; false when the connection is unknown or already closing. */
  delete(connectionId: string): boolean
}

/** Settings of the management API. */
export interface ManagementApiOptions {
  readonly stage: string
  readonly maxPayloadBytes: number
  readonly connections: ManagedConnections
  readonly onCall?: (method: string, connectionId: string, status: number) => void
}

/**
 * Creates the request listener for every non-upgrade HTTP request on the gateway's port. It
 * answers the management API, `426` on the WebSocket URL itself, and `404` elsewhere. Never
 * throws; a request that fails mid-body is dropped.
 */
export function createManagementApi(
  options: ManagementApiOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { stage, maxPayloadBytes, connections, onCall } = options
  const prefix = `/${stage}/@connections/`

  return function managementApi(req, res) {
    const url = req.url ?? '/'
    const queryAt = url.indexOf('?')
    const path = queryAt >= 0 ? url.slice(0, queryAt) : url

    if (!path.startsWith(prefix)) {
      drain(req)
      if (path === `/${stage}` || path === `/${stage}/`) {
        return sendError(res, 426, 'UpgradeRequiredException', 'Upgrade Required')
      }
      return sendError(res, 404, 'NotFoundException', 'Not Found')
    }
    const encoded = path.slice(prefix.length)
    let connectionId: string
    try {
      connectionId = decodeURIComponent(encoded)
    } catch {
      drain(req)
      return sendError(res, 400, 'BadRequestException', 'Invalid connection id')
    }
    if (encoded.length === 0 || encoded.includes('/')) {
      drain(req)
      return sendError(res, 404, 'NotFoundException', 'Not Found')
    }
    const done = (status: number): void => onCall?.(req.method ?? '', connectionId, status)

    switch (req.method) {
      case 'POST':
        return handlePost(req, res, connectionId, done)
      case 'GET': {
        drain(req)
        const info = connections.describe(connectionId)
        if (!info) return gone(res, done)
        const identity =
          info.userAgent === undefined
            ? { sourceIp: info.sourceIp }
            : { sourceIp: info.sourceIp, userAgent: info.userAgent }
        sendJson(res, 200, {
          connectedAt: new Date(info.connectedAt).toISOString(),
          identity,
          lastActiveAt: new Date(info.lastActiveAt).toISOString(),
        })
        return done(200)
      }
      case 'DELETE': {
        drain(req)
        if (!connections.delete(connectionId)) return gone(res, done)
        res.writeHead(204, { 'x-amzn-RequestId': randomUUID() }).end()
        return done(204)
      }
      default:
        drain(req)
        res.setHeader('Allow', 'DELETE, GET, POST')
        return sendError(res, 405, 'MethodNotAllowedException', 'Method Not Allowed')
    }
  }

  function handlePost(
    req: IncomingMessage,
    res: ServerResponse,
    connectionId: string,
    done: (status: number) => void,
  ): void {
    const declared = Number(req.headers['content-length'] ?? '0')
    if (declared > maxPayloadBytes) {
      tooLarge(req, res, done)
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let refused = false
    req.on('data', (chunk: Buffer) => {
      if (refused) return
      size += chunk.length
      if (size > maxPayloadBytes) {
        refused = true
        tooLarge(req, res, done)
        return
      }
      chunks.push(chunk)
    })
    req.on('error', () => res.destroy())
    req.on('end', () => {
      if (refused) return
      connections.post(connectionId, Buffer.concat(chunks)).then(
        (delivered) => {
          if (!delivered) return gone(res, done)
          res.writeHead(200, { 'x-amzn-RequestId': randomUUID(), 'Content-Length': '0' }).end()
          done(200)
        },
        () => {
          sendError(res, 500, 'InternalServerErrorException', 'Internal server error')
          done(500)
        },
      )
    })
  }

  function tooLarge(req: IncomingMessage, res: ServerResponse, done: (status: number) => void) {
    // Refuse without reading the rest: close the connection once the answer is out.
    res.setHeader('Connection', 'close')
    sendError(res, 413, 'PayloadTooLargeException', `Message exceeds ${maxPayloadBytes} bytes`)
    res.on('finish', () => req.destroy())
    done(413)
  }
}

function gone(res: ServerResponse, done: (status: number) => void): void {
  sendError(res, 410, 'GoneException', 'Connection is gone')
  done(410)
}

function sendJson(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body)
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    'x-amzn-RequestId': randomUUID(),
  }
  if (errorType) headers['x-amzn-ErrorType'] = errorType
  res.writeHead(status, headers).end(text)
}

function sendError(res: ServerResponse, status: number, errorType: string, message: string): void {
  sendJson(res, status, { message }, errorType)
}

function drain(req: IncomingMessage): void {
  req.resume()
}
