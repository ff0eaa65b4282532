/**
 * One regression test per weakness of the reference implementation (DESIGN §9) that applies to
 * the core. Each title names the reference behaviour; each test fails if that behaviour returns.
 * (The sender's weaknesses — sequential fan-out, no size check, one client for all gateways, no
 * report — are covered by the sender's own tests.)
 */
import { memoryStore } from '@apigw-ws/store-memory'
import { describe, expect, it } from 'vitest'
import {
  API_ID,
  interleavingStore,
  ORIGIN,
  recordingStore,
  rejectionCodes,
  SECRET,
  setup,
} from '../test/gateway-kit.js'
import { oracleSha256Hex } from '../test/sha256-oracle.js'
import { defineHandler } from './handlers.js'
import type { GatewayRequest, GatewayResponse } from './request.js'
import { httpRequests } from './testing/requests.js'

function without(request: GatewayRequest, ...names: string[]): GatewayRequest {
  const headers: Record<string, string> = { ...request.headers }
  for (const name of names) delete headers[name]
  return { ...request, headers }
}

function withHeaders(request: GatewayRequest, extra: Record<string, string>): GatewayRequest {
  return { ...request, headers: { ...request.headers, ...extra } }
}

/** A `default` handler that counts its calls: the reference fell back to it for bad input. */
function countingDefault() {
  const calls: unknown[] = []
  return {
    calls,
    handlers: {
      default: defineHandler({ handle: (_ctx, input) => void calls.push(input) }),
      chat: defineHandler({ handle: (_ctx, input) => void calls.push(input) }),
    },
  }
}

describe('reference: client IP taken from the left-most X-Forwarded-For entry', () => {
  it('a spoofed left-most entry on every attempt cannot dodge the connect limit', async () => {
    const { gateway, http, events } = setup({ rateLimits: { connectPerUser: false } })
    const statuses: number[] = []
    for (let i = 0; i < 21; i++) {
      const spoofed = http.connect({ clientForwardedFor: `10.${i}.0.1, 172.16.${i}.1` })
      statuses.push((await gateway.handle(spoofed)).status)
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401))
    expect(statuses[20]).toBe(429)
    expect(
      events
        .filter((e) => e.type === 'connect.accepted' || e.type === 'request.rejected')
        .every((e) => !('ip' in e) || e.ip === '203.0.113.10'),
    ).toBe(true)
  })

  it('with a trusted proxy hop, the entry left of the hop is the client, not the left-most', async () => {
    const { gateway, issue, events } = setup({ trustedProxies: 1 })
    const http = httpRequests({ secret: SECRET, clientIp: '10.0.0.2' })
    const request = http.connect({
      token: await issue(),
      clientForwardedFor: '1.1.1.1, 198.51.100.23',
    })
    expect((await gateway.handle(request)).status).toBe(200)
    expect(events.find((e) => e.type === 'connect.accepted')).toMatchObject({ ip: '198.51.100.23' })
  })
})

describe('reference: `Host in Origin` substring test', () => {
  it.each([
    'https://app.example.com.evil.net',
    'https://evil.net/app.example.com',
    'https://app.example.com@evil.net',
    'null',
    'https://app.example.com:8443',
    'http://app.example.com',
    'https://app.example.com/',
    'https://APP.EXAMPLE.COM',
  ])('%s is refused for allowed https://app.example.com', async (origin) => {
    const { gateway, http, issue, events } = setup()
    const response = await gateway.handle(http.connect({ token: await issue(), origin }))
    expect(response.status).toBe(403)
    expect(rejectionCodes(events)).toEqual(['ORIGIN_REJECTED'])
  })

  it('the exact origin is accepted', async () => {
    const { gateway, http, issue } = setup()
    expect(
      (await gateway.handle(http.connect({ token: await issue(), origin: ORIGIN }))).status,
    ).toBe(200)
  })
})

