/**
 * The HTTP integration (API Gateway's HTTP_PROXY): each event becomes a `POST` to
 * `baseUrl/connect`, `baseUrl/disconnect`, `baseUrl/default` or `baseUrl/<route>`, carrying the
 * headers API Gateway adds. Requests go through `node:http`/`node:https` with a keep-alive
 * agent, never `fetch`, which would add headers (`sec-fetch-mode`, `accept-language`, …) that
 * API Gateway does not send. The only host ever contacted is the one in `baseUrl`. Calls go
 * through a bounded pool: at most `maxSockets` run at once, each on a keep-alive socket, and the
 * rest wait first come, first served (`call-queue.ts`), so a burst reuses warm connections in
 * arrival order. The integration timeout covers the whole call, the wait for a socket included.
 */
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type {
  Backend,
  BackendCall,
  BackendResult,
  ClientConnection,
  InboundMessage,
} from './backend.js'
import { createCallQueue, type QueuedCall } from './call-queue.js'
import type { GatewayClock } from './clock.js'
import { newTraceId } from './ids.js'

/** Settings of the HTTP integration. */
export interface HttpBackendOptions {
  readonly baseUrl: URL
  readonly apiId: string
  readonly secret: { readonly header: string; readonly value: string } | undefined
  readonly timeoutMs: number
  /** Calls (and keep-alive sockets) in flight at most; later calls wait in arrival order. */
  readonly maxSockets: number
  /** Larger response bodies fail the call. */
  readonly maxResponseBytes: number
  readonly clock: GatewayClock
}

/** Handshake headers API Gateway forwards on `$connect` only. */
const CONNECT_HEADER = /^(origin|cookie|user-agent|sec-websocket-[a-z0-9-]+)$/i

/** Creates the HTTP integration. See `Backend` for the failure contract. */
export function createHttpBackend(options: HttpBackendOptions): Backend {
  const { baseUrl, apiId, secret, timeoutMs, maxResponseBytes, clock } = options
  const isHttps = baseUrl.protocol === 'https:'
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets,
    maxFreeSockets: options.maxSockets,
    noDelay: true,
  }
  const agent = isHttps ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions)
  const send = isHttps ? httpsRequest : httpRequest
  const queue = createCallQueue(options.maxSockets)
  // URL keeps IPv6 literals bracketed; the socket layer wants them bare.
  const hostname = baseUrl.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = baseUrl.port === '' ? (isHttps ? 443 : 80) : Number(baseUrl.port)
  const basePath = baseUrl.pathname
  let destroyed = false
  const inflight = new Set<() => void>()

  function commonHeaders(client: ClientConnection, now: number): Record<string, string> {
    const headers: Record<string, string> = {
      Host: baseUrl.host,
      connectionId: client.connectionId,
      'X-Amzn-Apigateway-Api-Id': apiId,
      'X-Amzn-Trace-Id': newTraceId(now),
      'X-Forwarded-For': client.forwardedFor,
      'X-Forwarded-Port': '443',
      'X-Forwarded-Proto': 'https',
    }
    if (secret) headers[secret.header] = secret.value
    return headers
  }

  function post(
    path: string,
    headers: Record<string, string | string[]>,
    body: Buffer | null,
  ): Promise<BackendResult> {
    if (destroyed) return Promise.reject(new Error('the gateway is closed'))
    headers['Content-Length'] = String(body?.length ?? 0)
    return new Promise<BackendResult>((resolve, reject) => {
      let settled = false
      let req: ClientRequest | undefined
      let queued: QueuedCall | undefined
      let release: (() => void) | undefined
      const fail = (error: Error): void => {
        // A started call ends through its request's 'error' event; a waiting one ends here.
        if (req) req.destroy(error)
        else finish(error)
      }
      const abort = (): void => fail(new Error('the gateway is closed'))
      const finish = (error: Error | null, result?: BackendResult): void => {
        if (settled) return
        settled = true
        clock.clearTimeout(timer)
        inflight.delete(abort)
        queued?.cancel()
        release?.()
        if (error) reject(error)
        else if (result) resolve(result)
      }
      const timer = clock.setTimeout(
        () => fail(new Error(`integration timeout after ${timeoutMs} ms`)),
        timeoutMs,
      )
      inflight.add(abort)
      queued = queue.enqueue((done) => {
        release = done
        const started = send({
          agent,
          hostname,
          port,
          method: 'POST',
          path,
          headers,
          setHost: false,
        })
        req = started
        started.on('error', (err) => finish(err))
        started.on('response', (res: IncomingMessage) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > maxResponseBytes) {
              started.destroy(new Error(`integration response over ${maxResponseBytes} bytes`))
              return
            }
            chunks.push(chunk)
          })
          res.on('error', (err) => finish(err))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            finish(null, {
              status: res.statusCode ?? 500,
              headers: flattenHeaders(res.headers),
              body: text.length > 0 ? text : null,
            })
          })
        })
        started.end(body ?? undefined)
      })
    })
  }

  return {
    connect(client: ClientConnection, call: BackendCall) {
      // The client's handshake headers first, then API Gateway's own, which win on a clash.
      const forwarded = new Map<string, { name: string; values: string[] }>()
      for (const [name, value] of client.headers) {
        if (!CONNECT_HEADER.test(name)) continue
        const key = name.toLowerCase()
        const entry = forwarded.get(key)
        if (entry) entry.values.push(value)
        else forwarded.set(key, { name, values: [value] })
      }
      const headers: Record<string, string> = {}
      for (const [key, { name, values }] of forwarded) {
        headers[name] = values.join(key === 'cookie' ? '; ' : ', ')
      }
      Object.assign(headers, commonHeaders(client, call.requestTimeEpoch))
      const path = `${basePath}/connect${client.query ? `?${client.query}` : ''}`
      return post(path, headers, null)
    },

    message(client: ClientConnection, call: BackendCall, message: InboundMessage) {
      const headers = commonHeaders(client, call.requestTimeEpoch)
      headers['User-Agent'] = `AmazonAPIGateway_${apiId}`
      const segment = message.route === '$default' ? 'default' : encodeURIComponent(message.route)
      return post(`${basePath}/${segment}`, headers, message.bytes)
    },

    disconnect(client: ClientConnection, call: BackendCall) {
      const headers = commonHeaders(client, call.requestTimeEpoch)
      headers['User-Agent'] = `AmazonAPIGateway_${apiId}`
      return post(`${basePath}/disconnect`, headers, null)
    },

    destroy() {
      if (!destroyed) {
        destroyed = true
        for (const abort of [...inflight]) abort()
      }
      const sockets = [agent.sockets, agent.freeSockets].flatMap((byHost) =>
        Object.values(byHost).flatMap((list) => list ?? []),
      )
      agent.destroy()
      return Promise.all(
        sockets.map((socket) =>
          socket.closed
            ? undefined
            : new Promise<void>((resolve) => socket.once('close', () => resolve())),
        ),
      ).then(() => undefined)
    },
  }
}

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}
