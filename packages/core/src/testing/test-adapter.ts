/**
 * `testAdapter()`: the adapter conformance suite (DESIGN §3). Adapters only translate, so every
 * adapter must answer the same HTTP request with the same status, headers and body. The suite
 * drives an app built by the adapter's `mount` through real HTTP semantics (a `Request` for
 * in-process adapters, a socket for servers) and compares each answer with the one rejection
 * table; it checks the effects through a direct-read oracle (the store and `onEvent`) rather
 * than through the adapter under test. Each test gets a fresh store, fake clock and gateway.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { describe, expect, it, onTestFinished } from 'vitest'
import { adapterOf } from '../adapters/serve.js'
import type { GatewayEvent } from '../events.js'
import { createGateway, type Gateway } from '../gateway.js'
import { type AnyHandler, defineHandler } from '../handlers.js'
import type { GatewayOptions } from '../options.js'
import { genericBody, REJECTION_STATUS, type RejectionCode, reject } from '../rejections.js'
import type { GatewayRequest } from '../request.js'
import type { Store } from '../store.js'
import { type CapturingConnections, capturingConnections } from './capturing-connections.js'
import { type FakeClock, fakeClock } from './fake-clock.js'
import { connectionIdFor, httpRequests } from './requests.js'

/** The response an adapter's app produced, as the suite reads it (a Fetch `Response` fits). */
export interface AdapterResponse {
  readonly status: number
  readonly headers: {
    get(name: string): string | null
    /** Every `Set-Cookie` value, unjoined. */
    getSetCookie(): string[]
  }
  text(): Promise<string>
}

/** A running app under test. */
export interface AdapterHarness {
  /**
   * Sends one request to the app and resolves its response. `path` starts with `/` and may
   * carry a query string; `init` is a Fetch `RequestInit` (its body may be a stream, in which
   * case `duplex: 'half'` is set). In-process adapters build `new Request(new URL(path,
   * 'http://localhost'), init)`; servers `fetch` their own address with `init`.
   */
  request(path: string, init: RequestInit): AdapterResponse | Promise<AdapterResponse>
  /** Stops the app (closes the server and its connections). Called after every test. */
  close(): void | Promise<void>
}

/** What the user must be identified as on the token route. */
export interface AdapterIdentity {
  readonly userId: string
}

/**
 * The app `mount` must build. Paths are fixed by the suite and given here so mounts do not
 * repeat them:
 *
 * - the adapter's integration routes at `POST {basePath}/:route`;
 * - the adapter's token route at `{tokenPath}` for **every** method (so a `GET` reaches it),
 *   identifying the user with `identify`, and preceded by the app's own middleware that adds
 *   each of `cookies` as a `Set-Cookie` header through the framework's usual mechanism;
 * - registered **after** the adapter, a catch-all for every other method and path that answers
 *   200 with the text `sibling(method, pathname, bodyText)`, reading the body itself.
 */
export interface AdapterApp {
  /** A fresh gateway for this test. */
  readonly gateway: Gateway
  /** Where the integration routes are mounted: `/ws`. */
  readonly basePath: string
  /** Where the token route is mounted: `/ws-token`. */
  readonly tokenPath: string
  /**
   * The user of a token request, from a header reader (`(name) => value`, any casing): the
   * `x-test-user` header, or `null` when it is absent.
   */
  readonly identify: (header: (name: string) => string | null | undefined) => AdapterIdentity | null
  /** `Set-Cookie` values the app adds on the token route, before the adapter's handler runs. */
  readonly cookies: readonly string[]
  /** The body the catch-all answers with. */
  readonly sibling: (method: string, pathname: string, body: string) => string
}

/** Options for {@link testAdapter}. */
export interface TestAdapterOptions {
  /** Name of the `describe` block, e.g. `'hono'`. */
  readonly name: string
  /** Returns a new, empty store for one test (the memory store is the usual choice). */
  readonly store: () => Store | Promise<Store>
  /** Builds and starts the app described by {@link AdapterApp}. Called once per test. */
  readonly mount: (app: AdapterApp) => AdapterHarness | Promise<AdapterHarness>
}

// ---------------------------------------------------------------------------------------------
// The app every adapter serves

const SECRET = 'conformance-secret-0123456789abcdef'
const ORIGIN = 'https://app.example.com'
const BASE_PATH = '/ws'
const TOKEN_PATH = '/ws-token'
const USER_HEADER = 'x-test-user'
const CLIENT_IP = '203.0.113.10'
const COOKIES = Object.freeze(['apigw_a=1; Path=/; HttpOnly', 'apigw_b=2; Path=/; SameSite=Strict'])
const MEGABYTE = 1024 * 1024
const CHUNK_BYTES = 64 * 1024
const SLOW_TEST_MS = 20_000
/** A short body deadline for the tests of stalled uploads. */
const BODY_TIMEOUT_MS = 200
const JSON_TYPE = 'application/json; charset=utf-8'

