/**
 * `createClient`: one logical connection to an apigw-ws API over API Gateway, kept alive across
 * its limits. It owns the socket lifecycle (fresh token per connect, backoff with full jitter,
 * heartbeats while quiet, make-before-break rollover before the 2-hour cut), request/reply
 * correlation by `$id`, channel re-joins, the bounded send queue and push de-duplication by
 * `$mid`. It has no dependencies: any WebSocket with the browser's `on*` interface works.
 */
import { type BackoffOptions, backoffDelay } from './backoff.js'
import { ClientError } from './errors.js'
import { type TokenSource, tokenGetter } from './token.js'
import type { HandlerName, HandlerTypes, InputArgs, ReplyOf, RequestInput } from './types.js'

/** API Gateway's largest WebSocket message: 128 KiB of UTF-8. */
export const MAX_MESSAGE_BYTES = 131_072

/**
 * The WebSocket surface the client uses: the browser's `WebSocket`, Node's global one and `ws`
 * all fit. Handlers receive `{ code }` on close and `{ data }` on message.
 */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((event: never) => void) | null
  onclose: ((event: never) => void) | null
  onmessage: ((event: never) => void) | null
  onerror: ((event: never) => void) | null
}

/** Time and timers; the local gateway's `createManualClock()` fits, for tests. */
export interface Timers {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Where the client listens for `online` and `visibilitychange` (default: `window`). */
export interface LifecycleTarget {
  addEventListener(type: string, listener: () => void): void
  removeEventListener(type: string, listener: () => void): void
}

/** The connection state. `closed` is final. */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** The WebSocket URL, e.g. `wss://ws.example.com/prod`; the token is added as a query parameter. */
  readonly url: string
  /** Where fresh single-use tokens come from (a function or the token route's URL). */
  readonly token: TokenSource
  /** Query parameter carrying the token; default `token` (core's `tokens.queryParam`). */
  readonly tokenParam?: string
  /**
   * Opens a socket; default `new WebSocket(url)` with the global WebSocket. On Node with `ws`:
   * `(url) => new WebSocket(url, { origin: 'https://app.example.com' })`.
   */
  readonly createSocket?: (url: string) => WebSocketLike
  /**
   * Send a `$heartbeat` after this long without sending anything; default 300 000 (5 min, half
   * API Gateway's 10-minute idle timeout). `false` disables.
   */
  readonly heartbeatMs?: number | false
  /**
   * Open a replacement connection this long after connecting; default 6 900 000 (1 h 55 min,
   * before API Gateway's 2-hour cut). `false` disables.
   */
  readonly rolloverMs?: number | false
  /** Reply deadline for requests (and heartbeats); default 30 000 ms. */
  readonly requestTimeoutMs?: number
  readonly backoff?: BackoffOptions
  /**
   * Messages kept while not connected: at most `max` (default 100). On overflow, `reject` (the
   * default) refuses the new message with `QUEUE_FULL`; `drop-oldest` drops the oldest one.
   */
  readonly queue?: { readonly max?: number; readonly overflow?: 'reject' | 'drop-oldest' }
  /**
   * Largest message sent, in UTF-8 bytes; default 131 072 (API Gateway's message limit). Larger
   * messages are refused locally with `MESSAGE_TOO_LARGE`.
   */
  readonly maxMessageBytes?: number
  /** The handler key of every message; default `action` (the route selection key). */
  readonly actionKey?: string
  /** Handlers that `join` and `leave` call with `{ channel }`; default `join` and `leave`. */
  readonly channelActions?: { readonly join: string; readonly leave: string }
  readonly timers?: Timers
  /** Random numbers in `[0, 1)` for backoff jitter; default `Math.random`. */
  readonly random?: () => number
  /** Where to hear `online`/`visibilitychange`; default `globalThis` when it has listeners. */
  readonly lifecycle?: LifecycleTarget | null
}

/** Per-call options of `request`. */
export interface RequestOptions {
  /** Overrides `requestTimeoutMs`. */
  readonly timeoutMs?: number
}

/** What listeners of each event receive. */
export interface ClientEvents {
  readonly state: ClientState
  /** A server push: its `data` (`$mid` envelopes unwrapped and de-duplicated), or the raw frame. */
  readonly message: unknown
  readonly error: ClientError
}

