/**
 * The sender: who receives a message. It resolves recipients from the store (one connection, a
 * user's connections, a channel, everyone), encodes the payload once, fans out through a
 * `ConnectionsTransport` with bounded concurrency, prunes connections API Gateway reports gone,
 * and returns a `SendReport` for every call. It is what `gateway.send` and a handler's
 * `ctx.send` expose; it can also be created on its own for workers and scripts.
 */
import type { Clock } from '../clock.js'
import type { EventListener, GatewayEvent } from '../events.js'
import type { ConnectionRecord, ConnectionStore, Page, Store } from '../store.js'
import { isApiId, isConnectionId, isDomainName, isStage } from '../validators.js'
import { fanOut } from './fan-out.js'
import { encodePayload, type SendData } from './payload.js'
import { ReportBuilder, type SendReport } from './report.js'
import type {
  ConnectionInfo,
  ConnectionsTransport,
  ConnectionTarget,
  TransportFailure,
  TransportResult,
} from './transport.js'

export type { SendData } from './payload.js'
export type { SendFailure, SendReport } from './report.js'

/** Default number of requests one send call keeps in flight. */
export const DEFAULT_SEND_CONCURRENCY = 32
/** Default number of connections read from the store per page. */
export const DEFAULT_SEND_PAGE_SIZE = 500

const MAX_CONCURRENCY = 1_000
const MAX_PAGE_SIZE = 10_000

/** Options of {@link createSender}. Validated once; invalid values throw `TypeError`. */
export interface SenderOptions {
  /** Where connections, their users, channels and endpoints are kept. */
  readonly store: Store
  /** How calls reach API Gateway: `awsConnections(...)` in production. */
  readonly connections: ConnectionsTransport
  /** Time source for `disconnectedAt`, deadlines and event timestamps. */
  readonly clock: Clock
  /** Receives `send.completed` and `connection.disconnected` events; must not throw. */
  readonly onEvent?: EventListener
  /**
   * Maximum requests in flight per send call (default {@link DEFAULT_SEND_CONCURRENCY}; integer
   * 1–1000). The bound is per call: concurrent calls each get their own workers, and the AWS
   * transport's HTTP agent (50 sockets per endpoint) caps the total.
   */
  readonly concurrency?: number
  /** Connections read from the store per page (default {@link DEFAULT_SEND_PAGE_SIZE}; 1–10000). */
  readonly pageSize?: number
  /**
   * Turns a payload into the bytes to post, once per call (default `encodePayload`). Must throw
   * `PayloadTooLargeError` above 128 KiB like the default; the client protocol adds message ids.
   */
  readonly encode?: (data: SendData) => Uint8Array
}

/** Per-call options of every send. */
export interface SendOptions {
  /**
   * Stops the call: no new request starts, requests in flight are cancelled through the
   * transport, and every listed recipient not yet reached is reported as `ABORTED`
   * (`retryable: true`). A cancelled request may still have been delivered.
   */
  readonly signal?: AbortSignal
  /**
   * Time (ms since the epoch, read from the sender's clock) after which no new request starts.
   * Requests already in flight finish; listed recipients not yet started are `ABORTED`.
   */
  readonly deadline?: number
}

/** Options of {@link Sender.toChannel}. */
export interface ChannelSendOptions extends SendOptions {
  /** Connection id(s) in the channel that must not receive the message (e.g. the author). */
  readonly except?: string | readonly string[]
}

/** Options of {@link Sender.verifyConnections}. */
export interface VerifyOptions extends SendOptions {
  /** Check connections whose `lastSeenAt` is more than this many ms before `now` (≥ 0). */
  readonly idleMs: number
  /** Reference time (default: the sender's clock). */
  readonly now?: number
}

/**
 * Sends to connections and reports, per call, what happened to every recipient.
 *
 * Every method resolves a report and never rejects because a recipient failed: API Gateway
 * errors, missing endpoints and cancelled requests are `failed` entries. Methods reject only for
 * programmer and infrastructure errors: `PayloadTooLargeError` or `TypeError` for the payload
 * (before any recipient is listed or any request made), `TypeError` for invalid options, and the
 * store's own error if the store fails (after the requests already in flight have settled).
 *
 * Stored values never shape a URL unchecked: a record whose connection id, API id, stage or
 * domain name fails the validators `$connect` applies is a `TARGET_INVALID` failure (not
 * retryable) and the transport is not called for it.
 *
 * A connection API Gateway reports gone is marked disconnected through the store's idempotent
 * `disconnect`, so a concurrent `$disconnect` and any number of concurrent sends agree on one
 * transition; `connection.disconnected` (reason `gone`) is emitted only by the call that made
 * it. Gone connections are never retried. Each call emits one `send.completed` event.
 */