interface User {
  readonly id: string
}

function schema<T>(
  check: (value: Record<string, unknown>) => T | null,
): StandardSchemaV1<unknown, T> {
  return {
    '~standard': {
      version: 1,
      vendor: 'apigw-ws-conformance',
      validate(value) {
        const result = check(value as Record<string, unknown>)
        return result === null ? { issues: [{ message: 'invalid payload' }] } : { value: result }
      },
    },
  }
}

const HANDLERS: Readonly<Record<string, AnyHandler<User>>> = Object.freeze({
  echo: defineHandler<User, { readonly text: string }>({
    schema: schema((v) => (typeof v.text === 'string' ? { text: v.text } : null)),
    handle: (ctx, input) => ({ text: input.text, userId: ctx.userId }),
  }),
  shout: defineHandler<User>({
    handle: (ctx) => ({ shout: String(ctx.message.text).toUpperCase() }),
  }),
  ping: defineHandler<User>({
    async handle(ctx) {
      await ctx.reply({ pong: ctx.connectionId })
    },
  }),
  admin: defineHandler<User>({ permissions: { anyOf: ['admin'] }, handle: () => ({ ok: true }) }),
  join: defineHandler<User, { readonly room: string }>({
    schema: schema((v) => (typeof v.room === 'string' ? { room: v.room } : null)),
    async handle(ctx, input) {
      await ctx.join(input.room)
      return { channels: await ctx.channels() }
    },
  }),
  boom: defineHandler<User>({
    handle() {
      throw new Error('handler failure')
    },
  }),
})

/** Gateway option overrides a test may set. */
type Overrides = Partial<Omit<GatewayOptions<User>, 'store' | 'clock' | 'onEvent' | 'connections'>>

/**
 * Reads `property` of `target`, binding methods to it. The wrappers below proxy an empty object,
 * not the store itself, because stores are often frozen and a proxy of a frozen object may not
 * change what its properties return.
 */
function forward(target: object, property: string | symbol): unknown {
  const value: unknown = Reflect.get(target, property, target)
  return typeof value === 'function' ? value.bind(target) : value
}

/**
 * The store, with `connections.touch` and `admitMessage` (a message's store call, composed from
 * `touch` or native) failing for ids in `broken` (to provoke a 503).
 */
function withBrokenTouch(store: Store, broken: ReadonlySet<string>): Store {
  const unavailable = () => Promise.reject(new Error('store unavailable'))
  const touch: Store['connections']['touch'] = (connectionId, now) =>
    broken.has(connectionId) ? unavailable() : store.connections.touch(connectionId, now)
  const admitMessage: Store['admitMessage'] = (request, now) =>
    broken.has(request.connectionId) ? unavailable() : store.admitMessage(request, now)
  const connections = new Proxy({} as Store['connections'], {
    get: (_, property) => (property === 'touch' ? touch : forward(store.connections, property)),
  })
  return new Proxy({} as Store, {
    get: (_, property) =>
      property === 'connections'
        ? connections
        : property === 'admitMessage'
          ? admitMessage
          : forward(store, property),
  })
}

/** What the suite sends: a `RequestInit` whose headers are a plain record. */
interface HttpInit {
  readonly method: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: BodyInit | null
}

/** One request as the suite sends it. */
interface HttpCall {
  readonly path: string
  readonly init: HttpInit
}

/** A response read to the end. */
interface Answer {
  readonly status: number
  readonly headers: AdapterResponse['headers']
  readonly body: string
}

function segmentOf(route: string): string {
  if (route === '$connect') return 'connect'
  if (route === '$disconnect') return 'disconnect'
  if (route === '$default') return 'default'
  return route
}

/** The HTTP request API Gateway sends for a `GatewayRequest` built by `httpRequests`. */
function toHttp(request: GatewayRequest, drop: readonly string[] = []): HttpCall {
  const query = new URLSearchParams(Object.entries(request.query)).toString()
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers)) {
    if (!drop.includes(name)) headers[name] = value
  }
  const path = `${BASE_PATH}/${encodeURIComponent(segmentOf(request.route))}${query === '' ? '' : `?${query}`}`
  return { path, init: { method: request.method, headers, body: request.body as BodyInit | null } }
}