describe('reference: API id and User-Agent treated as authentication', () => {
  it('perfect API Gateway headers without the secret, or with a wrong one, are refused', async () => {
    const store = recordingStore()
    const { gateway, issue, http } = setup({ apiIds: [API_ID] }, store)
    const token = await issue()
    const callsBefore = store.calls.length
    const perfect = [
      http.connect({ token }),
      http.message({ connectionId: 'c1', body: { action: 'echo' } }),
      http.disconnect({ connectionId: 'c1' }),
    ]
    for (const request of perfect) {
      expect((await gateway.handle(without(request, 'x-apigw-secret'))).status).toBe(403)
      const wrong = withHeaders(request, { 'x-apigw-secret': 'not-the-secret-0123456789' })
      expect((await gateway.handle(wrong)).status).toBe(403)
    }
    // Nothing reached the store: the token is still unused.
    expect(store.calls.length).toBe(callsBefore)
    expect((await gateway.handle(http.connect({ token }))).status).toBe(200)
  })
})

describe('reference: User-Agent check inverted when an API id is pinned', () => {
  async function messageWith(agent: string | null, apiIds?: string[]) {
    const kit = setup(apiIds === undefined ? {} : { apiIds })
    const { connectionId } = await kit.connect()
    const request = kit.http.message({ connectionId, body: { action: 'echo' } })
    const sent =
      agent === null
        ? without(request, 'user-agent')
        : withHeaders(request, { 'user-agent': agent })
    return (await kit.gateway.handle(sent)).status
  }

  it('a pinned API id accepts AmazonAPIGateway_<id> and refuses every other agent', async () => {
    expect(await messageWith(`AmazonAPIGateway_${API_ID}`, [API_ID])).toBe(200)
    expect(await messageWith('Mozilla/5.0', [API_ID])).toBe(403)
    expect(await messageWith('AmazonAPIGateway_otherapi', [API_ID])).toBe(403)
    expect(await messageWith(null, [API_ID])).toBe(403)
  })

  it('without pinning, the agent must still be consistent with the API id header', async () => {
    expect(await messageWith(`AmazonAPIGateway_${API_ID}`)).toBe(200)
    expect(await messageWith('AmazonAPIGateway_otherapi')).toBe(403)
    expect(await messageWith('curl/8.5.0')).toBe(403)
  })
})

describe('reference: failed token attempts not counted', () => {
  it('21 bad-token connects exhaust the limit, so the next valid-token connect gets 429', async () => {
    const { gateway, http, issue } = setup()
    const token = await issue()
    for (let i = 0; i < 21; i++) {
      const status = (await gateway.handle(http.connect({ token: `awst_${'x'.repeat(43)}` })))
        .status
      expect(status).toBe(i < 20 ? 401 : 429)
    }
    const response = await gateway.handle(http.connect({ token }))
    expect(response.status).toBe(429)
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0)
  })

  it('20 failed attempts (missing, malformed, unknown, reused) leave no room for a 21st', async () => {
    const { gateway, http, issue } = setup()
    const used = await issue()
    await gateway.handle(http.connect({ token: used }))
    const bad = [undefined, 'garbage', `awst_${'A'.repeat(43)}`, used]
    for (let i = 0; i < 19; i++) {
      const token = bad[i % bad.length]
      await gateway.handle(http.connect(token === undefined ? {} : { token }))
    }
    expect((await gateway.handle(http.connect({ token: await issue() }))).status).toBe(429)
  })
})

describe('reference: token TTL setting ignored', () => {
  it('a 61 s-old token is refused with the default TTL', async () => {
    const { gateway, http, issue, clock } = setup()
    const token = await issue()
    clock.advance(61_000)
    expect((await gateway.handle(http.connect({ token }))).status).toBe(401)
  })

  it('tokens.ttlMs changes that, both ways', async () => {
    const long = setup({ tokens: { ttlMs: 120_000 } })
    const kept = await long.issue()
    long.clock.advance(61_000)
    expect((await long.gateway.handle(long.http.connect({ token: kept }))).status).toBe(200)

    const short = setup({ tokens: { ttlMs: 30_000 } })
    const expired = await short.issue()
    short.clock.advance(31_000)
    expect((await short.gateway.handle(short.http.connect({ token: expired }))).status).toBe(401)
  })
})

