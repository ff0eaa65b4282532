/**
 * Test support (not published): a local HTTP server speaking API Gateway's `@connections` wire
 * protocol, so the real AWS SDK can be exercised without AWS. It serves POST/GET/DELETE on
 * `/<base path>/@connections/<percent-encoded id>`, answers errors the way API Gateway does (an
 * `x-amzn-errortype` header plus a JSON body) unless a reply asks for a bare status, records
 * every request, and counts requests in flight so tests can check concurrency bounds.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request as the server saw it. */
export interface RecordedRequest {
  readonly method: string
  /** Everything before `/@connections/`, without the leading slash (the stage, or base path). */
  readonly basePath: string
  /** The connection id, percent-decoded. */
  readonly connectionId: string
  readonly body: Uint8Array
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** 1 for the first request for this method and connection id, 2 for the next, … */
  readonly attempt: number
}

/** How the server answers one request. */
export interface Reply {
  readonly status: number
  /** Sent as `x-amzn-errortype`; omit for a bare status without the header. */
  readonly errorType?: string
  /** JSON body; defaults to `{ message }` for errors and nothing for 200; `null` for none. */
  readonly body?: unknown
  /** Milliseconds to hold the response (overrides the server's `latencyMs`). */
  readonly delayMs?: number
}

/** API Gateway's replies, as the SDK expects to parse them. */
export const replies = {
  ok: { status: 200 },
  gone: { status: 410, errorType: 'GoneException' },
  bareGone: { status: 410 },
  forbidden: { status: 403, errorType: 'ForbiddenException' },
  tooLarge: { status: 413, errorType: 'PayloadTooLargeException' },
  throttled: { status: 429, errorType: 'LimitExceededException' },
  serverError: { status: 500, errorType: 'InternalServerErrorException' },
} as const satisfies Record<string, Reply>

export interface ConnectionsServerOptions {
  /** Chooses the reply; `undefined` means success. Defaults to success for every request. */
  readonly respond?: (request: RecordedRequest) => Reply | undefined
  /** Milliseconds every response is held, so concurrent requests overlap (default 0). */
  readonly latencyMs?: number
  /** Keep every request in `requests` (default true; benchmarks turn it off). */
  readonly record?: boolean
}

export interface ConnectionsServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  /** The SDK endpoint for a base path: `http://127.0.0.1:<port>/<basePath>`. */
  endpoint(basePath: string): string
  readonly requests: readonly RecordedRequest[]
  /** Requests received so far (recorded or not). */
  readonly count: number
  /** Requests being handled right now. */
  readonly inFlight: number
  /** The highest `inFlight` seen since start or `reset`. */
  readonly maxInFlight: number
  reset(): void
  close(): Promise<void>
}

const ROUTE = /^\/(.*)\/@connections\/([^/?]+)$/

/** Starts a server on 127.0.0.1 with an OS-assigned port. */
export async function startConnectionsServer(
  options: ConnectionsServerOptions = {},
): Promise<ConnectionsServer> {
  const respond = options.respond ?? (() => undefined)
  const latencyMs = options.latencyMs ?? 0
  const record = options.record ?? true
  const requests: RecordedRequest[] = []
  const attempts = new Map<string, number>()
  let count = 0
  let inFlight = 0
  let maxInFlight = 0

  const server = createServer((req, res) => {
    count++
    inFlight++
    if (inFlight > maxInFlight) maxInFlight = inFlight
    res.on('close', () => {
      inFlight--
    })
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => handle(req, res, Buffer.concat(chunks)))
  })

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const match = ROUTE.exec(req.url ?? '')
    const method = req.method ?? 'GET'
    if (match === null || !['POST', 'GET', 'DELETE'].includes(method)) {
      write(res, { status: 404, errorType: 'NotFoundException' }, 0)
      return
    }
    const connectionId = decodeURIComponent(match[2] ?? '')
    const key = `${method} ${connectionId}`
    const attempt = (attempts.get(key) ?? 0) + 1
    attempts.set(key, attempt)
    const request: RecordedRequest = {
      method,
      basePath: match[1] ?? '',
      connectionId,
      body: new Uint8Array(body),
      headers: req.headers,
      attempt,
    }
    if (record) requests.push(request)
    const reply = respond(request) ?? replyFor(request)
    write(res, reply, reply.delayMs ?? latencyMs)
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`

  return {
    origin,
    endpoint: (basePath) => `${origin}/${basePath}`,
    requests,
    get count() {
      return count
    },
    get inFlight() {
      return inFlight
    },
    get maxInFlight() {
      return maxInFlight
    },
    reset() {
      requests.length = 0
      attempts.clear()
      count = 0
      maxInFlight = inFlight
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

// GetConnection's wire format uses camelCase JSON names (the SDK maps them to `ConnectedAt`, …).
function replyFor(request: RecordedRequest): Reply {
  if (request.method !== 'GET') return replies.ok
  return {
    status: 200,
    body: {
      connectedAt: '2024-05-01T12:00:00.000Z',
      lastActiveAt: '2024-05-01T12:05:00.000Z',
      identity: { sourceIp: '203.0.113.7', userAgent: 'test-agent/1.0' },
    },
  }
}

function write(res: ServerResponse, reply: Reply, delayMs: number): void {
  const send = () => {
    const headers: Record<string, string> = { 'x-amzn-requestid': 'local-request' }
    let payload = ''
    if (reply.errorType !== undefined) headers['x-amzn-errortype'] = reply.errorType
    const body =
      reply.body !== undefined
        ? reply.body
        : reply.status >= 300
          ? { message: `status ${reply.status}` }
          : null
    if (body !== null) {
      payload = JSON.stringify(body)
      headers['content-type'] = 'application/json'
    }
    headers['content-length'] = String(Buffer.byteLength(payload))
    res.writeHead(reply.status, headers)
    res.end(payload)
  }
  if (delayMs > 0) setTimeout(send, delayMs)
  else send()
}