/** Everything a test works with. */
interface Fixture {
  readonly gateway: Gateway
  readonly store: Store
  readonly clock: FakeClock
  readonly events: GatewayEvent[]
  readonly transport: CapturingConnections
  /** Connection ids whose `touch` (and `admitMessage`) fails. */
  readonly broken: Set<string>
  readonly http: ReturnType<typeof httpRequests>
  /** Sends through the adapter and reads the whole response. */
  send(call: HttpCall): Promise<Answer>
  /** A token issued directly by the gateway (setup, not under test). */
  token(userId?: string, channel?: string): Promise<string>
  /** Opens a connection directly through the gateway (setup, not under test). */
  connected(userId?: string): Promise<string>
}

async function fixture(options: TestAdapterOptions, overrides: Overrides = {}): Promise<Fixture> {
  const clock = fakeClock()
  const events: GatewayEvent[] = []
  const transport = capturingConnections()
  const broken = new Set<string>()
  const store = await options.store()
  const gateway = createGateway<User>({
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    handlers: HANDLERS,
    auth: {
      loadUser: (id) => (id === 'ghost' ? null : { id }),
      hasPermission: () => false,
      authorizeChannel: ({ channel }) => channel !== 'forbidden',
    },
    ...overrides,
    store: withBrokenTouch(store, broken),
    connections: transport,
    clock,
    onEvent: (event) => events.push(event),
  })
  const harness = await options.mount(
    Object.freeze({
      gateway,
      basePath: BASE_PATH,
      tokenPath: TOKEN_PATH,
      identify(header: (name: string) => string | null | undefined) {
        const userId = header(USER_HEADER)
        return typeof userId === 'string' && userId !== '' ? { userId } : null
      },
      cookies: COOKIES,
      sibling: (method: string, pathname: string, body: string) => `${method} ${pathname}\n${body}`,
    }),
  )
  onTestFinished(() => harness.close())
  const http = httpRequests({ secret: SECRET, clientIp: CLIENT_IP })

  async function token(userId = 'user-1', channel?: string): Promise<string> {
    const response = await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId,
      ...(channel === undefined ? {} : { channel }),
    })
    expect(response.status, 'setup: issuing a token').toBe(200)
    return (JSON.parse(response.body ?? '{}') as { token: string }).token
  }

  return {
    gateway,
    store,
    clock,
    events,
    transport,
    broken,
    http,
    async send(call) {
      const { method, headers, body } = call.init
      const init: RequestInit & { duplex?: 'half' } = { method }
      if (headers !== undefined) init.headers = { ...headers }
      if (body !== undefined && body !== null) init.body = body
      if (body instanceof ReadableStream) init.duplex = 'half'
      const response = await harness.request(call.path, init)
      return { status: response.status, headers: response.headers, body: await response.text() }
    },
    token,
    async connected(userId = 'user-1') {
      const connectionId = connectionIdFor('adapter')
      const response = await gateway.handle(
        http.connect({ connectionId, token: await token(userId) }),
      )
      expect(response.status, 'setup: connecting').toBe(200)
      return connectionId
    },
  }
}

function tokenCall(
  method: string,
  headers: Readonly<Record<string, string>>,
  user: string | null = 'user-1',
): HttpCall {
  return {
    path: TOKEN_PATH,
    init: {
      method,
      headers: { ...headers, ...(user === null ? {} : { [USER_HEADER]: user }) },
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: '' }),
    },
  }
}

function json(body: string): unknown {
  return JSON.parse(body) as unknown
}

/** The refusal every adapter must produce for `code`: the table's status and generic body. */
function expectRefusal(answer: Answer, code: RejectionCode): void {
  const status = REJECTION_STATUS[code]
  expect({ status: answer.status, body: answer.body }, code).toEqual({
    status,
    body: genericBody(status),
  })
  expect(answer.headers.get('content-type')).toBe(JSON_TYPE)
  expect(answer.headers.get('cache-control')).toBe('no-store')
}

function lastCode(events: readonly GatewayEvent[], type: 'request.rejected' | 'token.rejected') {
  const found = events.filter((e) => e.type === type)
  const last = found[found.length - 1]
  return last === undefined ? null : (last as { code: RejectionCode }).code
}

// ---------------------------------------------------------------------------------------------
// The rejection table: one row per code, each provoked over HTTP

interface RejectionRow {
  /** Gateway overrides for this row. */
  readonly options?: Overrides
  /** Which operator event records the refusal. */
  readonly event: 'request.rejected' | 'token.rejected'
  /** Builds the request (may set state up directly through the gateway first). */
  readonly call: (f: Fixture) => Promise<HttpCall> | HttpCall
  /** Extra header expectations. */
  readonly headers?: (answer: Answer) => void
}