describe('reference: plaintext tokens and session keys at rest', () => {
  it('the store never receives the token or the session id, only their SHA-256', async () => {
    const store = recordingStore()
    const sessionId = 'session-id-canary-5f1c2a'
    const { gateway, http, issue } = setup(
      { auth: { resolveSession: (r) => (r.headers.cookie ?? '').replace('sid=', '') || null } },
      store,
    )
    const token = await issue('u1', { sessionId })
    expect((await gateway.handle(http.connect({ token, cookie: `sid=${sessionId}` }))).status).toBe(
      200,
    )
    const dump = store.dump()
    expect(dump).not.toContain(token)
    expect(dump).not.toContain(token.slice(5))
    expect(dump).not.toContain(sessionId)
    expect(dump).toContain(oracleSha256Hex(token))
    expect(dump).toContain(oracleSha256Hex(sessionId))
  })

  it('a direct read of the store finds the token only under its hash', async () => {
    const inner = memoryStore()
    const { issue, clock } = setup({}, inner)
    const token = await issue('u1')
    // The token itself is not even a well-formed key: the store refuses to look it up.
    await expect(inner.tokens.consume(token, null, clock.now())).rejects.toThrow(TypeError)
    expect(await inner.tokens.consume(oracleSha256Hex(token), null, clock.now())).toMatchObject({
      hash: oracleSha256Hex(token),
      userId: 'u1',
    })
  })
})

describe('reference: count-then-insert rate limits (races)', () => {
  it('50 concurrent connects from one address with limit 20: exactly 20 pass the limit', async () => {
    const { gateway, http, issue } = setup(
      { rateLimits: { connectPerUser: false } },
      interleavingStore(),
    )
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => issue(`user-${i}`)))
    const responses = await Promise.all(
      tokens.map((token) => gateway.handle(http.connect({ token }))),
    )
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(20)
    expect(statuses.filter((s) => s === 429)).toHaveLength(30)
  })

  it('50 concurrent issuances for one user with limit 20: exactly 20 tokens', async () => {
    const { gateway } = setup({}, interleavingStore())
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        gateway.issueToken({ method: 'POST', headers: { origin: ORIGIN }, userId: 'u' }),
      ),
    )
    expect(responses.filter((r) => r.status === 200)).toHaveLength(20)
  })
})

