/**
 * The refused-attack list of the adversarial review (issue 9, "keep what held"): attacks that
 * failed against the built packages, kept as tests so they keep failing. Each case drives the
 * whole gateway (`handle` or `fetch`) over a fresh memory store and checks both the client's
 * answer and that nothing was stored or run.
 */
import { describe, expect, it } from 'vitest'
import { ORIGIN, rejectionCodes, SECRET, setup } from '../test/gateway-kit.js'
import { defineHandler } from './handlers.js'
import type { GatewayRequest } from './request.js'
import { connectionIdFor, httpRequests } from './testing/requests.js'

const http = httpRequests({ secret: SECRET })
const KELVIN = '\u212A'

function withQuery(request: GatewayRequest, query: Record<string, string>): GatewayRequest {
  return { ...request, query: { ...request.query, ...query } }
}

describe('token variants, replay and the TTL boundary', () => {
  it.each<[string, (token: string) => string]>([
    ['an empty token', () => ''],
    ['whitespace', () => ' '.repeat(48)],
    ['an upper-case prefix', (t) => `AWST_${t.slice(5)}`],
    ['no prefix', (t) => t.slice(5)],
    ['a trailing space', (t) => `${t} `],
    ['a leading space', (t) => ` ${t}`],
    ['one character more', (t) => `${t}A`],
    ['one character less', (t) => t.slice(0, -1)],
    ['one character changed', (t) => `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`],
    ['base64 padding added', (t) => `${t}=`],
    ['percent-encoded', (t) => encodeURIComponent(t).replace(/_/g, '%5F')],
    ['the SHA-256 stored at rest instead', () => 'a'.repeat(64)],
    ['a NUL inside', (t) => `${t.slice(0, 10)}\u0000${t.slice(11)}`],
    ['a Unicode look-alike', (t) => `awst\uFF3F${t.slice(5)}`],
  ])('refuses %s (401) and keeps the real token usable', async (_label, variant) => {
    const kit = setup()
    const token = await kit.issue()
    const forged = await kit.gateway.handle(
      http.connect({ connectionId: 'forged000000001=', token: variant(token) }),
    )
    expect(forged.status).toBe(401)
    expect(rejectionCodes(kit.events)).toEqual(['TOKEN_INVALID'])
    expect(await kit.store.connections.get('forged000000001=')).toBeNull()
    const real = await kit.gateway.handle(http.connect({ connectionId: 'real0000000001=', token }))
    expect(real.status).toBe(200)
  })

  it('refuses a token in another query parameter, or a second token parameter', async () => {
    const kit = setup()
    const token = await kit.issue()
    const elsewhere = withQuery(http.connect({ connectionId: 'elsewhere000001=' }), {
      access_token: token,
      Token: token,
    })
    expect((await kit.gateway.handle(elsewhere)).status).toBe(401)
  })

  it('refuses a replayed token, whatever the connection id', async () => {
    const kit = setup()
    const token = await kit.issue()
    expect(
      (await kit.gateway.handle(http.connect({ connectionId: 'first00000001=', token }))).status,
    ).toBe(200)
    for (const connectionId of ['second0000001=', 'first00000001=']) {
      const again = await kit.gateway.handle(http.connect({ connectionId, token }))
      expect(again.status).toBeGreaterThanOrEqual(400)
      expect(again.status).toBeLessThan(500)
    }
    expect(rejectionCodes(kit.events)).toEqual(['TOKEN_INVALID', 'TOKEN_INVALID'])
  })

  it('accepts a token 1 ms before its TTL ends and refuses it at the TTL', async () => {
    const kit = setup({ tokens: { ttlMs: 5_000 } })
    const early = await kit.issue('early')
    const late = await kit.issue('late')
    kit.clock.advance(4_999)
    expect(
      (await kit.gateway.handle(http.connect({ connectionId: 'early0000001=', token: early })))
        .status,
    ).toBe(200)
    kit.clock.advance(1)
    expect(
      (await kit.gateway.handle(http.connect({ connectionId: 'late00000001=', token: late })))
        .status,
    ).toBe(401)
  })
})

describe('token issuance from another site', () => {
  it.each<[string, { method?: string; headers: Record<string, string> }, number]>([
    ['a cross-site Origin', { headers: { origin: 'https://evil.example' } }, 403],
    ['Sec-Fetch-Site: cross-site', { headers: { 'sec-fetch-site': 'cross-site' } }, 403],
    ['no Origin and no Sec-Fetch-Site', { headers: {} }, 403],
    ['a GET from the allowed Origin', { method: 'GET', headers: { origin: ORIGIN } }, 405],
  ])('refuses %s without issuing a token', async (_label, request, status) => {
    const kit = setup()
    const response = await kit.gateway.issueToken({
      method: request.method ?? 'POST',
      headers: request.headers,
      userId: 'victim',
    })
    expect(response.status).toBe(status)
    expect(response.body ?? '').not.toMatch(/awst_/)
    expect(kit.events.some((e) => e.type === 'token.issued')).toBe(false)
  })
})