const INVALID_UTF8 = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])

const REJECTIONS: Readonly<Record<RejectionCode, RejectionRow>> = {
  BODY_TOO_LARGE: {
    event: 'request.rejected',
    call: (f) =>
      toHttp(
        f.http.message({
          connectionId: 'anyConn1234=',
          body: 'x'.repeat(adapterOf(f.gateway).maxBodyBytes + 1),
        }),
      ),
  },
  BODY_TIMEOUT: {
    options: { bodyTimeoutMs: BODY_TIMEOUT_MS },
    event: 'request.rejected',
    call: async (f) => {
      const call = toHttp(f.http.message({ connectionId: await f.connected(), body: '' }))
      return { ...call, init: { ...call.init, body: stallingBody(MEGABYTE, CHUNK_BYTES).stream } }
    },
  },
  BODY_ENCODING_INVALID: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(f.http.message({ connectionId: await f.connected(), body: INVALID_UTF8 })),
  },
  SECRET_INVALID: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(
        f.http.connect({ token: await f.token(), headers: { 'x-apigw-secret': 'wrong-secret' } }),
      ),
  },
  GATEWAY_SHAPE_INVALID: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(
        f.http.message({
          connectionId: await f.connected(),
          body: { action: 'echo', text: 'hi' },
          headers: { 'user-agent': 'curl/8.5.0' },
        }),
      ),
  },
  CONNECTION_ID_INVALID: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(f.http.connect({ connectionId: 'not valid!', token: await f.token() })),
  },
  CLIENT_IP_MISSING: {
    event: 'request.rejected',
    call: async (f) => toHttp(f.http.connect({ token: await f.token() }), ['x-forwarded-for']),
  },
  RATE_LIMITED: {
    options: { rateLimits: { connectPerIp: { limit: 1, windowMs: 60_000 } } },
    event: 'request.rejected',
    async call(f) {
      const first = await f.send(toHttp(f.http.connect({ token: await f.token() })))
      expect(first.status, 'the first connect is within the limit').toBe(200)
      return toHttp(f.http.connect({ token: await f.token() }))
    },
    headers(answer) {
      expect(answer.headers.get('retry-after'), 'Retry-After: the whole window is left').toBe('60')
    },
  },
  ORIGIN_REJECTED: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(f.http.connect({ token: await f.token(), origin: 'https://evil.example.com' })),
  },
  HOST_REJECTED: {
    options: { allowedHosts: ['ws.example.com'] },
    event: 'request.rejected',
    call: async (f) =>
      toHttp(f.http.connect({ token: await f.token(), headers: { host: 'evil.example.com' } })),
  },
  TOKEN_INVALID: {
    event: 'request.rejected',
    call: (f) => toHttp(f.http.connect({ token: 'not-a-token' })),
  },
  TOKEN_CHANNEL_MISMATCH: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(f.http.connect({ token: await f.token('user-1', 'room-a'), channel: 'room-b' })),
  },
  USER_UNKNOWN: {
    event: 'request.rejected',
    call: async (f) => toHttp(f.http.connect({ token: await f.token('ghost') })),
  },
  CHANNEL_INVALID: {
    event: 'request.rejected',
    call: async (f) => toHttp(f.http.connect({ token: await f.token(), channel: 'no spaces!' })),
  },
  CHANNEL_FORBIDDEN: {
    event: 'request.rejected',
    call: async (f) => toHttp(f.http.connect({ token: await f.token(), channel: 'forbidden' })),
  },
  CHANNEL_LIMIT_REACHED: {
    options: { maxChannelsPerConnection: 1 },
    event: 'request.rejected',
    call: async (f) => {
      const connectionId = await f.connected()
      const first = await f.gateway.handle(
        f.http.message({ connectionId, body: { action: 'join', room: 'room-1' } }),
      )
      expect(first.status, 'setup: the first join fits').toBe(200)
      return toHttp(f.http.message({ connectionId, body: { action: 'join', room: 'room-2' } }))
    },
  },
  CONNECTION_DUPLICATE: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(f.http.connect({ connectionId: await f.connected(), token: await f.token() })),
  },
  CONNECTION_UNKNOWN: {
    event: 'request.rejected',
    call: (f) =>
      toHttp(
        f.http.message({ connectionId: 'neverSeen123=', body: { action: 'echo', text: 'hi' } }),
      ),
  },
  JSON_INVALID: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(f.http.message({ connectionId: await f.connected(), body: 'not json' })),
  },
  HANDLER_UNKNOWN: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(f.http.message({ connectionId: await f.connected(), body: { action: 'nope' } })),
  },
  PAYLOAD_INVALID: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(
        f.http.message({ connectionId: await f.connected(), body: { action: 'echo', text: 5 } }),
      ),
  },
  PERMISSION_DENIED: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(f.http.message({ connectionId: await f.connected(), body: { action: 'admin' } })),
  },
  UNAUTHENTICATED: {
    event: 'token.rejected',
    call: () => tokenCall('POST', { origin: ORIGIN }, null),
  },
  CSRF_REJECTED: {
    event: 'token.rejected',
    call: () => tokenCall('POST', { origin: 'https://evil.example.com' }),
  },
  ROUTE_UNKNOWN: {
    event: 'request.rejected',
    call: (f) => ({ ...toHttp(f.http.connect()), path: `${BASE_PATH}/not.a.route` }),
  },
  METHOD_NOT_ALLOWED: {
    event: 'token.rejected',
    call: () => tokenCall('GET', { origin: ORIGIN }),
    headers(answer) {
      expect(answer.headers.get('allow')).toBe('POST')
    },
  },
  CHECK_FAILED: {
    options: {
      checks: {
        connect: [
          ({ request }) => (request.query.deny === '1' ? reject('CHECK_FAILED') : undefined),
        ],
      },
    },
    event: 'request.rejected',
    call: async (f) => toHttp(f.http.connect({ token: await f.token(), query: { deny: '1' } })),
  },
  STORE_UNAVAILABLE: {
    event: 'request.rejected',
    async call(f) {
      const connectionId = await f.connected()
      f.broken.add(connectionId)
      return toHttp(f.http.message({ connectionId, body: { action: 'echo', text: 'hi' } }))
    },
  },
  INTERNAL_ERROR: {
    event: 'request.rejected',
    call: async (f) =>
      toHttp(f.http.message({ connectionId: await f.connected(), body: { action: 'boom' } })),
  },
}