/** The arguments of `request(name, …)`: the input (optional when it has no required key). */
export type RequestArgs<I> = [...InputArgs<I>, options?: RequestOptions]

/** The client. */
export interface Client<T extends HandlerTypes = HandlerTypes> extends Disposable {
  readonly state: ClientState
  /** Channels joined (and re-joined on every reconnect and rollover). */
  readonly channels: readonly string[]
  /**
   * Calls handler `name` and resolves its reply. Rejects with a `ClientError`: `REFUSED` (with
   * `status` and generic `message`), `TIMEOUT`, `CONNECTION_LOST` (never re-sent: it may have
   * run), `MESSAGE_TOO_LARGE`, `QUEUE_FULL` or `CLOSED`. Queued while reconnecting.
   */
  request<K extends HandlerName<T>>(
    name: K,
    ...args: RequestArgs<RequestInput<T[K]>>
  ): Promise<ReplyOf<T[K]>>
  /**
   * Sends a one-way message to handler `name` (queued while reconnecting). Throws a
   * `ClientError` synchronously: `MESSAGE_TOO_LARGE`, `QUEUE_FULL` or `CLOSED`.
   */
  send<K extends HandlerName<T>>(name: K, ...args: InputArgs<RequestInput<T[K]>>): void
  /**
   * Joins `channel` through the `join` handler; it is re-joined on every new connection. A
   * refusal rejects with `REFUSED` (and forgets the channel).
   */
  join(channel: string): Promise<void>
  /** Leaves `channel` and stops re-joining it. */
  leave(channel: string): Promise<void>
  /** Listens to an event; returns the function that stops listening. */
  on<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => void): () => void
  /** Closes every socket, fails pending calls with `CLOSED`, and stops for good. Idempotent. */
  close(): void
}

interface Link {
  readonly ws: WebSocketLike
  openedAt: number
  lastSentAt: number
  timer: unknown
  live: boolean
  rolling: boolean
}

interface Pending {
  resolve(value: unknown): void
  reject(error: ClientError): void
  timer: unknown
  link: Link | null
}

const encoder = new TextEncoder()
// Node 20 before 20.4 and older browsers have no `Symbol.dispose`; `using` needs it anyway.
const DISPOSE: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for('Symbol.dispose')
const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
}

function positive(value: number | undefined, name: string, fallback: number): number {
  const n = value ?? fallback
  if (!Number.isSafeInteger(n) || n < 1) throw new TypeError(`${name} must be a positive integer`)
  return n
}

function optionalPeriod(value: number | false | undefined, name: string, fallback: number) {
  return value === false ? Number.POSITIVE_INFINITY : positive(value, name, fallback)
}

function asClientError(error: unknown): ClientError {
  return error instanceof ClientError ? error : new ClientError('CONNECTION_LOST', String(error))
}

/**
 * Creates a client and starts connecting. Options are checked here (`TypeError`). The client
 * never reuses a token, stops when the token route says the user is signed out (401/403), and
 * otherwise keeps reconnecting until `close()`.
 */