export interface Sender {
  /** Posts to one connection. A connection the store does not know as connected is `NOT_CONNECTED`. */
  toConnection(connectionId: string, data: SendData, options?: SendOptions): Promise<SendReport>
  /** Posts to every connected connection of a user. */
  toUser(userId: string, data: SendData, options?: SendOptions): Promise<SendReport>
  /** Posts to every connected connection subscribed to a channel, minus `except`. */
  toChannel(channel: string, data: SendData, options?: ChannelSendOptions): Promise<SendReport>
  /** Posts to every connected connection. */
  broadcast(data: SendData, options?: SendOptions): Promise<SendReport>
  /**
   * Closes one connection (DeleteConnection) and marks it disconnected. `delivered` is 1 when
   * API Gateway closed it, `gone` when it was already gone; both leave it disconnected in the
   * store. On any other failure the store is left unchanged (the socket may still be open).
   */
  disconnect(connectionId: string, options?: SendOptions): Promise<SendReport>
  /** Closes every connected connection of a user, as `disconnect` does for one (e.g. logout). */
  disconnectUser(userId: string, options?: SendOptions): Promise<SendReport>
  /**
   * Asks API Gateway about one connection (GetConnection). A connection unknown to the store is
   * `NOT_CONNECTED` without a request; one API Gateway reports gone is marked disconnected.
   */
  getConnection(
    connectionId: string,
    options?: SendOptions,
  ): Promise<ConnectionInfo | TransportFailure>
  /**
   * Sweeps connected connections idle for more than `idleMs` (`lastSeenAt < now - idleMs`),
   * asking API Gateway about each (GetConnection) and marking the gone ones disconnected: the
   * cure for `$disconnect` events that never arrived. In the report, `attempted` counts the
   * connections checked and `delivered` those still connected. Connections that only receive
   * messages keep an old `lastSeenAt` and are checked on every sweep.
   */
  verifyConnections(options: VerifyOptions): Promise<SendReport>
}

type Target =
  | 'connection'
  | 'user'
  | 'channel'
  | 'broadcast'
  | 'disconnect'
  | 'disconnectUser'
  | 'verify'

/**
 * Creates a {@link Sender}. Options are validated and copied once; the sender holds no other
 * state, so one instance can serve any number of concurrent calls.
 */
