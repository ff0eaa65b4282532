/**
 * Properties over adversarial input: origin matching, the identifier parsers, the client address
 * extractor and its IPv6 keys, and the totality of the whole pipeline.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect } from 'vitest'
import {
  API_ID,
  kitConfig,
  ORIGIN,
  recordingStore,
  SECRET,
  setup,
  stateFor,
} from '../test/gateway-kit.js'
import type { WebSocketEvent } from './adapters/lambda.js'
import { parseClientAddress, rawClientIp } from './checks/client-ip.js'
import { isOriginAllowed, origin } from './checks/origin-checks.js'
import { REJECTION_STATUS } from './rejections.js'
import type { GatewayRequest } from './request.js'
import { httpRequests } from './testing/requests.js'
import { isTokenFormat } from './tokens.js'
import { isChannel, isConnectionId, isHandlerName } from './validators.js'

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
/** Strings close to the interesting formats: their alphabets plus a few intruders. */
const nearAlphabet = (extra: string, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...`${ALNUM}${extra} .+/%é\u0000`), maxLength })
const anyString = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    maxLength: 50,
  }),
)

/** A serialized origin: scheme, host and an optional non-default port. */
const serializedOrigin = fc
  .tuple(
    fc.constantFrom('http', 'https'),
    fc.domain(),
    fc.option(fc.integer({ min: 1, max: 65_535 })),
  )
  .map(
    ([scheme, host, port]) =>
      new URL(`${scheme}://${host}${port === null ? '' : `:${port}`}`).origin,
  )

describe('origin matching', () => {
  test.prop([serializedOrigin, anyString])(
    'any string other than the allowed origin is refused',
    (allowed, s) => {
      fc.pre(s !== allowed)
      expect(isOriginAllowed(s, new Set([allowed]))).toBe(false)
    },
  )

  test.prop([serializedOrigin, fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })])(
    'prefixed or suffixed variants of the allowed origin are refused',
    (allowed, prefix, suffix) => {
      fc.pre(prefix !== '' || suffix !== '')
      const allowedSet = new Set([allowed])
      for (const variant of [
        `${prefix}${allowed}${suffix}`,
        `${allowed}${suffix}`,
        `${prefix}${allowed}`,
        `${allowed}.${suffix}`,
        `${allowed}/${suffix}`,
        `${allowed}:${suffix}`,
        allowed.toUpperCase(),
      ]) {
        if (variant !== allowed) expect(isOriginAllowed(variant, allowedSet)).toBe(false)
      }
    },
  )

  test.prop([serializedOrigin, anyString], { numRuns: 50 })(
    'the $connect origin step agrees: only the exact allowed origin passes',
    (allowed, s) => {
      const config = kitConfig({ allowedOrigins: [allowed] })
      const request = httpRequests({ secret: SECRET }).connect({ origin: s })
      const exact = httpRequests({ secret: SECRET }).connect({ origin: allowed })
      expect(origin(stateFor(config, request)) === undefined).toBe(s === allowed)
      expect(origin(stateFor(config, exact))).toBeUndefined()
    },
  )
})

describe('identifier parsers agree with their regexes and never throw', () => {
  const cases = [
    ['isConnectionId', isConnectionId, /^[A-Za-z0-9_=-]{1,128}$/, nearAlphabet('_=-', 140)],
    ['isChannel', isChannel, /^[A-Za-z0-9_-]{1,128}$/, nearAlphabet('_=-', 140)],
    ['isHandlerName', isHandlerName, /^[A-Za-z][A-Za-z0-9_-]{0,63}$/, nearAlphabet('_-', 70)],
    [
      'isTokenFormat',
      isTokenFormat,
      /^awst_[A-Za-z0-9_-]{43}$/,
      fc
        .tuple(fc.constantFrom('awst_', 'awsx_', 'AWST_', ''), nearAlphabet('_-=', 46))
        .map(([p, s]) => p + s),
    ],
  ] as const

  for (const [name, parse, pattern, near] of cases) {
    test.prop([fc.oneof(near, anyString)], { numRuns: 300 })(`${name} ⇔ ${pattern}`, (value) => {
      expect(parse(value)).toBe(pattern.test(value))
    })

    test.prop([fc.integer({ min: 1_000, max: 2_000_000 }), fc.constantFrom('a', '=', '_', ' ')], {
      numRuns: 10,
    })(`${name} refuses huge strings`, (length, fill) => {
      expect(parse(`awst_${fill.repeat(length)}`)).toBe(false)
      expect(parse(fill.repeat(length))).toBe(false)
    })

    test.prop([fc.anything()], { numRuns: 100 })(`${name} refuses non-strings`, (value) => {
      fc.pre(typeof value !== 'string')
      expect(parse(value)).toBe(false)
    })
  }
})

