/**
 * Translation between Node's HTTP objects and core's plain request/response values: a header
 * copy with Fetch semantics (so core sees what `gateway.fetch` would), a body reader that
 * honours the size cap and the body deadline, and a writer for core's responses. Nothing here
 * decides anything.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GatewayResponse } from '@apigw-ws/core'

/**
 * The request headers as the Fetch API would present them: names lower-cased, repeated headers
 * joined with `, ` in arrival order. Built from `rawHeaders` because Node's `headers` object
 * silently drops repeats of some headers (`user-agent`, `host`…), which would let a request show
 * core one value while another hop saw two.
 */
export function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = Object.create(null)
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase()
    const value = raw[i + 1] as string
    const previous = headers[name]
    headers[name] = previous === undefined ? value : `${previous}, ${value}`
  }
  return headers
}

/**
 * The body reader for `adapterOf(gateway).serve`: reads the request stream, stopping (pausing
 * the stream, keeping nothing) as soon as more than `max` bytes arrived (`'too-large'`) or when
 * `signal` aborts (the body deadline passed). Rejects when the client goes away first or the
 * deadline passes. A declared `Content-Length` over the cap never gets here: the gateway refuses
 * it from the head.
 */
export function readBody(
  req: IncomingMessage,
  max: number,
  signal: AbortSignal,
): Promise<Uint8Array | null | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const finish = (): void => {
      settled = true
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onAborted)
      req.off('close', onClose)
      signal.removeEventListener('abort', onDeadline)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > max) {
        req.pause()
        chunks.length = 0
        finish()
        resolve('too-large')
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      if (settled) return
      finish()
      if (size === 0) resolve(null)
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size))
    }
    const fail = (reason: string): void => {
      if (settled) return
      req.pause()
      chunks.length = 0
      finish()
      reject(new Error(reason))
    }
    const onAborted = (): void => fail('request aborted')
    const onClose = (): void => {
      if (!req.readableEnded) fail('request aborted')
    }
    const onDeadline = (): void => fail('body deadline passed')
    if (signal.aborted) return onDeadline()
    signal.addEventListener('abort', onDeadline, { once: true })
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onAborted)
    req.on('close', onClose)
  })
}

/**
 * Writes core's response: status, every header (a `Set-Cookie` is appended, so cookies the app
 * already set survive), and the body. With `closeConnection` the socket is closed after the
 * response, for requests whose body was left unread: Node would otherwise read and discard all
 * of it to reuse the connection.
 */
export function writeResponse(
  res: ServerResponse,
  response: GatewayResponse,
  closeConnection: boolean,
): void {
  res.statusCode = response.status
  for (const name of Object.keys(response.headers)) {
    const value = response.headers[name] as string
    if (name.toLowerCase() === 'set-cookie') res.appendHeader('set-cookie', value)
    else res.setHeader(name, value)
  }
  if (closeConnection) res.setHeader('connection', 'close')
  res.end(response.body ?? undefined)
}