export function createSender(options: SenderOptions): Sender {
  const config = normalize(options)
  const { store, connections: transport, clock, onEvent, concurrency, pageSize } = config
  const connectionStore: ConnectionStore = store.connections
  const encode = options.encode ?? encodePayload

  function emit(event: GatewayEvent): void {
    if (onEvent === undefined) return
    try {
      onEvent(event)
    } catch {
      // The listener contract forbids throwing; a faulty logger must not break delivery.
    }
  }

  function internalError(source: 'store' | 'transport', error: unknown): void {
    emit({
      type: 'internal.error',
      at: clock.now(),
      source,
      route: null,
      errorName: error instanceof Error ? error.name : typeof error,
    })
  }

  async function markGone(connectionId: string): Promise<void> {
    try {
      if (await connectionStore.disconnect(connectionId, clock.now())) {
        emit({ type: 'connection.disconnected', at: clock.now(), connectionId, reason: 'gone' })
      }
    } catch (error) {
      // The connection is gone whatever the store says; the next sweep or cleanup retries it.
      internalError('store', error)
    }
  }

  /**
   * Calls the transport for a stored record. A record whose connection id, API id, stage or
   * domain name fails the validators `$connect` applies is refused (`TARGET_INVALID`) without a
   * call: stored data must never shape a URL (a stored `..` would otherwise be posted to).
   */
  async function call<R extends TransportResult | ConnectionInfo | TransportFailure>(
    record: ConnectionRecord,
    invoke: (target: ConnectionTarget) => Promise<R>,
  ): Promise<R | TransportFailure> {
    const target = targetOf(record)
    if (target === null) return INVALID_TARGET
    try {
      return await invoke(target)
    } catch (error) {
      // The SPI says transports resolve failures; one that throws is treated as a retryable
      // failure of this recipient so the rest of the fan-out is unaffected.
      internalError('transport', error)
      return { ok: false, code: 'TRANSPORT_ERROR', gone: false, retryable: true }
    }
  }

  /** Records one recipient's transport outcome; a gone connection is pruned from the store. */
  async function settle(
    report: ReportBuilder,
    connectionId: string,
    result: TransportResult | ConnectionInfo | TransportFailure,
  ): Promise<'ok' | 'gone' | 'failed'> {
    if ('attempts' in result && typeof result.attempts === 'number') {
      report.retried(result.attempts - 1)
    }
    if (result.ok) {
      report.delivered()
      return 'ok'
    }
    if (result.gone) {
      report.gone(connectionId)
      await markGone(connectionId)
      return 'gone'
    }
    report.failed(connectionId, result.code, result.retryable)
    return 'failed'
  }

  function stopper(opts: SendOptions | undefined): () => boolean {
    const signal = opts?.signal
    const deadline = opts?.deadline
    return () => signal?.aborted === true || (deadline !== undefined && clock.now() >= deadline)
  }

  function finish(target: Target, report: ReportBuilder): SendReport {
    emit(report.event(target, clock.now()))
    return report.report()
  }

  function lister(
    filter: Parameters<ConnectionStore['list']>[0],
    keep?: (r: ConnectionRecord) => boolean,
  ) {
    return async (cursor: string | null): Promise<Page<ConnectionRecord>> => {
      const page = await connectionStore.list(filter, { cursor, limit: pageSize })
      return keep === undefined
        ? page
        : { items: page.items.filter(keep), nextCursor: page.nextCursor }
    }
  }

  /** Runs `action` for every record `list` yields, under the call's stop condition. */
  async function many(
    target: Target,
    opts: SendOptions | undefined,
    list: (cursor: string | null) => Promise<Page<ConnectionRecord>>,
    action: (report: ReportBuilder, record: ConnectionRecord) => Promise<void>,
  ): Promise<SendReport> {
    const report = new ReportBuilder()
    const { stoppedEarly } = await fanOut({
      list,
      concurrency,
      isStopped: stopper(opts),
      run: (record) => action(report, record),
      skip: (record) => report.failed(record.connectionId, 'ABORTED', true),
    })
    if (stoppedEarly) report.markAborted()
    return finish(target, report)
  }

  /** Resolves one connected record or records `NOT_CONNECTED` and returns `null`. */
  async function single(
    report: ReportBuilder,
    connectionId: string,
    opts: SendOptions | undefined,
  ): Promise<ConnectionRecord | null> {
    if (stopper(opts)()) {
      report.failed(connectionId, 'ABORTED', true)
      report.markAborted()
      return null
    }
    const record = await connectionStore.get(connectionId)
    if (record === null || record.disconnectedAt !== null) {
      report.failed(connectionId, 'NOT_CONNECTED', false)
      return null
    }
    return record
  }

  function postTo(bytes: Uint8Array, signal: AbortSignal | undefined) {
    return async (report: ReportBuilder, record: ConnectionRecord): Promise<void> => {
      const result = await call(record, (target) => transport.post(target, bytes, signal))
      await settle(report, record.connectionId, result)
    }
  }

  function deleteOne(signal: AbortSignal | undefined) {
    return async (report: ReportBuilder, record: ConnectionRecord): Promise<void> => {
      const result = await call(record, (target) => transport.delete(target, signal))
      if ((await settle(report, record.connectionId, result)) !== 'ok') return
      try {
        if (await connectionStore.disconnect(record.connectionId, clock.now())) {
          emit({
            type: 'connection.disconnected',
            at: clock.now(),
            connectionId: record.connectionId,
            reason: 'api',
          })
        }
      } catch (error) {
        // API Gateway closed the socket and will deliver `$disconnect`, which marks it again.
        internalError('store', error)
      }
    }
  }

  return Object.freeze({
    async toConnection(connectionId, data, opts) {
      checkSendOptions(opts)
      const bytes = encode(data)
      const report = new ReportBuilder()
      const record = await single(report, connectionId, opts)
      if (record !== null) await postTo(bytes, opts?.signal)(report, record)
      return finish('connection', report)
    },

    async toUser(userId, data, opts) {
      checkSendOptions(opts)
      checkName('userId', userId)
      const bytes = encode(data)
      return many('user', opts, lister({ userId }), postTo(bytes, opts?.signal))
    },

    async toChannel(channel, data, opts) {
      checkSendOptions(opts)
      checkName('channel', channel)
      const except = exceptSet(opts?.except)
      const bytes = encode(data)
      const keep =
        except.size === 0 ? undefined : (r: ConnectionRecord) => !except.has(r.connectionId)
      return many('channel', opts, lister({ channel }, keep), postTo(bytes, opts?.signal))
    },

    async broadcast(data, opts) {
      checkSendOptions(opts)
      const bytes = encode(data)
      return many('broadcast', opts, lister({ all: true }), postTo(bytes, opts?.signal))
    },

    async disconnect(connectionId, opts) {
      checkSendOptions(opts)
      const report = new ReportBuilder()
      const record = await single(report, connectionId, opts)
      if (record !== null) await deleteOne(opts?.signal)(report, record)
      return finish('disconnect', report)
    },

    async disconnectUser(userId, opts) {
      checkSendOptions(opts)
      checkName('userId', userId)
      return many('disconnectUser', opts, lister({ userId }), deleteOne(opts?.signal))
    },

    async getConnection(connectionId, opts) {
      checkSendOptions(opts)
      if (stopper(opts)()) return { ok: false, code: 'ABORTED', gone: false, retryable: true }
      const record = await connectionStore.get(connectionId)
      if (record === null)
        return { ok: false, code: 'NOT_CONNECTED', gone: false, retryable: false }
      const result = await call(record, (target) => transport.get(target, opts?.signal))
      if (!result.ok && result.gone) await markGone(connectionId)
      return result
    },

    async verifyConnections(opts) {
      checkSendOptions(opts)
      if (typeof opts?.idleMs !== 'number' || !Number.isFinite(opts.idleMs) || opts.idleMs < 0) {
        throw new TypeError('verifyConnections: idleMs must be a finite number >= 0')
      }
      if (opts.now !== undefined && !Number.isFinite(opts.now)) {
        throw new TypeError('verifyConnections: now must be a finite number')
      }
      const threshold = (opts.now ?? clock.now()) - opts.idleMs
      const idle = (r: ConnectionRecord) => r.lastSeenAt < threshold
      const signal = opts.signal
      return many('verify', opts, lister({ all: true }, idle), async (report, record) => {
        const result = await call(record, (target) => transport.get(target, signal))
        await settle(report, record.connectionId, result)
      })
    },
  } satisfies Sender)
}

