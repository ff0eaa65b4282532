/**
 * Real `ws` clients for the end-to-end tests, with every socket event turned into a promise that
 * rejects after a bounded time: tests wait for frames, closes and handshake results instead of
 * sleeping, and a missing event fails the test with a message saying what never arrived.
 */
import { WebSocket } from 'ws'

/** How long any single wait lasts before it fails the test. */
export const WAIT_MS = 10_000

/** How a socket ended. */
export interface CloseInfo {
  readonly code: number
  readonly reason: string
}

/** An open client socket and everything it has received. */
export interface TestSocket {
  readonly socket: WebSocket
  /** Every text frame received so far, in order. */
  readonly frames: readonly string[]
  /** Resolves the next frame not yet returned by `next`/`nextJson` (bounded wait). */
  next(timeoutMs?: number): Promise<string>
  /** `next`, parsed as JSON. */
  nextJson<T = Record<string, unknown>>(timeoutMs?: number): Promise<T>
  /** Sends `data` as a JSON text frame (strings are sent as they are). */
  send(data: unknown): void
  /** Resolves when the socket has closed (bounded wait). */
  closed(timeoutMs?: number): Promise<CloseInfo>
  /** Closes the socket (if still open) and resolves once it is closed. */
  close(): Promise<void>
}

/** A handshake that did not end in 101. */
export class HandshakeError extends Error {
  constructor(readonly status: number) {
    super(`WebSocket handshake failed with HTTP ${status}`)
    this.name = 'HandshakeError'
  }
}

/** Rejects after `ms` with `what` in the message, unless `promise` settles first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Opens a socket; resolves once it is open, rejects with a {@link HandshakeError} carrying the
 * HTTP status when the handshake is refused, or with the socket error (also when the handshake
 * takes longer than `handshakeTimeoutMs`).
 */
export function openSocket(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  handshakeTimeoutMs = WAIT_MS,
): Promise<TestSocket> {
  const socket = new WebSocket(url, {
    headers: { ...headers },
    handshakeTimeout: handshakeTimeoutMs,
  })
  const frames: string[] = []
  let read = 0
  const waiters: (() => void)[] = []
  let closeInfo: CloseInfo | null = null
  const closeWaiters: ((info: CloseInfo) => void)[] = []

  socket.on('message', (data, isBinary) => {
    frames.push(
      isBinary ? `<binary ${Buffer.from(data as Buffer).byteLength} bytes>` : String(data),
    )
    for (const wake of waiters.splice(0)) wake()
  })
  socket.on('close', (code, reason) => {
    closeInfo = { code, reason: reason.toString() }
    for (const wake of closeWaiters.splice(0)) wake(closeInfo)
    for (const wake of waiters.splice(0)) wake()
  })

  const next = async (timeoutMs = WAIT_MS): Promise<string> => {
    const deadline = Date.now() + timeoutMs
    while (read >= frames.length) {
      if (closeInfo !== null)
        throw new Error(`socket closed (${closeInfo.code}) before a frame arrived`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for a frame`)
      await within(new Promise<void>((resolve) => waiters.push(resolve)), left, 'a frame')
    }
    return frames[read++] as string
  }

  const closed = (timeoutMs = WAIT_MS): Promise<CloseInfo> =>
    closeInfo !== null
      ? Promise.resolve(closeInfo)
      : within(new Promise<CloseInfo>((resolve) => closeWaiters.push(resolve)), timeoutMs, 'close')

  const client: TestSocket = {
    socket,
    frames,
    next,
    nextJson: async <T>(timeoutMs?: number) => JSON.parse(await next(timeoutMs)) as T,
    send: (data) => socket.send(typeof data === 'string' ? data : JSON.stringify(data)),
    closed,
    async close() {
      if (closeInfo === null) {
        if (socket.readyState === WebSocket.CONNECTING) socket.terminate()
        else socket.close()
        await closed()
      }
    },
  }

  return new Promise<TestSocket>((resolve, reject) => {
    socket.once('open', () => resolve(client))
    socket.once('unexpected-response', (_request, response) => {
      reject(new HandshakeError(response.statusCode ?? 0))
      response.resume()
      socket.terminate()
    })
    // Persistent: a late error (after the promise settled) must not become an uncaught one.
    socket.on('error', (error) => reject(error))
  })
}

/** Attempts a handshake; resolves 101 when it opened (then closes it) or the refusal status. */
export async function handshakeStatus(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  handshakeTimeoutMs = WAIT_MS,
): Promise<number> {
  try {
    const client = await openSocket(url, headers, handshakeTimeoutMs)
    await client.close()
    return 101
  } catch (error) {
    if (error instanceof HandshakeError) return error.status
    throw error
  }
}

/**
 * Polls `probe` until it returns something other than `undefined`, for state that lives in
 * another process (a sandbox Lambda writing to a shared database) and announces nothing.
 * Bounded: rejects after `timeoutMs` naming `what`.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
