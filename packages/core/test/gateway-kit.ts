/**
 * Test support (not published) for the pipeline suites: a gateway over a fresh memory store with
 * a fake clock and an event log, token and connection helpers, a `RequestState` builder for
 * calling single steps, and store wrappers that record every call (the hash-at-rest oracle),
 * interleave concurrent calls (race tests), or fail every call (fail-closed tests).
 */
import { memoryStore } from '@apigw-ws/store-memory'
import { newRequestState, type RequestState } from '../src/checks/request-state.js'
import { STORE_METHODS } from '../src/define-store.js'
import type { GatewayEvent } from '../src/events.js'
import { createGateway, type Gateway } from '../src/gateway.js'
import { defineHandler } from '../src/handlers.js'
import { type Config, type GatewayOptions, normalizeOptions } from '../src/options.js'
import type { GatewayRequest, GatewayResponse } from '../src/request.js'
import type { Store, StoreParts } from '../src/store.js'
import { type FakeClock, fakeClock } from '../src/testing/fake-clock.js'
import { connectionIdFor, httpRequests } from '../src/testing/requests.js'

/** The integration secret every kit gateway expects (HTTP mode). */
export const SECRET = 'integration-secret-0123456789'
/** The one allowed browser origin. */
export const ORIGIN = 'https://app.example.com'
/** The API id the request builders send. */
export const API_ID = 'testapi123'

/** Options a test may override; `undefined` removes a kit default (for example the secret). */
export type Overrides<TUser = unknown> = {
  readonly [K in keyof GatewayOptions<TUser>]?: GatewayOptions<TUser>[K] | undefined
}

/** A gateway under test and everything around it. */
export interface Kit {
  readonly gateway: Gateway
  readonly store: StoreParts
  readonly clock: FakeClock
  /** Every event the gateway emitted, in order. */
  readonly events: GatewayEvent[]
  /** HTTP_PROXY request builders carrying the kit's secret. */
  readonly http: ReturnType<typeof httpRequests>
  /** Issues a token for `userId` (default `user-1`); throws unless the response is 200. */
  issue(userId?: string, extra?: { channel?: string; sessionId?: string }): Promise<string>
  /** Issues a token and connects with it; resolves the connection id and the response. */
  connect(init?: {
    userId?: string
    connectionId?: string
    channel?: string
    clientIp?: string
  }): Promise<{ readonly connectionId: string; readonly response: GatewayResponse }>
}

/** The option object the kit passes to `createGateway` for `overrides`. */
export function kitOptions<TUser = unknown>(
  store: StoreParts,
  clock: FakeClock,
  events: GatewayEvent[],
  overrides: Overrides<TUser> = {},
): GatewayOptions<TUser> {
  const merged: Record<string, unknown> = {
    store,
    clock,
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    onEvent: (event: GatewayEvent) => events.push(event),
    handlers: {
      echo: defineHandler({ handle: (_ctx, input) => input }),
    },
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete merged[key]
    else merged[key] = value
  }
  return merged as unknown as GatewayOptions<TUser>
}

/** A gateway over `store` (default: a fresh memory store) with the kit's defaults. */
export function setup<TUser = unknown>(
  overrides: Overrides<TUser> = {},
  store: StoreParts = memoryStore(),
): Kit {
  const clock = fakeClock()
  const events: GatewayEvent[] = []
  const gateway = createGateway(kitOptions(store, clock, events, overrides))
  const http = httpRequests({ secret: SECRET })
  async function issue(
    userId = 'user-1',
    extra: { channel?: string; sessionId?: string } = {},
  ): Promise<string> {
    const response = await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId,
      ...extra,
    })
    if (response.status !== 200) throw new Error(`issueToken answered ${response.status}`)
    return (JSON.parse(response.body ?? '{}') as { token: string }).token
  }
  async function connect(
    init: { userId?: string; connectionId?: string; channel?: string; clientIp?: string } = {},
  ) {
    const connectionId = init.connectionId ?? connectionIdFor('kit')
    const token = await issue(init.userId)
    const response = await gateway.handle(
      http.connect({
        connectionId,
        token,
        ...(init.channel === undefined ? {} : { channel: init.channel }),
        ...(init.clientIp === undefined ? {} : { clientIp: init.clientIp }),
      }),
    )
    return { connectionId, response }
  }
  return { gateway, store, clock, events, http, issue, connect }
}

