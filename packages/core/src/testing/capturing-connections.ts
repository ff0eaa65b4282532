/**
 * A `ConnectionsTransport` for tests: it records every PostToConnection, DeleteConnection and
 * GetConnection instead of calling AWS, and answers with outcomes the test scripts per
 * connection id (delivered by default). With it, handlers that send can be unit-tested against
 * the memory store with no network, and failure paths (gone, forbidden, throttled) on demand.
 */
import type {
  ConnectionInfo,
  ConnectionsTransport,
  ConnectionTarget,
  TransportFailure,
  TransportResult,
} from '../send/transport.js'

/**
 * What a call for a connection resolves. Named outcomes mirror API Gateway:
 * `delivered` (success; for GetConnection the configured `info`), `gone` (`GoneException`, 410),
 * `forbidden` (`ForbiddenException`, 403), `too-large` (`PayloadTooLargeException`, 413),
 * `throttled` (`LimitExceededException`, 429, retryable), `server-error`
 * (`InternalServerErrorException`, 500, retryable), `aborted` (`ABORTED`, retryable). An object
 * scripts any other failure.
 */
export type ScriptedOutcome =
  | 'delivered'
  | 'gone'
  | 'forbidden'
  | 'too-large'
  | 'throttled'
  | 'server-error'
  | 'aborted'
  | {
      readonly code: string
      readonly retryable: boolean
      readonly gone?: boolean
      readonly status?: number
    }

/** One recorded call. */
export interface CapturedCall {
  readonly operation: 'post' | 'delete' | 'get'
  readonly connectionId: string
  readonly target: ConnectionTarget
  /** A copy of the bytes posted; `null` for delete and get. */
  readonly data: Uint8Array | null
  /** `data` decoded as UTF-8 (invalid sequences become U+FFFD); `null` for delete and get. */
  readonly text: string | null
  /** What the call resolved. */
  readonly result: TransportResult | ConnectionInfo
}

/** Options of {@link capturingConnections}. */
export interface CapturingConnectionsOptions {
  /** What a delivered GetConnection reports (default: every field `null`). */
  readonly info?: Partial<Omit<ConnectionInfo, 'ok'>>
}

/** The capturing transport and its inspection and scripting methods. */
export interface CapturingConnections extends ConnectionsTransport {
  /** Every call, in the order it was made (a live array: reading it later sees later calls). */
  readonly calls: readonly CapturedCall[]
  /** Texts of the posts to `connectionId` that were delivered, in order. */
  messages(connectionId: string): string[]
  /** {@link messages} parsed as JSON; throws `SyntaxError` if one is not JSON. */
  json(connectionId: string): unknown[]
  /**
   * Scripts the outcomes of the next calls (any operation) for `connectionId`: each call takes
   * the next outcome and the last one repeats for every later call. Replaces an earlier script.
   * Without a script a call is delivered, unless a delivered DeleteConnection closed the
   * connection, after which calls resolve `gone` as API Gateway's would.
   */
  script(connectionId: string, ...outcomes: [ScriptedOutcome, ...ScriptedOutcome[]]): void
  /** Forgets recorded calls, scripts and closed connections. */
  reset(): void
}

const NAMED: Readonly<Record<Exclude<ScriptedOutcome, object>, TransportResult>> = {
  delivered: { ok: true },
  gone: { ok: false, code: 'GoneException', gone: true, retryable: false, status: 410 },
  forbidden: { ok: false, code: 'ForbiddenException', gone: false, retryable: false, status: 403 },
  'too-large': {
    ok: false,
    code: 'PayloadTooLargeException',
    gone: false,
    retryable: false,
    status: 413,
  },
  throttled: {
    ok: false,
    code: 'LimitExceededException',
    gone: false,
    retryable: true,
    status: 429,
  },
  'server-error': {
    ok: false,
    code: 'InternalServerErrorException',
    gone: false,
    retryable: true,
    status: 500,
  },
  aborted: { ok: false, code: 'ABORTED', gone: false, retryable: true },
}

/**
 * Creates a capturing transport. Each instance has its own record and scripts; calls resolve
 * immediately (after one microtask) and never throw. A call whose signal is already aborted
 * resolves `ABORTED` and does not consume a scripted outcome.
 */
export function capturingConnections(
  options: CapturingConnectionsOptions = {},
): CapturingConnections {
  const info: ConnectionInfo = {
    ok: true,
    connectedAt: options.info?.connectedAt ?? null,
    lastActiveAt: options.info?.lastActiveAt ?? null,
    sourceIp: options.info?.sourceIp ?? null,
    userAgent: options.info?.userAgent ?? null,
  }
  const decoder = new TextDecoder()
  const calls: CapturedCall[] = []
  const scripts = new Map<string, ScriptedOutcome[]>()
  const closed = new Set<string>()

  function nextOutcome(connectionId: string): TransportResult {
    const queue = scripts.get(connectionId)
    if (queue !== undefined) {
      const outcome = (queue.length > 1 ? queue.shift() : queue[0]) as ScriptedOutcome
      return typeof outcome === 'string'
        ? NAMED[outcome]
        : {
            ok: false,
            code: outcome.code,
            gone: outcome.gone ?? false,
            retryable: outcome.retryable,
            ...(outcome.status === undefined ? {} : { status: outcome.status }),
          }
    }
    return closed.has(connectionId) ? NAMED.gone : NAMED.delivered
  }

  function record(
    operation: CapturedCall['operation'],
    target: ConnectionTarget,
    data: Uint8Array | null,
    signal: AbortSignal | undefined,
  ): TransportResult {
    const result = signal?.aborted === true ? NAMED.aborted : nextOutcome(target.connectionId)
    const copy = data === null ? null : data.slice()
    calls.push({
      operation,
      connectionId: target.connectionId,
      target,
      data: copy,
      text: copy === null ? null : decoder.decode(copy),
      result: operation === 'get' && result.ok ? info : result,
    })
    return result
  }

  function messages(connectionId: string): string[] {
    return calls
      .filter((c) => c.operation === 'post' && c.connectionId === connectionId && c.result.ok)
      .map((c) => c.text as string)
  }

  return Object.freeze({
    calls,
    async post(target, data, signal) {
      return record('post', target, data, signal)
    },
    async delete(target, signal) {
      const result = record('delete', target, null, signal)
      if (result.ok) closed.add(target.connectionId)
      return result
    },
    async get(target, signal): Promise<ConnectionInfo | TransportFailure> {
      const result = record('get', target, null, signal)
      return result.ok ? info : result
    },
    messages,
    json(connectionId) {
      return messages(connectionId).map((text): unknown => JSON.parse(text))
    },
    script(connectionId, ...outcomes) {
      if (outcomes.length === 0) throw new TypeError('script: give at least one outcome')
      scripts.set(connectionId, [...outcomes])
    },
    reset() {
      calls.length = 0
      scripts.clear()
      closed.clear()
    },
  } satisfies CapturingConnections)
}
