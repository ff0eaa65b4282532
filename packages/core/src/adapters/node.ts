/**
 * Reading an integration request straight from Node's `http.IncomingMessage`, for adapters that
 * run on Node (Express, and Hono under `@hono/node-server`): a header copy with Fetch semantics
 * and a body reader that honours the size cap and the body deadline. Typed structurally, so core
 * needs no Node types and stays portable; nothing here decides anything.
 */
import type { BodyRead, BodyReader } from './serve.js'

/**
 * The parts of Node's `http.IncomingMessage` the readers use (an `IncomingMessage` is one).
 */
export interface NodeIncoming {
  /** Header names and values in arrival order, as received. */
  readonly rawHeaders: readonly string[]
  /** `true` once the whole message, body included, has arrived (it may still be buffered). */
  readonly complete: boolean
  /** `true` once the body has been read to its end. */
  readonly readableEnded: boolean
  /** `true` once something read from the body stream. */
  readonly readableDidRead: boolean
  /** Bytes buffered and not yet read (optional: without it the reader reads until `null`). */
  readonly readableLength?: number
  read(): Uint8Array | null
  pause(): unknown
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  on(event: 'end' | 'close', listener: () => void): unknown
  on(event: 'error', listener: (error: unknown) => void): unknown
  off(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  off(event: 'end' | 'close', listener: () => void): unknown
  off(event: 'error', listener: (error: unknown) => void): unknown
}

/**
 * The request headers as the Fetch API would present them: names lower-cased, repeated headers
 * joined with `, ` in arrival order. Built from `rawHeaders` because Node's `headers` object
 * silently drops repeats of some headers (`user-agent`, `host`…), which would let a request show
 * core one value while another hop saw two.
 */
export function nodeHeaders(req: NodeIncoming): Record<string, string> {
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

/** `true` when something already read from the body stream (a body parser ran first). */
export function nodeBodyConsumed(req: NodeIncoming): boolean {
  return req.readableDidRead || req.readableEnded
}

function joined(chunks: readonly Uint8Array[], size: number): Uint8Array | null {
  if (size === 0) return null
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

/**
 * Takes a body that has fully arrived (`req.complete`) from the stream's buffer in one go, with
 * no listener and no wait: the gateway then needs no deadline timer for it. A `read()` without a
 * size returns everything buffered, so a body is normally one call; it reads again only while
 * bytes remain (or when the stream does not say), not making the extra call that would just
 * return `null`.
 */
function takeComplete(req: NodeIncoming, max: number): BodyRead {
  const chunks: Uint8Array[] = []
  let size = 0
  for (
    let chunk = req.read();
    chunk !== null;
    chunk = req.readableLength === 0 ? null : req.read()
  ) {
    size += chunk.byteLength
    if (size > max) return 'too-large'
    chunks.push(chunk)
  }
  return joined(chunks, size)
}

/** A body read in progress that the gateway can stop (see {@link nodeBodyReader}). */
export interface StoppableRead {
  readonly result: BodyRead | Promise<BodyRead>
  /** Stops reading (pauses the stream, keeps nothing); `result` then rejects. */
  stop(): void
}

/**
 * Where a reader made by {@link nodeBodyReader} keeps its stoppable form: the gateway uses it to
 * enforce `bodyTimeoutMs` with one timer and no `AbortController`.
 */
export const STOPPABLE_READ: unique symbol = Symbol('apigw-ws stoppable body read')

/**
 * Starts reading the body: a body that has already fully arrived (`req.complete`) is taken from
 * the buffer synchronously; otherwise the stream is read, stopping (pausing the stream, keeping
 * nothing) as soon as more than `max` bytes arrived (`'too-large'`), rejecting when the client
 * goes away first or `stop` is called.
 */
function startNodeRead(req: NodeIncoming, max: number): StoppableRead {
  if (req.complete && !req.readableDidRead) {
    return { result: takeComplete(req, max), stop: () => undefined }
  }
  let fail: (reason: string) => void = () => undefined
  const result = new Promise<BodyRead>((resolve, reject) => {
    const chunks: Uint8Array[] = []
    let size = 0
    let settled = false
    const finish = (): void => {
      settled = true
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onAborted)
      req.off('close', onClose)
    }
    const onData = (chunk: Uint8Array): void => {
      size += chunk.byteLength
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
      resolve(joined(chunks, size))
    }
    fail = (reason: string): void => {
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
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onAborted)
    req.on('close', onClose)
  })
  return { result, stop: () => fail('body deadline passed') }
}

/**
 * The body reader for `adapterOf(gateway).serve` on Node. A body that has already fully arrived
 * is taken from the buffer synchronously. Otherwise it reads the stream, stopping (pausing the
 * stream, keeping nothing) as soon as more than `max` bytes arrived (`'too-large'`) or when
 * `signal` aborts (the body deadline passed), and rejects when the client goes away first. A
 * declared `Content-Length` over the cap never gets here: the gateway refuses it from the head.
 */
export function readNodeBody(
  req: NodeIncoming,
  max: number,
  signal: AbortSignal,
): BodyRead | Promise<BodyRead> {
  if (signal.aborted) return Promise.reject(new Error('body deadline passed'))
  const read = startNodeRead(req, max)
  if (!(read.result instanceof Promise)) return read.result
  signal.addEventListener('abort', read.stop, { once: true })
  const done = (): void => signal.removeEventListener('abort', read.stop)
  read.result.then(done, done)
  return read.result
}

/**
 * `readNodeBody` bound to `req`, as a `BodyReader` for `adapterOf(gateway).serve`. The gateway
 * recognises it and enforces the body deadline by stopping the read directly, which saves an
 * `AbortController` per request; any other caller gets plain `readNodeBody` behaviour.
 */
export function nodeBodyReader(req: NodeIncoming): BodyReader {
  const reader = ((max, signal) => readNodeBody(req, max, signal)) as BodyReader & {
    [STOPPABLE_READ]?: (max: number) => StoppableRead
  }
  reader[STOPPABLE_READ] = (max: number) => startNodeRead(req, max)
  return reader
}