// ---------------------------------------------------------------------------------------------
// Streams for the body-cap tests

interface TrackedBody {
  readonly stream: ReadableStream<Uint8Array>
  /** Bytes handed to the consumer so far. */
  produced(): number
  /** `true` once every byte was produced. */
  finished(): boolean
}

/**
 * A body of `totalBytes` produced in 64 KiB chunks on demand, which stops producing after
 * `stallAfterBytes` and waits until it is cancelled. An app that waits for the whole body never
 * answers; one that refuses early answers while the body is still stalled.
 */
function stallingBody(totalBytes: number, stallAfterBytes: number): TrackedBody {
  let produced = 0
  let release: (() => void) | null = null
  const chunk = new Uint8Array(CHUNK_BYTES).fill(0x61)
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (produced >= stallAfterBytes) {
          return new Promise<void>((resolve) => {
            release = resolve
          })
        }
        const size = Math.min(CHUNK_BYTES, totalBytes - produced)
        produced += size
        controller.enqueue(size === CHUNK_BYTES ? chunk : chunk.subarray(0, size))
        if (produced >= totalBytes) controller.close()
        return undefined
      },
      cancel() {
        release?.()
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, produced: () => produced, finished: () => produced >= totalBytes }
}

/** A JSON echo message whose UTF-8 encoding is exactly `bytes` long. */
function echoOfSize(bytes: number): { readonly body: string; readonly text: string } {
  const empty = JSON.stringify({ action: 'echo', text: '' })
  const text = 'a'.repeat(bytes - empty.length)
  return { body: JSON.stringify({ action: 'echo', text }), text }
}

// ---------------------------------------------------------------------------------------------
// The suite

/**
 * Registers the adapter conformance suite for one adapter. Call it at the top level of a test
 * file. Every test builds a fresh store (`options.store`), fake clock and gateway, mounts the app
 * with `options.mount`, sends real HTTP requests through it, and closes it afterwards. Status,
 * body and the relevant headers are compared with the rejection table, so every adapter that
 * passes answers every request identically. Nothing can be skipped.
 *
 * @example
 * ```ts
 * testAdapter({
 *   name: 'hono',
 *   store: () => memoryStore(),
 *   mount({ gateway, basePath, tokenPath, identify, cookies, sibling }) {
 *     const app = new Hono()
 *     app.route(basePath, websocketRoutes(gateway))
 *     // … token route, cookies, catch-all (see AdapterApp)
 *     return { request: (path, init) => app.request(path, init), close() {} }
 *   },
 * })
 * ```
 */