export function createClient<T extends HandlerTypes = HandlerTypes>(
  options: ClientOptions,
): Client<T> {
  if (typeof options?.url !== 'string') throw new TypeError('url must be a string')
  const timers = options.timers ?? systemTimers
  const getToken = tokenGetter(options.token, () => timers.now())
  const tokenParam = options.tokenParam ?? 'token'
  const heartbeatMs = optionalPeriod(options.heartbeatMs, 'heartbeatMs', 300_000)
  const rolloverMs = optionalPeriod(options.rolloverMs, 'rolloverMs', 6_900_000)
  const timeoutMs = positive(options.requestTimeoutMs, 'requestTimeoutMs', 30_000)
  const maxQueue = positive(options.queue?.max, 'queue.max', 100)
  const dropOldest = options.queue?.overflow === 'drop-oldest'
  const maxBytes = positive(options.maxMessageBytes, 'maxMessageBytes', MAX_MESSAGE_BYTES)
  const actionKey = options.actionKey ?? 'action'
  const actions = options.channelActions ?? { join: 'join', leave: 'leave' }
  const random = options.random ?? Math.random
  const backoff = options.backoff ?? {}
  const createSocket =
    options.createSocket ??
    ((url: string) => {
      if (typeof WebSocket !== 'function')
        throw new TypeError('no global WebSocket: pass createSocket')
      return new WebSocket(url) as unknown as WebSocketLike
    })
  const scope = globalThis as Partial<LifecycleTarget> & { document?: { visibilityState?: string } }
  const lifecycle =
    options.lifecycle !== undefined
      ? options.lifecycle
      : typeof scope.addEventListener === 'function'
        ? (scope as LifecycleTarget)
        : null

  const listeners: { [E in keyof ClientEvents]: Set<(value: ClientEvents[E]) => void> } = {
    state: new Set(),
    message: new Set(),
    error: new Set(),
  }
  const pending = new Map<string, Pending>()
  const queue: { frame: string; id: string | null }[] = []
  const channels = new Set<string>()
  const links = new Set<Link>()
  const seen = new Set<string>()
  let state: ClientState = 'connecting'
  let primary: Link | null = null
  let connecting = false
  let stopped = false
  let attempt = 0
  let seq = 0
  let wake: (() => void) | null = null

  function emit<E extends keyof ClientEvents>(event: E, value: ClientEvents[E]): void {
    for (const listener of listeners[event]) {
      try {
        listener(value)
      } catch {
        // A throwing listener must not break the connection.
      }
    }
  }

  function setState(next: ClientState): void {
    if (state === next) return
    state = next
    emit('state', next)
  }

  function frameOf(name: string, input: object | undefined, id: string | null): string {
    const message: Record<string, unknown> = { ...input, [actionKey]: name }
    if (id !== null) message.$id = id
    const frame = JSON.stringify(message)
    const bytes = encoder.encode(frame).byteLength
    if (bytes > maxBytes) {
      throw new ClientError(
        'MESSAGE_TOO_LARGE',
        `message is ${bytes} bytes; the limit is ${maxBytes}`,
      )
    }
    return frame
  }

  function transmit(link: Link, frame: string): void {
    link.lastSentAt = timers.now()
    link.ws.send(frame)
  }

  function track(id: string, link: Link | null, ms: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = timers.setTimeout(
        () => settle(id, new ClientError('TIMEOUT', `no reply within ${ms} ms`)),
        ms,
      )
      pending.set(id, { resolve, reject, timer, link })
    })
  }

  function settle(id: string, error: ClientError | null, value?: unknown): void {
    const call = pending.get(id)
    if (call === undefined) return
    pending.delete(id)
    timers.clearTimeout(call.timer)
    if (error === null) call.resolve(value)
    else call.reject(error)
    const link = call.link
    if (link !== null && link !== primary && link.live && !connectingOn(link)) retireIfIdle(link)
  }

  // A link still being opened (re-joining) is not primary yet and must not be retired.
  let opening: Link | null = null
  function connectingOn(link: Link): boolean {
    return link === opening
  }

  function retireIfIdle(link: Link): void {
    for (const call of pending.values()) if (call.link === link) return
    drop(link, 1000)
  }

  function call(link: Link, name: string, input?: object): Promise<unknown> {
    const id = (++seq).toString(36)
    const promise = track(id, link, timeoutMs)
    transmit(link, frameOf(name, input, id))
    return promise
  }

  /** Sends now or queues; returns the error when the message is refused. */
  function dispatch(frame: string, id: string | null): ClientError | null {
    if (primary !== null && state === 'open') {
      const call = id === null ? undefined : pending.get(id)
      if (call !== undefined) call.link = primary
      transmit(primary, frame)
      return null
    }
    if (queue.length >= maxQueue) {
      const full = new ClientError('QUEUE_FULL', `${maxQueue} messages are already queued`)
      if (!dropOldest) return full
      const oldest = queue.shift()
      if (oldest?.id == null) emit('error', full)
      else settle(oldest.id, full)
    }
    queue.push({ frame, id })
    return null
  }

  function receive(link: Link, data: unknown): void {
    if (link.live) emitFrame(typeof data === 'string' ? parse(data) : data, data)
  }

  function parse(text: string): unknown {
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }

  /** Settles a reply envelope, unwraps a push envelope once, or emits the frame as it is. */
  function emitFrame(message: unknown, raw: unknown): void {
    const m = (typeof message === 'object' && message !== null ? message : {}) as Record<
      string,
      unknown
    >
    if (typeof m.$id === 'string' && typeof m.ok === 'boolean') {
      if (m.ok) {
        settle(m.$id, null, m.data)
      } else {
        const e = (m.error ?? {}) as { status?: unknown; message?: unknown; retryAfter?: unknown }
        const status = typeof e.status === 'number' ? e.status : 500
        const retry = typeof e.retryAfter === 'number' ? { retryAfterMs: e.retryAfter * 1000 } : {}
        settle(
          m.$id,
          new ClientError('REFUSED', String(e.message ?? 'Error'), { status, ...retry }),
        )
      }
    } else if (typeof m.$mid === 'string') {
      if (seen.has(m.$mid)) return
      seen.add(m.$mid)
      if (seen.size > 1024) seen.delete(seen.values().next().value as string)
      emit('message', m.data)
    } else if (m.message === 'Internal server error' && 'requestId' in m) {
      emit('error', new ClientError('SERVER_ERROR', 'Internal server error'))
    } else {
      emit('message', typeof raw === 'string' ? message : raw)
    }
  }

  /** Ends a link now: pending calls on it fail, and a lost primary starts a reconnect. */
  function drop(link: Link, code: number): void {
    try {
      link.ws.close(code)
    } catch {
      // Closing an already failed socket may throw; the link is gone either way.
    }
    closed(link, code)
  }

  function closed(link: Link, code: number): void {
    if (!link.live) return
    link.live = false
    links.delete(link)
    timers.clearTimeout(link.timer)
    link.ws.onmessage = link.ws.onclose = link.ws.onerror = null
    for (const [id, call] of pending) {
      if (call.link === link) {
        settle(
          id,
          new ClientError('CONNECTION_LOST', `connection closed (${code})`, { closeCode: code }),
        )
      }
    }
    if (link !== primary) return
    primary = null
    if (stopped) return
    if (code !== 1000 && code !== 1001) {
      emit(
        'error',
        new ClientError('CONNECTION_LOST', `connection closed (${code})`, { closeCode: code }),
      )
    }
    setState('reconnecting')
    // 1001 is API Gateway going away (idle, 2-hour cut, deploy): come back at once, unless the
    // connection was short-lived, which would make a tight loop.
    const lived = timers.now() - link.openedAt
    connect(code === 1001 && lived > 10_000 ? 0 : backoffDelay(attempt++, backoff, random))
  }

  async function openLink(): Promise<Link> {
    const token = await getToken().catch((error: unknown) => {
      throw error instanceof ClientError ? error : new ClientError('TOKEN_FAILED', String(error))
    })
    if (stopped) throw new ClientError('CLOSED')
    const url = `${options.url}${options.url.includes('?') ? '&' : '?'}${tokenParam}=${encodeURIComponent(token)}`
    const ws = createSocket(url)
    const link: Link = {
      ws,
      openedAt: 0,
      lastSentAt: 0,
      timer: undefined,
      live: true,
      rolling: false,
    }
    links.add(link)
    await new Promise<void>((resolve, reject) => {
      const fail = (event?: { code?: number }) => {
        timers.clearTimeout(timer)
        link.live = false
        links.delete(link)
        reject(
          new ClientError('CONNECTION_LOST', 'connect failed', { closeCode: event?.code ?? 1006 }),
        )
      }
      // A handshake that neither opens nor fails counts as failed after the request deadline.
      const timer = timers.setTimeout(() => {
        fail()
        ws.close()
      }, timeoutMs)
      ws.onopen = () => {
        timers.clearTimeout(timer)
        resolve()
      }
      ws.onclose = fail
      ws.onerror = fail
    })
    link.openedAt = link.lastSentAt = timers.now()
    ws.onmessage = (event: { data: unknown }) => receive(link, event.data)
    ws.onclose = (event: { code: number }) => closed(link, event.code)
    ws.onerror = null
    opening = link
    try {
      await Promise.all(
        [...channels].map((channel) =>
          call(link, actions.join, { channel }).catch((error: ClientError) => {
            if (error.code !== 'REFUSED') throw error
            channels.delete(channel)
            emit('error', error)
          }),
        ),
      )
    } catch (error) {
      drop(link, 1000)
      throw error
    } finally {
      opening = null
    }
    return link
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = timers.setTimeout(() => {
        wake = null
        resolve()
      }, ms)
      wake = () => {
        timers.clearTimeout(timer)
        wake = null
        resolve()
      }
    })
  }

  /** Runs connection attempts until one is adopted, the user is signed out, or `close()`. */
  function connect(delay: number): void {
    if (connecting || stopped) return
    connecting = true
    void (async () => {
      let wait = delay
      while (!stopped) {
        if (wait > 0) await sleep(wait)
        if (stopped) break
        try {
          const link = await openLink()
          if (stopped) drop(link, 1000)
          else adopt(link)
          break
        } catch (error) {
          if (stopped) break
          const failure = asClientError(error)
          emit('error', failure)
          if (failure.code === 'SIGNED_OUT') {
            stop()
            break
          }
          wait = failure.retryAfterMs ?? backoffDelay(attempt++, backoff, random)
          if (primary === null) setState('reconnecting')
        }
      }
      connecting = false
    })()
  }

  function adopt(link: Link): void {
    const old = primary
    primary = link
    attempt = 0
    setState('open')
    schedule(link)
    for (const item of queue.splice(0)) {
      const waiting = item.id === null ? undefined : pending.get(item.id)
      if (item.id !== null && waiting === undefined) continue
      if (waiting !== undefined) waiting.link = link
      transmit(link, item.frame)
    }
    if (old !== null) {
      timers.clearTimeout(old.timer)
      retireIfIdle(old)
    }
  }

  function schedule(link: Link): void {
    timers.clearTimeout(link.timer)
    const at = Math.min(
      link.rolling ? Number.POSITIVE_INFINITY : link.openedAt + rolloverMs,
      link.lastSentAt + heartbeatMs,
    )
    if (at === Number.POSITIVE_INFINITY) return
    link.timer = timers.setTimeout(() => tick(link), Math.max(0, at - timers.now()))
  }

  function tick(link: Link): void {
    if (link !== primary) return
    const now = timers.now()
    if (!link.rolling && now >= link.openedAt + rolloverMs) {
      link.rolling = true
      connect(0)
    }
    if (now >= link.lastSentAt + heartbeatMs) {
      call(link, '$heartbeat').catch((error: ClientError) => {
        if (error.code === 'TIMEOUT' && link === primary) drop(link, 4000)
      })
    }
    schedule(link)
  }

  function nudge(): void {
    if (scope.document?.visibilityState !== 'hidden') wake?.()
  }

  function stop(): void {
    if (stopped) return
    stopped = true
    wake?.()
    lifecycle?.removeEventListener('online', nudge)
    lifecycle?.removeEventListener('visibilitychange', nudge)
    queue.length = 0
    for (const id of [...pending.keys()]) settle(id, new ClientError('CLOSED', 'client closed'))
    primary = null
    for (const link of [...links]) drop(link, 1000)
    setState('closed')
  }

  lifecycle?.addEventListener('online', nudge)
  lifecycle?.addEventListener('visibilitychange', nudge)
  connect(0)

  function request(name: string, input?: object, opts?: RequestOptions): Promise<unknown> {
    if (stopped) return Promise.reject(new ClientError('CLOSED', 'client closed'))
    const id = (++seq).toString(36)
    let frame: string
    try {
      frame = frameOf(name, input, id)
    } catch (error) {
      return Promise.reject(error)
    }
    const promise = track(id, null, positive(opts?.timeoutMs, 'timeoutMs', timeoutMs))
    const refused = dispatch(frame, id)
    if (refused !== null) settle(id, refused)
    return promise
  }

  const client = {
    get state() {
      return state
    },
    get channels() {
      return [...channels]
    },
    request,
    send(name: string, input?: object): void {
      if (stopped) throw new ClientError('CLOSED', 'client closed')
      const refused = dispatch(frameOf(name, input, null), null)
      if (refused !== null) throw refused
    },
    async join(channel: string) {
      channels.add(channel)
      try {
        await request(actions.join, { channel })
      } catch (error) {
        if ((error as ClientError).code === 'REFUSED') channels.delete(channel)
        throw error
      }
    },
    async leave(channel: string) {
      channels.delete(channel)
      if (state === 'open') await request(actions.leave, { channel })
    },
    on<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => void) {
      const set = listeners[event] as Set<typeof listener>
      set.add(listener)
      return () => {
        set.delete(listener)
      }
    },
    close: stop,
    [DISPOSE]: stop,
  }
  return client as unknown as Client<T>
}