const ipv4 = fc.ipV4()
const address = fc.oneof(fc.ipV4(), fc.ipV6())

describe('the client address extractor', () => {
  test.prop([fc.array(anyString, { maxLength: 8 }), address])(
    'any attacker-chosen prefix before the real address yields the real address',
    (prefix, real) => {
      const headers = { 'x-forwarded-for': [...prefix, real].join(', ') }
      const request: GatewayRequest = {
        route: '$connect',
        method: 'POST',
        headers,
        query: {},
        body: null,
      }
      expect(rawClientIp(request, { sourceIpHeader: null, trustedProxies: 0 })).toBe(real)
    },
  )

  test.prop([fc.array(anyString, { maxLength: 5 }), address, fc.array(ipv4, { maxLength: 4 })])(
    'with trustedProxies = k, the entry k from the right is the client',
    (prefix, real, proxies) => {
      const headers = { 'x-forwarded-for': [...prefix, real, ...proxies].join(',') }
      const request: GatewayRequest = {
        route: '$connect',
        method: 'POST',
        headers,
        query: {},
        body: null,
      }
      const source = { sourceIpHeader: null, trustedProxies: proxies.length }
      expect(rawClientIp(request, source)).toBe(real)
    },
  )

  test.prop([fc.array(anyString, { maxLength: 5 }), address], { numRuns: 40 })(
    'the connect limit is keyed on the real address, whatever the prefix',
    async (prefix, real) => {
      const store = recordingStore()
      const { gateway } = setup({}, store)
      const http = httpRequests({ secret: SECRET, clientIp: real })
      const clientForwardedFor = prefix.join(', ')
      await gateway.handle(http.connect(clientForwardedFor === '' ? {} : { clientForwardedFor }))
      const key = parseClientAddress(real)?.key
      expect(key).toBeDefined()
      expect(store.calls[0]?.method).toBe('limits.hit')
      expect(store.calls[0]?.args[0]).toBe(`connect.ip:${key}`)
    },
  )

  test.prop([anyString])('never throws and parses only what it can canonicalize', (value) => {
    const parsed = parseClientAddress(value)
    if (parsed !== null) expect(parseClientAddress(parsed.ip)).toEqual(parsed)
  })
})

/** 8 groups that are not an IPv4-mapped address. */
const groups = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
  .filter((g) => !(g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff))

/** One of several spellings of the same IPv6 address. */
function spell(g: readonly number[], style: number): string {
  const full = g.map((x) => x.toString(16)).join(':')
  switch (style % 4) {
    case 0:
      return full
    case 1:
      return full.toUpperCase()
    case 2:
      return g.map((x) => x.toString(16).padStart(4, '0')).join(':')
    default:
      return new URL(`http://[${full}]/`).hostname.slice(1, -1)
  }
}

describe('IPv6 rate-limit keys', () => {
  test.prop([
    groups,
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 5, maxLength: 5 }),
    fc.nat(),
    fc.nat(),
  ])(
    'two addresses in the same /56 share a key, however they are spelled',
    (a, tail, styleA, styleB) => {
      const b = [
        a[0],
        a[1],
        a[2],
        ((a[3] as number) & 0xff00) | ((tail[0] as number) & 0xff),
        ...tail.slice(1),
      ]
      const keyA = parseClientAddress(spell(a, styleA))?.key
      const keyB = parseClientAddress(spell(b as number[], styleB))?.key
      expect(keyA).toBeDefined()
      expect(keyA).toBe(keyB)
    },
  )

  test.prop([groups, groups])('addresses in different /56 prefixes have different keys', (a, b) => {
    const prefix = (g: readonly number[]) => [g[0], g[1], g[2], (g[3] as number) >>> 8].join(':')
    fc.pre(prefix(a) !== prefix(b))
    expect(parseClientAddress(spell(a, 0))?.key).not.toBe(parseClientAddress(spell(b, 0))?.key)
  })
})