/** A fresh `RequestState` for calling one step directly. */
export function stateFor<TUser = unknown>(
  config: Config<TUser>,
  request: GatewayRequest,
  fields: Partial<RequestState<TUser>> = {},
): RequestState<TUser> {
  return { ...newRequestState(config, request, config.clock.now()), ...fields }
}

/** A normalized configuration with the kit's defaults over a fresh memory store. */
export function kitConfig<TUser = unknown>(overrides: Overrides<TUser> = {}): Config<TUser> {
  return normalizeOptions(kitOptions<TUser>(memoryStore(), fakeClock(), [], overrides))
}

/** One store call as a recording store saw it. */
export interface StoreCall {
  /** `group.method`, for example `tokens.consume`. */
  readonly method: string
  readonly args: readonly unknown[]
  readonly result: unknown
}

/** A store that forwards to `inner` and records every call with its arguments and result. */
export interface RecordingStore extends StoreParts {
  readonly calls: StoreCall[]
  /** Every argument and result the store saw, as JSON text (what reached the store at rest). */
  dump(): string
}

type AnyMethod = (...args: unknown[]) => Promise<unknown>

/**
 * The parts of `inner` with every method wrapped. `admit` and `admitMessage` are left out on
 * purpose: the gateway composes them from the wrapped parts, so each step of a connect or a
 * message is seen (and interleaved).
 */
function wrapStore(
  inner: Store,
  wrap: (method: string, call: AnyMethod) => AnyMethod,
): StoreParts & { readonly cleanup: Store['cleanup'] } {
  const group = <T extends object>(name: string, target: T): T => {
    const out: Record<string, AnyMethod> = {}
    for (const [key, value] of Object.entries(target)) {
      out[key] = wrap(`${name}.${key}`, (value as AnyMethod).bind(target))
    }
    return out as T
  }
  return {
    connections: group('connections', inner.connections),
    tokens: group('tokens', inner.tokens),
    limits: group('limits', inner.limits),
    cleanup: wrap('cleanup', inner.cleanup.bind(inner) as AnyMethod) as Store['cleanup'],
  }
}

/** Wraps `inner` so every call is recorded. */
export function recordingStore(inner: Store = memoryStore()): RecordingStore {
  const calls: StoreCall[] = []
  const store = wrapStore(inner, (method, call) => async (...args) => {
    const result = await call(...args)
    calls.push({ method, args, result })
    return result
  })
  return { ...store, calls, dump: () => JSON.stringify(calls) }
}

/**
 * Wraps `inner` so each call first yields a varying number of microtasks (deterministic, 0–6),
 * which interleaves concurrent requests at every store access. A gateway that read a counter
 * and wrote it back across an `await` would lose updates under this store.
 */
export function interleavingStore(inner: Store = memoryStore()): StoreParts {
  let n = 0
  return wrapStore(inner, (_method, call) => async (...args) => {
    const hops = (n++ * 5) % 7
    for (let i = 0; i < hops; i++) await Promise.resolve()
    return call(...args)
  })
}

/** A store whose every method throws synchronously (`throw`) or rejects (`reject`). */
export function failingStore(
  mode: 'throw' | 'reject',
): StoreParts & { readonly attempts: string[] } {
  const attempts: string[] = []
  const fail = (method: string) => (): Promise<never> => {
    attempts.push(method)
    const error = new Error(`store down: ${method}`)
    if (mode === 'throw') throw error
    return Promise.reject(error)
  }
  const methods = (name: string, keys: readonly string[]) =>
    Object.fromEntries(keys.map((k) => [k, fail(`${name}.${k}`)]))
  return {
    attempts,
    connections: methods(
      'connections',
      STORE_METHODS.connections,
    ) as unknown as Store['connections'],
    tokens: methods('tokens', STORE_METHODS.tokens) as unknown as Store['tokens'],
    limits: methods('limits', STORE_METHODS.limits) as unknown as Store['limits'],
    cleanup: fail('cleanup') as Store['cleanup'],
  }
}

/** The parsed JSON body of a response. */
export function bodyOf(response: GatewayResponse): unknown {
  return response.body === null ? null : JSON.parse(response.body)
}

/** Codes of `request.rejected` events, in order. */
export function rejectionCodes(events: readonly GatewayEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'request.rejected' ? [e.code] : []))
}