describe('reference: non-object JSON, non-UTF-8 and oversized bodies processed as empty (or 500)', () => {
  const cases: [string, string | Uint8Array, number][] = [
    ['[]', '[]', 400],
    ['1', '1', 400],
    ['"x"', '"x"', 400],
    ['null', 'null', 400],
    ['invalid UTF-8 bytes', new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xc3, 0x28, 0x7d]), 400],
    ['a 128 KiB + 1 byte body', `{"a":"${'x'.repeat(131_073 - 8)}"}`, 413],
    ['{"__proto__":…}', '{"__proto__":{"polluted":true}}', 400],
    ['{"constructor":{"prototype":…}}', '{"constructor":{"prototype":{"polluted":true}}}', 400],
    ['10,000-deep nesting', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, 400],
    ['10,000-deep arrays', `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, 400],
  ]

  it.each(cases)(
    '%s gets 4xx, reaches no handler, and leaves Object.prototype clean',
    async (_name, body, status) => {
      const { calls, handlers } = countingDefault()
      const { gateway, http, connect } = setup({ handlers })
      const { connectionId } = await connect()
      const response = await gateway.handle(http.message({ connectionId, body }))
      expect(response.status).toBe(status)
      expect(calls).toEqual([])
      expect(Object.prototype).not.toHaveProperty('polluted')
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    },
  )

  it('the 128 KiB + 1 byte body really is one byte over, and 128 KiB exactly is accepted', async () => {
    const { calls, handlers } = countingDefault()
    const { gateway, http, connect } = setup({ handlers })
    const { connectionId } = await connect()
    const exact = `{"a":"${'x'.repeat(131_072 - 8)}"}`
    expect(new TextEncoder().encode(exact).length).toBe(131_072)
    expect((await gateway.handle(http.message({ connectionId, body: exact }))).status).toBe(200)
    expect(calls).toHaveLength(1)
  })
})

describe('reference: whitelist built by reflection, exposing framework methods', () => {
  it.each([
    'constructor',
    '__proto__',
    'toString',
    '_private',
    '123',
    'hasOwnProperty',
    'valueOf',
    'handle',
  ])('handler name %j is refused with 400 and runs nothing', async (name) => {
    const { calls, handlers } = countingDefault()
    const { gateway, http, connect, events } = setup({ handlers })
    const { connectionId } = await connect()
    const byKey = await gateway.handle(
      http.message({ connectionId, body: `{"action":${JSON.stringify(name)}}` }),
    )
    expect(byKey.status).toBe(400)
    const byRoute = await gateway.handle(http.message({ connectionId, body: {}, route: name }))
    expect(byRoute.status).toBe(400)
    expect(calls).toEqual([])
    expect(events.some((e) => e.type === 'internal.error')).toBe(false)
  })
})

describe('reference: unknown handler silently routed to `default`', () => {
  it('an unknown name gets 400 even when `default` is registered', async () => {
    const { calls, handlers } = countingDefault()
    const { gateway, http, connect, events } = setup({ handlers })
    const { connectionId } = await connect()
    const response = await gateway.handle(http.message({ connectionId, body: { action: 'nope' } }))
    expect(response.status).toBe(400)
    expect(calls).toEqual([])
    expect(rejectionCodes(events)).toEqual(['HANDLER_UNKNOWN'])
  })
})

describe('reference: unknown connection id → 500', () => {
  it('a message for an unknown id gets 404; a malformed id 400; a disconnect for either is not a 5xx', async () => {
    const { gateway, http, events } = setup()
    expect(
      (
        await gateway.handle(
          http.message({ connectionId: 'unknownConn1', body: { action: 'echo' } }),
        )
      ).status,
    ).toBe(404)
    expect(
      (await gateway.handle(http.message({ connectionId: 'bad id!', body: { action: 'echo' } })))
        .status,
    ).toBe(400)
    expect((await gateway.handle(http.disconnect({ connectionId: 'unknownConn1' }))).status).toBe(
      200,
    )
    expect((await gateway.handle(http.disconnect({ connectionId: 'bad id!' }))).status).toBe(400)
    expect(events.some((e) => e.type === 'internal.error')).toBe(false)
  })
})

describe('reference: duplicate connect → 500', () => {
  it('a second $connect with the same id gets 400 and leaves the first record alone', async () => {
    const { connect, store, events } = setup()
    expect((await connect({ userId: 'first', connectionId: 'dupConn1=' })).response.status).toBe(
      200,
    )
    const again = await connect({ userId: 'second', connectionId: 'dupConn1=' })
    expect(again.response.status).toBe(400)
    expect((await store.connections.get('dupConn1='))?.userId).toBe('first')
    expect(rejectionCodes(events)).toEqual(['CONNECTION_DUPLICATE'])
  })
})

describe('reference: invalid channel → 500, and channel length 191 against a 128 column', () => {
  const joiner = {
    join: defineHandler({
      handle: async (ctx, input) => {
        await ctx.join((input as { channel: string }).channel)
      },
    }),
  }

  it('an invalid channel on connect and on join gets 400', async () => {
    const { gateway, http, connect, issue } = setup({ handlers: joiner })
    const onConnect = await gateway.handle(
      http.connect({ token: await issue(), channel: 'no spaces' }),
    )
    expect(onConnect.status).toBe(400)
    const { connectionId } = await connect()
    const onJoin = await gateway.handle(
      http.message({ connectionId, body: { action: 'join', channel: 'x/y' } }),
    )
    expect(onJoin.status).toBe(400)
  })

  it('128 characters are accepted and 129 refused, on connect and on join', async () => {
    const { gateway, http, connect, issue } = setup({ handlers: joiner })
    const ok = 'c'.repeat(128)
    const long = 'c'.repeat(129)
    expect((await gateway.handle(http.connect({ token: await issue(), channel: ok }))).status).toBe(
      200,
    )
    expect(
      (await gateway.handle(http.connect({ token: await issue(), channel: long }))).status,
    ).toBe(400)
    const { connectionId } = await connect()
    expect(
      (await gateway.handle(http.message({ connectionId, body: { action: 'join', channel: ok } })))
        .status,
    ).toBe(200)
    expect(
      (
        await gateway.handle(
          http.message({ connectionId, body: { action: 'join', channel: long } }),
        )
      ).status,
    ).toBe(400)
    expect(
      (
        await gateway.handle(
          http.message({ connectionId, body: { action: 'join', channel: 'c'.repeat(191) } }),
        )
      ).status,
    ).toBe(400)
  })
})

describe('reference: `change_channel` without validation or authorization', () => {
  it('join is refused (403) when authorizeChannel says no, and nothing is subscribed', async () => {
    const { gateway, http, connect, store } = setup({
      auth: { authorizeChannel: ({ action }) => action === 'connect' },
      handlers: {
        join: defineHandler({
          handle: (ctx, input) => ctx.join((input as { channel: string }).channel),
        }),
      },
    })
    const { connectionId } = await connect()
    const response = await gateway.handle(
      http.message({ connectionId, body: { action: 'join', channel: 'admins' } }),
    )
    expect(response.status).toBe(403)
    expect([...(await store.connections.channels(connectionId))]).toEqual([])
  })
})

describe('reference: `anyOf` ignored when `allOf` is set', () => {
  it('both lists are enforced', async () => {
    async function statusFor(held: string[]) {
      const kit = setup({
        auth: { hasPermission: (_s, p) => held.includes(p) },
        handlers: {
          moderate: defineHandler({
            permissions: { anyOf: ['mod', 'admin'], allOf: ['verified'] },
            handle: () => 1,
          }),
        },
      })
      const { connectionId } = await kit.connect()
      return (
        await kit.gateway.handle(kit.http.message({ connectionId, body: { action: 'moderate' } }))
      ).status
    }
    expect(await statusFor(['verified'])).toBe(403)
    expect(await statusFor(['mod'])).toBe(403)
    expect(await statusFor(['mod', 'verified'])).toBe(200)
    expect(await statusFor(['admin', 'verified'])).toBe(200)
  })
})

describe('reference: lost `requestCount` updates', () => {
  it('50 concurrent messages on one connection count 50', async () => {
    const { gateway, http, connect, store } = setup({}, interleavingStore())
    const { connectionId } = await connect()
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        gateway.handle(http.message({ connectionId, body: { action: 'echo', i } })),
      ),
    )
    expect(responses.every((r) => r.status === 200)).toBe(true)
    expect((await store.connections.get(connectionId))?.requestCount).toBe(50)
  })
})

describe('reference: error bodies that echo configuration', () => {
  const CHANNEL = 'private-room-7'

  async function collect() {
    const kit = setup({
      apiIds: [API_ID],
      allowedHosts: ['ws.example.com'],
      auth: {
        loadUser: (id) => (id === 'ghost' ? null : { id }),
        hasPermission: (s, p) => s.userId === 'admin' || p !== 'admin',
        authorizeChannel: ({ channel }) => channel !== CHANNEL,
      },
      handlers: {
        echo: defineHandler({ handle: () => 1 }),
        admin: defineHandler({ permissions: { allOf: ['admin'] }, handle: () => 1 }),
        strict: defineHandler({
          schema: {
            '~standard': {
              version: 1,
              vendor: 'test',
              validate: () => ({ issues: [{ message: `needs ${CHANNEL}` }] }),
            },
          },
          handle: () => 1,
        }),
      },
      checks: {
        message: [(i) => (i.message?.blocked === true ? { code: 'CHECK_FAILED' } : undefined)],
      },
    })
    const { gateway, http, issue } = kit
    const host = { host: 'ws.example.com' }
    const connectWith = async (init: Parameters<typeof http.connect>[0] = {}) =>
      gateway.handle(
        http.connect({ token: await issue(), ...init, headers: { ...host, ...init.headers } }),
      )
    const opened = await gateway.handle(
      http.connect({ connectionId: 'openConn1=', token: await issue(), headers: host }),
    )
    expect(opened.status).toBe(200)
    const id = 'openConn1='
    const message = (body: unknown) => gateway.handle(http.message({ connectionId: id, body }))
    const results: [string, GatewayResponse][] = [
      [
        'SECRET_INVALID',
        await gateway.handle(
          without(http.message({ connectionId: id, body: {} }), 'x-apigw-secret'),
        ),
      ],
      [
        'GATEWAY_SHAPE_INVALID',
        await gateway.handle(
          withHeaders(http.message({ connectionId: id, body: {} }), { 'user-agent': 'x' }),
        ),
      ],
      ['ORIGIN_REJECTED', await connectWith({ origin: 'https://evil.net' })],
      ['HOST_REJECTED', await connectWith({ headers: { host: 'evil.net' } })],
      ['CHANNEL_FORBIDDEN', await connectWith({ channel: CHANNEL })],
      [
        'TOKEN_CHANNEL_MISMATCH',
        await gateway.handle(
          http.connect({ token: await issue('u', { channel: 'a' }), channel: 'b', headers: host }),
        ),
      ],
      ['PERMISSION_DENIED', await message({ action: 'admin' })],
      ['CHECK_FAILED', await message({ action: 'echo', blocked: true })],
      ['TOKEN_INVALID', await gateway.handle(http.connect({ headers: host }))],
      ['TOKEN_INVALID', await gateway.handle(http.connect({ token: 'awst_short', headers: host }))],
      [
        'USER_UNKNOWN',
        await gateway.handle(http.connect({ token: await issue('ghost'), headers: host })),
      ],
      ['CHANNEL_INVALID', await connectWith({ channel: 'bad channel' })],
      [
        'CONNECTION_ID_INVALID',
        await gateway.handle(http.message({ connectionId: 'bad id', body: {} })),
      ],
      ['JSON_INVALID', await message('[]')],
      ['BODY_ENCODING_INVALID', await message(new Uint8Array([0xff]))],
      ['HANDLER_UNKNOWN', await message({ action: 'nope' })],
      ['PAYLOAD_INVALID', await message({ action: 'strict' })],
      [
        'CONNECTION_DUPLICATE',
        await gateway.handle(
          http.connect({ connectionId: id, token: await issue(), headers: host }),
        ),
      ],
      [
        'CONNECTION_UNKNOWN',
        await gateway.handle(http.message({ connectionId: 'nobody1', body: { action: 'echo' } })),
      ],
    ]
    return { results, events: kit.events }
  }

  it('every cause is really the one named (the table exercises what it claims)', async () => {
    const { results, events } = await collect()
    expect(rejectionCodes(events)).toEqual(results.map(([code]) => code))
  })

  it('bodies and headers are identical for every cause sharing a status', async () => {
    const { results } = await collect()
    const byStatus = new Map<number, Set<string>>()
    for (const [, response] of results) {
      const seen = byStatus.get(response.status) ?? new Set<string>()
      seen.add(JSON.stringify([response.body, response.headers]))
      byStatus.set(response.status, seen)
    }
    expect([...byStatus.keys()].sort()).toEqual([400, 401, 403, 404])
    for (const variants of byStatus.values()) expect(variants.size).toBe(1)
  })

  it('bodies never contain configuration, secrets, origins, ids or codes', async () => {
    const { results } = await collect()
    const forbidden = [
      SECRET,
      ORIGIN,
      'app.example.com',
      'evil',
      API_ID,
      'ws.example.com',
      CHANNEL,
      'admin',
      'awst_',
      'openConn1',
      'nobody1',
      'ghost',
      'strict',
    ]
    for (const [code, response] of results) {
      const text = JSON.stringify(response)
      expect(text).not.toContain(code)
      for (const value of forbidden) expect(text).not.toContain(value)
    }
  })
})

describe('reference: no sweep of stale connections', () => {
  it('cleanup deletes connections older than the 2 h API Gateway maximum (plus grace) and disconnected ones', async () => {
    const { gateway, connect, store, clock, http } = setup()
    const stale = (await connect()).connectionId
    clock.advance(60 * 60 * 1000)
    const closed = (await connect()).connectionId
    await gateway.handle(http.disconnect({ connectionId: closed }))
    const fresh = (await connect()).connectionId
    clock.advance(70 * 60 * 1000 + 1)
    const counts = await gateway.cleanup()
    expect(counts.connections).toBe(2)
    expect(await store.connections.get(stale)).toBeNull()
    expect(await store.connections.get(closed)).toBeNull()
    expect(await store.connections.get(fresh)).not.toBeNull()
    expect(await gateway.cleanup()).toEqual({ tokens: 0, rateLimits: 0, connections: 0 })
  })
})

describe('reference: Cookie and Sec-WebSocket-Extensions mandatory on connect', () => {
  it('a connect with neither is accepted', async () => {
    const { gateway, http, issue } = setup()
    const request = without(
      http.connect({ token: await issue() }),
      'cookie',
      'sec-websocket-extensions',
    )
    expect(request.headers.cookie).toBeUndefined()
    expect((await gateway.handle(request)).status).toBe(200)
  })
})

describe('issue 9 item 1: one connection joining many channels', () => {
  const joinKit = (maxChannelsPerConnection?: number) =>
    setup({
      ...(maxChannelsPerConnection === undefined ? {} : { maxChannelsPerConnection }),
      handlers: {
        join: defineHandler({
          handle: (ctx, input) => ctx.join((input as { room: string }).room),
        }),
      },
    })

  it('joining beyond the default limit of 100 is refused with CHANNEL_LIMIT_REACHED (403)', async () => {
    const { gateway, http, connect, events, store } = joinKit()
    const { connectionId } = await connect({ channel: 'lobby' })
    const join = (room: string) =>
      gateway.handle(http.message({ connectionId, body: { action: 'join', room } }))
    for (let i = 1; i < 100; i += 1) expect((await join(`room-${i}`)).status).toBe(200)
    const refused = await join('room-100')
    expect(refused.status).toBe(403)
    expect(refused.body).toBe(JSON.stringify({ message: 'Forbidden' }))
    expect(events.at(-1)).toMatchObject({
      type: 'request.rejected',
      code: 'CHANNEL_LIMIT_REACHED',
      connectionId,
    })
    expect(await store.connections.channels(connectionId)).toHaveLength(100)
    // Joining a channel it already has is not a new place.
    expect((await join('room-1')).status).toBe(200)
  })

  it('the message path reads no channels: touch returns the record without them', async () => {
    const { store, connect, clock } = joinKit(3)
    const { connectionId } = await connect({ channel: 'lobby' })
    const touched = await store.connections.touch(connectionId, clock.now())
    expect(touched).not.toBeNull()
    expect(Object.keys(touched as object)).not.toContain('channels')
  })
})