/** What a transport call for a record whose stored values fail validation resolves. */
const INVALID_TARGET: TransportFailure = Object.freeze({
  ok: false,
  code: 'TARGET_INVALID',
  gone: false,
  retryable: false,
})

/** The transport target of a stored record, or `null` when any stored value is invalid. */
function targetOf(record: ConnectionRecord): ConnectionTarget | null {
  const { connectionId, apiId, stage, domainName } = record
  const valid =
    isConnectionId(connectionId) &&
    (apiId === null || isApiId(apiId)) &&
    (stage === null || isStage(stage)) &&
    (domainName === null || isDomainName(domainName))
  return valid ? { connectionId, apiId, stage, domainName } : null
}

interface NormalizedOptions {
  readonly store: Store
  readonly connections: ConnectionsTransport
  readonly clock: Clock
  readonly onEvent: EventListener | undefined
  readonly concurrency: number
  readonly pageSize: number
}

function normalize(options: SenderOptions): NormalizedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createSender: options must be an object')
  }
  const { store, connections, clock, onEvent } = options
  const c = store?.connections
  if (
    typeof c !== 'object' ||
    c === null ||
    !['get', 'disconnect', 'list'].every(
      (m) => typeof (c as unknown as Record<string, unknown>)[m] === 'function',
    )
  ) {
    throw new TypeError(
      'createSender: options.store must be a Store (connections.get/disconnect/list)',
    )
  }
  if (
    typeof connections !== 'object' ||
    connections === null ||
    typeof connections.post !== 'function' ||
    typeof connections.delete !== 'function' ||
    typeof connections.get !== 'function'
  ) {
    throw new TypeError('createSender: options.connections must be a ConnectionsTransport')
  }
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw new TypeError('createSender: options.clock must be a Clock')
  }
  if (onEvent !== undefined && typeof onEvent !== 'function') {
    throw new TypeError('createSender: options.onEvent must be a function')
  }
  return {
    store,
    connections,
    clock,
    onEvent,
    concurrency: integerOption(
      'concurrency',
      options.concurrency,
      DEFAULT_SEND_CONCURRENCY,
      MAX_CONCURRENCY,
    ),
    pageSize: integerOption('pageSize', options.pageSize, DEFAULT_SEND_PAGE_SIZE, MAX_PAGE_SIZE),
  }
}

function integerOption(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new TypeError(`createSender: options.${name} must be an integer from 1 to ${max}`)
  }
  return value
}

function checkSendOptions(opts: SendOptions | undefined): void {
  if (opts === undefined) return
  if (typeof opts !== 'object' || opts === null)
    throw new TypeError('send options must be an object')
  const { signal, deadline } = opts
  if (
    signal !== undefined &&
    (typeof signal !== 'object' || signal === null || typeof signal.aborted !== 'boolean')
  ) {
    throw new TypeError('send options.signal must be an AbortSignal')
  }
  if (deadline !== undefined && (typeof deadline !== 'number' || Number.isNaN(deadline))) {
    throw new TypeError('send options.deadline must be a number (ms since the epoch)')
  }
}

function checkName(name: 'userId' | 'channel', value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`send: ${name} must be a non-empty string`)
  }
}

function exceptSet(except: string | readonly string[] | undefined): ReadonlySet<string> {
  if (except === undefined) return new Set()
  if (typeof except === 'string') return new Set([except])
  if (!Array.isArray(except) || !except.every((id) => typeof id === 'string')) {
    throw new TypeError('toChannel: except must be a connection id or an array of them')
  }
  return new Set(except)
}