describe('origin and host variants', () => {
  const KIOSK_ORIGIN = 'https://kiosk.example.com'
  const KIOSK_HOST = 'ws.kiosk.example.com'

  async function connectWith(headers: Record<string, string>, origin: string | null) {
    // The kit issues tokens from ORIGIN, so it stays allowed; no variant below is ORIGIN.
    const kit = setup({ allowedOrigins: [ORIGIN, KIOSK_ORIGIN], allowedHosts: [KIOSK_HOST] })
    const token = await kit.issue()
    const connectionId = connectionIdFor('variant')
    const response = await kit.gateway.handle(
      http.connect({ connectionId, token, origin, headers: { host: KIOSK_HOST, ...headers } }),
    )
    return { kit, response, stored: await kit.store.connections.get(connectionId) }
  }

  it('accepts the configured origin and host (the control)', async () => {
    const { response } = await connectWith({}, KIOSK_ORIGIN)
    expect(response.status).toBe(200)
  })

  it.each([
    `https://${KELVIN}iosk.example.com`,
    'https://KIOSK.example.com',
    'https://kiosk.example.com.',
    'https://kiosk.example.com:443',
    'https://kiosk.example.com/',
    'http://kiosk.example.com',
    'https://kiosk.example.com.evil.net',
    'https://evil.net/?https://kiosk.example.com',
    'https://evil-kiosk.example.com',
    'null',
    '',
    ` ${KIOSK_ORIGIN}`,
    `${KIOSK_ORIGIN}, https://evil.net`,
  ])('refuses Origin %j (403)', async (origin) => {
    const { kit, response, stored } = await connectWith({}, origin)
    expect(response.status).toBe(403)
    expect(rejectionCodes(kit.events)).toEqual(['ORIGIN_REJECTED'])
    expect(stored).toBeNull()
  })

  it.each([
    `ws.${KELVIN}iosk.example.com`,
    `WS.${KELVIN}IOSK.EXAMPLE.COM`,
    'ws.kiosk.example.com.',
    'ws.kiosk.example.com:443',
    'ws.kiosk.example.com.evil.net',
    'evil.net@ws.kiosk.example.com',
    '',
  ])('refuses Host %j (403)', async (host) => {
    const { kit, response, stored } = await connectWith({ host }, KIOSK_ORIGIN)
    expect(response.status).toBe(403)
    expect(rejectionCodes(kit.events)).toEqual(['HOST_REJECTED'])
    expect(stored).toBeNull()
  })

  it('compares Host case-insensitively only over ASCII', async () => {
    const { response } = await connectWith({ host: 'WS.KIOSK.Example.COM' }, KIOSK_ORIGIN)
    expect(response.status).toBe(200)
  })
})

describe('client address variants', () => {
  const limited = { rateLimits: { connectPerIp: { limit: 2, windowMs: 60_000 } } }

  it('keys the limit on the right-most of 5,000 X-Forwarded-For entries', async () => {
    const kit = setup(limited)
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) {
      const spoofed = Array.from({ length: 4_999 }, (_, n) => `10.${i}.${n >> 8}.${n & 255}`)
      const response = await kit.gateway.handle(
        http.connect({
          token: await kit.issue(`user-${i}`),
          clientForwardedFor: spoofed.join(', '),
          clientIp: '198.51.100.23',
        }),
      )
      statuses.push(response.status)
    }
    expect(statuses).toEqual([200, 200, 429])
  })

  it('puts ::ffff: forms of an IPv4 address in the IPv4 bucket', async () => {
    const kit = setup(limited)
    const statuses: number[] = []
    for (const clientIp of [
      '192.0.2.77',
      '::ffff:192.0.2.77',
      '::FFFF:c000:24d',
      '0:0:0:0:0:ffff:192.0.2.77',
    ]) {
      const response = await kit.gateway.handle(
        http.connect({ token: await kit.issue(`u-${statuses.length}`), clientIp }),
      )
      statuses.push(response.status)
    }
    expect(statuses).toEqual([200, 200, 429, 429])
  })

  it.each(['fe80::1%eth0', 'fe80::1%25eth0', '::ffff:192.0.2.77%1', '192.0.2.77%eth0'])(
    'refuses the zoned address %j (403 CLIENT_IP_MISSING)',
    async (clientIp) => {
      const kit = setup()
      const response = await kit.gateway.handle(
        http.connect({ token: await kit.issue(), clientIp }),
      )
      expect(response.status).toBe(403)
      expect(rejectionCodes(kit.events)).toEqual(['CLIENT_IP_MISSING'])
    },
  )
})

