import { createServer, type IncomingMessage } from 'node:http'
import type { Gateway } from '@apigw-ws/core'
import { adapterOf, type BodyRead } from '@apigw-ws/core/adapter'

/** Reads at most `maxBytes` bytes; stops (keeping nothing) past the cap or at the deadline. */
function readBody(req: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = () => req.removeAllListeners('data').pause()
    signal.addEventListener('abort', () => reject(stop() && new Error('deadline')), { once: true })
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) resolve(stop() && 'too-large')
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(size === 0 ? null : Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** A plain node:http server for API Gateway's HTTP integration at /ws/<route>. */
export function serveIntegration(gateway: Gateway) {
  const adapter = adapterOf(gateway)
  return createServer(async (req, res) => {
    const headers: Record<string, string> = Object.create(null)
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = (req.rawHeaders[i] as string).toLowerCase()
      const value = req.rawHeaders[i + 1] as string
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value
    }
    // The head is checked first; readBody runs only for a request that passed it.
    const response = await adapter.serve(
      { method: req.method ?? 'GET', url: req.url ?? '/', headers },
      (maxBytes, signal) => readBody(req, maxBytes, signal),
    )
    // A body left unread is not drained: close the connection instead.
    if (!req.complete) res.setHeader('connection', 'close')
    res.writeHead(response.status, response.headers).end(response.body ?? undefined)
  })
}