const STATUSES = new Set<number>([200, ...Object.values(REJECTION_STATUS)])
const ROUTES = fc.oneof(
  fc.constantFrom('$connect', '$disconnect', '$default', 'chat', 'constructor', '__proto__'),
  fc.string({ maxLength: 20 }),
)
const headerValue = fc.oneof(
  anyString,
  fc.constantFrom(SECRET, ORIGIN, API_ID, `AmazonAPIGateway_${API_ID}`),
)
const body = fc.oneof(
  fc.constant(null),
  anyString,
  fc.json({ maxDepth: 4 }),
  fc.uint8Array({ maxLength: 64 }),
  fc
    .record({ action: fc.constantFrom('echo', 'chat', 'default', 'toString', '__proto__') })
    .map((o) => JSON.stringify(o)),
)

describe('pipeline totality', () => {
  /** A gateway with one live connection and two unused tokens the generated requests may use. */
  async function world() {
    const kit = setup()
    const live = await kit.connect({ connectionId: 'liveConn1=' })
    expect(live.response.status).toBe(200)
    const tokens = [await kit.issue('u2'), await kit.issue('u3')]
    return { ...kit, tokens }
  }

  /** Requests near valid ones: each header kept, dropped or replaced; extra headers and query. */
  const mutated = fc.record({
    kind: fc.constantFrom('connect', 'message', 'disconnect'),
    route: fc.option(ROUTES, { nil: undefined }),
    drop: fc.array(
      fc.constantFrom(
        'x-apigw-secret',
        'origin',
        'connectionid',
        'user-agent',
        'x-amzn-apigateway-api-id',
        'x-forwarded-for',
      ),
      { maxLength: 3 },
    ),
    replace: fc.dictionary(
      fc.constantFrom(
        'x-apigw-secret',
        'origin',
        'connectionid',
        'user-agent',
        'x-amzn-apigateway-api-id',
        'x-forwarded-for',
        'cookie',
        'host',
      ),
      headerValue,
      { maxKeys: 3 },
    ),
    extra: fc.dictionary(fc.string({ maxLength: 12 }), anyString, { maxKeys: 3 }),
    query: fc.dictionary(
      fc.constantFrom('token', 'channel', 'x'),
      fc.oneof(anyString, fc.constant('TOKEN0'), fc.constant('TOKEN1')),
      { maxKeys: 3 },
    ),
    connectionId: fc.constantFrom('liveConn1=', 'otherConn2=', 'bad id'),
    body,
  })

  test.prop([mutated], { numRuns: 120 })(
    'never throws, always answers a status from the table, and never 2xx when a mandatory check fails',
    async (m) => {
      const { gateway, http, tokens } = await world()
      const base =
        m.kind === 'connect'
          ? http.connect({ connectionId: m.connectionId })
          : m.kind === 'message'
            ? http.message({ connectionId: m.connectionId, body: '' })
            : http.disconnect({ connectionId: m.connectionId })
      const headers: Record<string, string> = { ...base.headers, ...m.extra }
      for (const name of m.drop) delete headers[name]
      Object.assign(headers, m.replace)
      const query: Record<string, string> = {}
      for (const [name, value] of Object.entries(m.query)) {
        query[name] =
          value === 'TOKEN0'
            ? (tokens[0] as string)
            : value === 'TOKEN1'
              ? (tokens[1] as string)
              : value
      }
      const request: GatewayRequest = {
        route: m.route ?? base.route,
        method: 'POST',
        headers,
        query,
        body: m.body,
      }
      const response = await gateway.handle(request)
      expect(STATUSES.has(response.status)).toBe(true)
      if (response.status >= 200 && response.status < 300) {
        expect(headers['x-apigw-secret']).toBe(SECRET)
        const apiId = headers['x-amzn-apigateway-api-id']
        expect(apiId).toBeTruthy()
        if (request.route === '$connect') {
          expect(headers.origin).toBe(ORIGIN)
          expect(tokens).toContain(query.token)
          // Any valid id the store does not know yet (the generator may replace the id with
          // another valid one, such as the secret's text); never the live connection's.
          expect(isConnectionId(headers.connectionid)).toBe(true)
          expect(headers.connectionid).not.toBe('liveConn1=')
        } else {
          expect(headers['user-agent']).toBe(`AmazonAPIGateway_${apiId}`)
        }
        if (request.route !== '$connect' && request.route !== '$disconnect') {
          expect(headers.connectionid).toBe('liveConn1=')
        }
      } else {
        expect(response.body).not.toBeNull()
        expect(Object.keys(JSON.parse(response.body ?? '{}'))).toEqual(['message'])
      }
    },
  )

  test.prop(
    [
      ROUTES,
      fc.dictionary(fc.string({ maxLength: 20 }), headerValue, { maxKeys: 6 }),
      fc.dictionary(fc.string({ maxLength: 10 }), anyString, { maxKeys: 3 }),
      body,
    ],
    { numRuns: 100 },
  )(
    'arbitrary requests are never allowed without the secret',
    async (route, rawHeaders, query, payload) => {
      const { gateway } = await world()
      const headers = Object.fromEntries(
        Object.entries(rawHeaders).map(([k, v]) => [k.toLowerCase(), v]),
      )
      const response = await gateway.handle({
        route,
        method: 'POST',
        headers,
        query,
        body: payload,
      })
      expect(STATUSES.has(response.status)).toBe(true)
      if (headers['x-apigw-secret'] !== SECRET) expect(response.status).toBeGreaterThanOrEqual(400)
    },
  )

  test.prop([fc.anything({ withNullPrototype: true, withObjectString: true, maxDepth: 4 })], {
    numRuns: 100,
  })('arbitrary Lambda events never throw and never connect without a token', async (event) => {
    const { gateway } = await world()
    const result = await gateway.lambda(event as WebSocketEvent)
    expect(STATUSES.has(result.statusCode)).toBe(true)
    const routeKey = (event as { requestContext?: { routeKey?: unknown } } | null)?.requestContext
      ?.routeKey
    if (routeKey === '$connect') expect(result.statusCode).not.toBe(200)
  })

  test.prop(
    [
      fc.record({
        route: fc.constantFrom('$connect', '$disconnect', '$default', 'chat'),
        connectionId: fc.oneof(fc.constant('liveConn1='), anyString, fc.constant(null)),
        sourceIp: fc.oneof(fc.ipV4(), anyString, fc.constant(null)),
        headers: fc.oneof(
          fc.constant(null),
          fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(anyString, fc.constant(null)), {
            maxKeys: 4,
          }),
        ),
        query: fc.oneof(
          fc.constant(null),
          fc.dictionary(
            fc.constantFrom('token', 'channel'),
            fc.oneof(anyString, fc.constant('TOKEN0')),
            { maxKeys: 2 },
          ),
        ),
        body: fc.oneof(fc.constant(null), anyString, fc.json({ maxDepth: 3 })),
        isBase64Encoded: fc.oneof(fc.boolean(), fc.constant(null)),
      }),
    ],
    { numRuns: 100 },
  )(
    'Lambda events shaped like API Gateway’s: total, and connect needs an unused token',
    async (e) => {
      const { gateway, tokens } = await world()
      const query =
        e.query === null
          ? null
          : Object.fromEntries(
              Object.entries(e.query).map(([k, v]) => [k, v === 'TOKEN0' ? tokens[0] : v]),
            )
      const event = {
        headers: e.headers,
        queryStringParameters: query,
        body: e.body,
        isBase64Encoded: e.isBase64Encoded,
        requestContext: {
          routeKey: e.route,
          connectionId: e.connectionId,
          apiId: API_ID,
          identity: { sourceIp: e.sourceIp },
        },
      }
      const result = await gateway.lambda(event as WebSocketEvent)
      expect(STATUSES.has(result.statusCode)).toBe(true)
      if (e.route === '$connect' && result.statusCode === 200) {
        expect(query?.token).toBe(tokens[0])
        expect(isConnectionId(e.connectionId)).toBe(true)
        expect(e.connectionId).not.toBe('liveConn1=')
      }
      if ((e.route === '$default' || e.route === 'chat') && result.statusCode === 200) {
        expect(e.connectionId).toBe('liveConn1=')
      }
    },
  )
})