describe('route path variants', () => {
  const BASE = 'https://backend.example.com/ws'

  async function post(path: string) {
    const kit = setup()
    const token = await kit.issue()
    const connectionId = connectionIdFor('path')
    const request = http.connect({ connectionId, token })
    const url = new URL(`${BASE}/${path}`)
    for (const [name, value] of Object.entries(request.query)) url.searchParams.set(name, value)
    const response = await kit.gateway.fetch(
      new Request(url, { method: 'POST', headers: request.headers }),
    )
    return { kit, response, stored: await kit.store.connections.get(connectionId) }
  }

  it('connects at the route itself (the control)', async () => {
    expect((await post('connect')).response.status).toBe(200)
  })

  it.each([
    'connect%00',
    'connect%2F',
    'connect%2F..',
    '..%2Fconnect',
    'connect;jsessionid=1',
    'connect.json',
    '%E2%80%8Bconnect',
    '%EF%BD%83onnect',
    `${encodeURIComponent(KELVIN)}onnect`,
    'Connect',
    'CONNECT',
    'connect%20',
    '%',
  ])('never treats %j as $connect', async (path) => {
    const { kit, response, stored } = await post(path)
    expect(response.status).not.toBe(200)
    expect(stored).toBeNull()
    expect(kit.events.some((e) => e.type === 'connect.accepted')).toBe(false)
  })
})

describe('message bodies', () => {
  function messageKit() {
    const calls: unknown[] = []
    const kit = setup({
      handlers: { echo: defineHandler({ handle: (_ctx, input) => void calls.push(input) }) },
    })
    return { kit, calls }
  }

  it.each<[string, number[]]>([
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an overlong NUL', [0xc0, 0x80]],
    ['a lone high surrogate', [0xed, 0xa0, 0x80]],
    ['a lone low surrogate', [0xed, 0xbf, 0xbf]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['a stray continuation byte', [0x80]],
    ['0xFF', [0xff]],
  ])('refuses %s inside a JSON string (400) and runs nothing', async (_label, bytes) => {
    const { kit, calls } = messageKit()
    const { connectionId } = await kit.connect()
    const prefix = new TextEncoder().encode('{"action":"echo","text":"')
    const suffix = new TextEncoder().encode('"}')
    const body = new Uint8Array([...prefix, ...bytes, ...suffix])
    const response = await kit.gateway.handle(http.message({ connectionId, body }))
    expect(response.status).toBe(400)
    expect(rejectionCodes(kit.events)).toEqual(['BODY_ENCODING_INVALID'])
    expect(calls).toEqual([])
  })

  it.each([
    '{"action":"echo","\\u005f\\u005fproto\\u005f\\u005f":{"polluted":true}}',
    '{"action":"echo","\\u005F_proto__":{"polluted":true}}',
    '{"action":"echo","a":[{"\\u005f_proto_\\u005f":{"polluted":true}}]}',
    '{"action":"echo","\\u0063onstructor":{"prototype":{"polluted":true}}}',
    '{"action":"echo","x":{"prot\\u006ftype":{"polluted":true}}}',
  ])('refuses prototype keys spelled with escapes: %s', async (text) => {
    const { kit, calls } = messageKit()
    const { connectionId } = await kit.connect()
    const response = await kit.gateway.handle(http.message({ connectionId, body: text }))
    expect(response.status).toBe(400)
    expect(rejectionCodes(kit.events)).toEqual(['JSON_INVALID'])
    expect(calls).toEqual([])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('accepts valid edge characters: U+0000 escaped, U+FFFF, U+10FFFF and emoji', async () => {
    const { kit, calls } = messageKit()
    const { connectionId } = await kit.connect()
    const text = '\\u0000\uFFFF\u{10FFFF}\u{1F600}'
    const body = `{"action":"echo","text":"${text}"}`
    expect((await kit.gateway.handle(http.message({ connectionId, body }))).status).toBe(200)
    expect(calls).toEqual([{ action: 'echo', text: '\u0000\uFFFF\u{10FFFF}\u{1F600}' }])
  })
})

describe('5,000 headers', () => {
  function manyHeaders(): Record<string, string> {
    const headers: Record<string, string> = {}
    for (let i = 0; i < 5_000; i++) headers[`x-filler-${i}`] = `value-${i}`
    return headers
  }

  it('still refuses a request without the secret (403)', async () => {
    const kit = setup()
    const { connectionId } = await kit.connect()
    const unsigned = httpRequests({}).message({
      connectionId,
      body: { action: 'echo' },
      headers: manyHeaders(),
    })
    expect((await kit.gateway.handle(unsigned)).status).toBe(403)
    expect(rejectionCodes(kit.events)).toEqual(['SECRET_INVALID'])
  })

  it('still answers a genuine request, and reads none of them as connection attributes', async () => {
    const kit = setup()
    const token = await kit.issue()
    const connectionId = connectionIdFor('many')
    const headers = { ...manyHeaders(), 'x-apigw-stage': 'evil', 'x-apigw-domain': 'evil.example' }
    const response = await kit.gateway.handle(http.connect({ connectionId, token, headers }))
    expect(response.status).toBe(200)
    expect(await kit.store.connections.get(connectionId)).toMatchObject({
      stage: null,
      domainName: null,
    })
  })
})