export function testAdapter(options: TestAdapterOptions): void {
  if (typeof options?.name !== 'string' || options.name === '') {
    throw new TypeError('testAdapter: name must be a non-empty string')
  }
  if (typeof options.store !== 'function' || typeof options.mount !== 'function') {
    throw new TypeError('testAdapter: store and mount must be functions')
  }
  const setup = (overrides?: Overrides) => fixture(options, overrides)

  describe(`adapter conformance: ${options.name}`, () => {
    describe('rejections answer with the table status and the generic body', () => {
      for (const [code, row] of Object.entries(REJECTIONS) as [RejectionCode, RejectionRow][]) {
        it(`${code} → ${REJECTION_STATUS[code]}`, async () => {
          const f = await setup(row.options)
          const answer = await f.send(await row.call(f))
          expectRefusal(answer, code)
          row.headers?.(answer)
          expect(lastCode(f.events, row.event), 'the operator event names the code').toBe(code)
        })
      }
    })

    describe('$connect', () => {
      it('accepts a valid connect with an empty 200 and stores the connection', async () => {
        const f = await setup()
        const connectionId = connectionIdFor('accept')
        const answer = await f.send(
          toHttp(
            f.http.connect({ connectionId, token: await f.token('user-7'), channel: 'room-1' }),
          ),
        )
        expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: '' })
        expect(f.events.find((e) => e.type === 'connect.accepted')).toMatchObject({
          connectionId,
          userId: 'user-7',
          channels: ['room-1'],
          ip: CLIENT_IP,
        })
        expect(await f.store.connections.get(connectionId)).toMatchObject({
          userId: 'user-7',
          disconnectedAt: null,
        })
        expect([...(await f.store.connections.channels(connectionId))]).toEqual(['room-1'])
      })

      it('takes the first value of a repeated query parameter, as core does', async () => {
        const f = await setup()
        const call = toHttp(f.http.connect({ token: await f.token() }))
        const answer = await f.send({ ...call, path: `${call.path}&token=forged` })
        expect(answer.status).toBe(200)
      })

      it('routes by the mapped route-key header only when routeKeyHeader is configured', async () => {
        const header = { 'x-apigw-route-key': '$connect' }
        const mapped = await setup({ routeKeyHeader: 'x-apigw-route-key' })
        const connectionId = connectionIdFor('routekey')
        const call = toHttp(mapped.http.connect({ connectionId, token: await mapped.token() }))
        const events = call.path.replace(`${BASE_PATH}/connect`, `${BASE_PATH}/events`)
        const answer = await mapped.send({
          path: events,
          init: { ...call.init, headers: { ...call.init.headers, ...header } },
        })
        expect(answer.status).toBe(200)
        expect(await mapped.store.connections.get(connectionId)).not.toBeNull()

        // Unmapped: a client-sent header (API Gateway forwards handshake headers) changes nothing.
        const plain = await setup()
        const spoofed = toHttp(plain.http.connect({ connectionId: connectionIdFor('spoof') }))
        const refused = await plain.send({
          ...spoofed,
          init: {
            ...spoofed.init,
            headers: { ...spoofed.init.headers, 'x-apigw-route-key': '$disconnect' },
          },
        })
        expect(refused.status).toBe(401)
      })
    })

    describe('messages', () => {
      it('routes $default by action and returns the handler reply as JSON', async () => {
        const f = await setup()
        const connectionId = await f.connected('user-3')
        const answer = await f.send(
          toHttp(f.http.message({ connectionId, body: { action: 'echo', text: 'héllo' } })),
        )
        expect(answer.status).toBe(200)
        expect(answer.headers.get('content-type')).toBe(JSON_TYPE)
        expect(json(answer.body)).toEqual({ text: 'héllo', userId: 'user-3' })
        expect((await f.store.connections.get(connectionId))?.requestCount).toBe(1)
      })

      it('routes a custom route to the handler of the same name', async () => {
        const f = await setup()
        const connectionId = await f.connected()
        const answer = await f.send(
          toHttp(f.http.message({ connectionId, route: 'shout', body: { text: 'hi' } })),
        )
        expect(answer.status).toBe(200)
        expect(json(answer.body)).toEqual({ shout: 'HI' })
      })

      it('lets a handler reply through the @connections transport', async () => {
        const f = await setup()
        const connectionId = await f.connected()
        const answer = await f.send(
          toHttp(f.http.message({ connectionId, body: { action: 'ping' } })),
        )
        expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: '' })
        expect(f.transport.json(connectionId)).toEqual([{ pong: connectionId }])
      })

      it('accepts a body of exactly maxBodyBytes and refuses one byte more', async () => {
        const f = await setup()
        const connectionId = await f.connected()
        const max = adapterOf(f.gateway).maxBodyBytes
        const fits = echoOfSize(max)
        const accepted = await f.send(toHttp(f.http.message({ connectionId, body: fits.body })))
        expect(accepted.status).toBe(200)
        expect((json(accepted.body) as { text: string }).text).toHaveLength(fits.text.length)
        const over = echoOfSize(max + 1)
        expectRefusal(
          await f.send(toHttp(f.http.message({ connectionId, body: over.body }))),
          'BODY_TOO_LARGE',
        )
      })
    })

    describe('body cap is enforced before the body is buffered', () => {
      it(
        'refuses a declared 10 MB Content-Length without waiting for the body',
        async () => {
          const f = await setup()
          // One chunk (below the cap) goes out, then the upload stalls: only the declared length
          // can trigger the refusal, and an app that waits for more of the body never answers.
          // (Some HTTP clients send nothing, headers included, before the first body chunk.)
          const body = stallingBody(10 * MEGABYTE, CHUNK_BYTES)
          const call = toHttp(f.http.message({ connectionId: await f.connected(), body: '' }))
          const answer = await f.send({
            path: call.path,
            init: {
              ...call.init,
              headers: { ...call.init.headers, 'content-length': String(10 * MEGABYTE) },
              body: body.stream,
            },
          })
          expectRefusal(answer, 'BODY_TOO_LARGE')
          expect(body.finished()).toBe(false)
          expect(lastCode(f.events, 'request.rejected')).toBe('BODY_TOO_LARGE')
        },
        SLOW_TEST_MS,
      )

      it(
        'stops reading a streamed 10 MB body past the cap and answers while it is still stalled',
        async () => {
          const f = await setup()
          const body = stallingBody(10 * MEGABYTE, MEGABYTE)
          const call = toHttp(f.http.message({ connectionId: await f.connected(), body: '' }))
          const answer = await f.send({
            path: call.path,
            init: { ...call.init, body: body.stream },
          })
          expectRefusal(answer, 'BODY_TOO_LARGE')
          expect(body.finished()).toBe(false)
          expect(body.produced()).toBeLessThanOrEqual(MEGABYTE)
          expect(lastCode(f.events, 'request.rejected')).toBe('BODY_TOO_LARGE')
        },
        SLOW_TEST_MS,
      )
    })

    describe('the head is checked before the body is read', () => {
      /**
       * Sends `call` with a body that stalls after its first 64 KiB chunk (well within the cap)
       * and expects `code` while the upload is still stalled: the app answered from the head.
       */
      async function refusedWhileStalled(f: Fixture, call: HttpCall, code: RejectionCode) {
        const body = stallingBody(MEGABYTE, CHUNK_BYTES)
        const answer = await f.send({ ...call, init: { ...call.init, body: body.stream } })
        expectRefusal(answer, code)
        expect(body.finished(), 'the body was never sent in full').toBe(false)
        expect(body.produced()).toBeLessThanOrEqual(CHUNK_BYTES)
        expect(lastCode(f.events, 'request.rejected')).toBe(code)
      }

      it(
        'refuses a request without the integration secret before reading its body',
        async () => {
          const f = await setup()
          const message = f.http.message({ connectionId: await f.connected(), body: '' })
          await refusedWhileStalled(f, toHttp(message, ['x-apigw-secret']), 'SECRET_INVALID')
        },
        SLOW_TEST_MS,
      )

      it(
        'refuses a message without a valid connection id header before reading its body',
        async () => {
          const f = await setup()
          const message = f.http.message({ connectionId: 'not valid!', body: '' })
          await refusedWhileStalled(f, toHttp(message), 'CONNECTION_ID_INVALID')
        },
        SLOW_TEST_MS,
      )

      it(
        'refuses a path that names no route before reading its body',
        async () => {
          const f = await setup()
          const message = toHttp(f.http.message({ connectionId: await f.connected(), body: '' }))
          const call = { ...message, path: `${BASE_PATH}/not.a.route` }
          await refusedWhileStalled(f, call, 'ROUTE_UNKNOWN')
        },
        SLOW_TEST_MS,
      )

      it(
        'answers 408 when an authenticated body stalls past bodyTimeoutMs, declared or chunked',
        async () => {
          const f = await setup({ bodyTimeoutMs: BODY_TIMEOUT_MS })
          const connectionId = await f.connected()
          const call = toHttp(f.http.message({ connectionId, body: '' }))
          await refusedWhileStalled(f, call, 'BODY_TIMEOUT')
          const declared = {
            ...call,
            init: {
              ...call.init,
              headers: { ...call.init.headers, 'content-length': String(2 * CHUNK_BYTES) },
            },
          }
          await refusedWhileStalled(f, declared, 'BODY_TIMEOUT')
          const later = await f.send(
            toHttp(f.http.message({ connectionId, body: { action: 'echo', text: 'on time' } })),
          )
          expect(later.status, 'a body that arrives in time is served').toBe(200)
        },
        SLOW_TEST_MS,
      )
    })

    describe('$disconnect', () => {
      it('marks the connection disconnected; a repeat is a no-op and later messages are 404', async () => {
        const f = await setup()
        const connectionId = await f.connected()
        const first = await f.send(toHttp(f.http.disconnect({ connectionId })))
        expect({ status: first.status, body: first.body }).toEqual({ status: 200, body: '' })
        expect((await f.store.connections.get(connectionId))?.disconnectedAt).toBe(f.clock.now())
        const again = await f.send(toHttp(f.http.disconnect({ connectionId })))
        expect(again.status).toBe(200)
        expect(f.events.filter((e) => e.type === 'connection.disconnected')).toHaveLength(1)
        const late = await f.send(
          toHttp(f.http.message({ connectionId, body: { action: 'echo', text: 'x' } })),
        )
        expectRefusal(late, 'CONNECTION_UNKNOWN')
      })
    })

    describe('token route', () => {
      it('issues a token for an allowed Origin, keeps every Set-Cookie, and the token connects', async () => {
        const f = await setup()
        const answer = await f.send(tokenCall('POST', { origin: ORIGIN }, 'user-9'))
        expect(answer.status).toBe(200)
        expect(answer.headers.get('content-type')).toBe(JSON_TYPE)
        expect(answer.headers.get('cache-control')).toBe('no-store')
        expect(answer.headers.getSetCookie()).toEqual([...COOKIES])
        const grant = json(answer.body) as { token: string; expiresIn: number }
        expect(grant.expiresIn).toBe(60)
        const connectionId = connectionIdFor('granted')
        const connect = await f.send(toHttp(f.http.connect({ connectionId, token: grant.token })))
        expect(connect.status).toBe(200)
        expect((await f.store.connections.get(connectionId))?.userId).toBe('user-9')
      })

      it('accepts a same-origin request without Origin (Sec-Fetch-Site: same-origin)', async () => {
        const f = await setup()
        const answer = await f.send(tokenCall('POST', { 'sec-fetch-site': 'same-origin' }))
        expect(answer.status).toBe(200)
        expect(typeof (json(answer.body) as { token?: unknown }).token).toBe('string')
      })

      it('refuses a cross-site request without Origin and keeps the app cookies on the refusal', async () => {
        const f = await setup()
        const answer = await f.send(tokenCall('POST', { 'sec-fetch-site': 'cross-site' }))
        expectRefusal(answer, 'CSRF_REJECTED')
        expect(answer.headers.getSetCookie()).toEqual([...COOKIES])
      })

      it('sends Retry-After when the per-user issuance limit is reached', async () => {
        const f = await setup({ rateLimits: { tokenPerUser: { limit: 1, windowMs: 60_000 } } })
        expect((await f.send(tokenCall('POST', { origin: ORIGIN }))).status).toBe(200)
        const answer = await f.send(tokenCall('POST', { origin: ORIGIN }))
        expectRefusal(answer, 'RATE_LIMITED')
        expect(answer.headers.get('retry-after')).toBe('60')
      })
    })

    describe('the rest of the app is unaffected', () => {
      it('passes other paths, with their whole body, to the routes after the adapter', async () => {
        const f = await setup()
        const large = 'b'.repeat(adapterOf(f.gateway).maxBodyBytes * 2)
        const outside = await f.send({ path: '/echo', init: { method: 'POST', body: large } })
        expect({ status: outside.status, body: outside.body }).toEqual({
          status: 200,
          body: `POST /echo\n${large}`,
        })
        const deeper = await f.send({
          path: `${BASE_PATH}/nested/echo`,
          init: { method: 'POST', body: 'deeper body' },
        })
        expect({ status: deeper.status, body: deeper.body }).toEqual({
          status: 200,
          body: `POST ${BASE_PATH}/nested/echo\ndeeper body`,
        })
        expect(f.events.filter((e) => e.type === 'request.rejected')).toEqual([])
      })

      it('serves only POST on the integration routes: other methods reach the app', async () => {
        const f = await setup()
        const answer = await f.send({ path: `${BASE_PATH}/connect`, init: { method: 'GET' } })
        expect({ status: answer.status, body: answer.body }).toEqual({
          status: 200,
          body: `GET ${BASE_PATH}/connect\n`,
        })
      })
    })
  })
}
