/**
 * Test support for this package's own tests and the repository's benchmarks (not published): a
 * recording HTTP backend on 127.0.0.1 and `ws` client helpers that turn socket events into
 * promises, so tests wait on events instead of sleeping.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocket } from 'ws'

/** One request the recording backend received. */
export interface RecordedRequest {
  readonly method: string
  /** Path with query, e.g. `/ws/connect?a=1`. */
  readonly url: string
  /** The last path segment without the query: `connect`, `default`, `chat`, … */
  readonly route: string
  /** Header names as sent (casing kept), in order. */
  readonly rawHeaders: ReadonlyArray<readonly [string, string]>
  /** Lower-cased header map (Node's view). */
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

/** What the backend answers; defaults to 200 with no body. */
export interface BackendAnswer {
  readonly status?: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
}

/** A running recording backend. */
export interface RecordingBackend {
  readonly baseUrl: string
  readonly requests: RecordedRequest[]
  /** Resolves with the first recorded request (past or future) matching `predicate`. */
  waitFor(predicate: (r: RecordedRequest) => boolean): Promise<RecordedRequest>
  /** Resolves once no TCP connection to the backend is open (hangs, failing the test, if one leaks). */
  allClosed(): Promise<void>
  /** Open TCP connections to the backend right now. */
  connectionCount(): Promise<number>
  close(): Promise<void>
}

/** Starts a backend on 127.0.0.1:0 mounted at `/ws`, answering with `answer(request)`. */
export async function startRecordingBackend(
  answer: (r: RecordedRequest) => BackendAnswer | Promise<BackendAnswer> = () => ({}),
): Promise<RecordingBackend> {
  const requests: RecordedRequest[] = []
  const waiters: {
    predicate: (r: RecordedRequest) => boolean
    resolve: (r: RecordedRequest) => void
  }[] = []
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const rawHeaders: [string, string][] = []
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        rawHeaders.push([req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? ''])
      }
      const url = req.url ?? '/'
      const path = url.split('?')[0] ?? ''
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url,
        route: path.slice(path.lastIndexOf('/') + 1),
        rawHeaders,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      requests.push(recorded)
      for (const waiter of [...waiters]) {
        if (waiter.predicate(recorded)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(recorded)
        }
      }
      Promise.resolve(answer(recorded)).then(
        (a) => {
          res.writeHead(a.status ?? 200, a.headers ?? {})
          res.end(a.body ?? '')
        },
        () => {
          res.writeHead(500).end()
        },
      )
    })
  })
  let open = 0
  let idle: (() => void)[] = []
  server.on('connection', (socket) => {
    open++
    socket.on('close', () => {
      open--
      if (open === 0) {
        for (const resolve of idle) resolve()
        idle = []
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/ws`,
    requests,
    waitFor(predicate) {
      const found = requests.find(predicate)
      if (found) return Promise.resolve(found)
      return new Promise((resolve) => waiters.push({ predicate, resolve }))
    },
    allClosed: () =>
      open === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve)),
    connectionCount: () =>
      new Promise((resolve, reject) =>
        server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A connected client with its received text frames queued. */
export interface TestClient {
  readonly ws: WebSocket
  /** Resolves with the next text frame (queued ones first). */
  next(): Promise<string>
  /** Resolves with the close code and reason once the socket closed. */
  readonly closed: Promise<{ code: number; reason: string }>
}

/**
 * Opens a bare `ws` client (no queueing), for load tests; rejects when the handshake fails.
 * Resolves once open.
 */
export function openSocket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => {
      res.resume()
      ws.terminate()
      reject(
        Object.assign(new Error(`handshake failed: ${res.statusCode}`), { status: res.statusCode }),
      )
    })
    ws.once('error', reject)
  })
}

/** Options for `connect`. */
export interface ConnectOptions {
  readonly headers?: Record<string, string>
  readonly protocols?: string[]
}

/** Opens a client; rejects with `{ status }` when the handshake fails with an HTTP status. */
export function connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], {
      headers: options.headers ?? {},
      perMessageDeflate: false,
    })
    const queue: string[] = []
    const takers: ((text: string) => void)[] = []
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '<binary>' : data.toString()
      const taker = takers.shift()
      if (taker) taker(text)
      else queue.push(text)
    })
    const closed = new Promise<{ code: number; reason: string }>((resolveClose) => {
      ws.on('close', (code, reason) => resolveClose({ code, reason: reason.toString() }))
    })
    ws.on('unexpected-response', (_req, res) => {
      reject(
        Object.assign(new Error(`handshake failed: ${res.statusCode}`), { status: res.statusCode }),
      )
      res.resume()
      ws.terminate()
    })
    ws.on('error', (error) => reject(error))
    ws.on('open', () =>
      resolve({
        ws,
        closed,
        next: () => {
          const queued = queue.shift()
          if (queued !== undefined) return Promise.resolve(queued)
          return new Promise((r) => takers.push(r))
        },
      }),
    )
  })
}

/** Sends `text` and resolves once it was written to the socket. */
export function send(client: TestClient, data: string | Buffer, binary = false): Promise<void> {
  return new Promise((resolve, reject) =>
    client.ws.send(data, { binary }, (error) => (error ? reject(error) : resolve())),
  )
}

/** A raw HTTP request to the gateway (for the management API). */
export async function httpCall(
  url: string,
  init: { method: string; body?: string | Buffer; headers?: Record<string, string> },
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  const { request } = await import('node:http')
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method, headers: init.headers ?? {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(init.body)
  })
}
