import { afterEach, describe, expect, it } from 'vitest'
import { createManualClock, type ManualClock } from './clock.js'
import { type LocalGateway, startLocalGateway } from './gateway.js'
import type { LocalGatewayOptions } from './options.js'
import {
  type BackendAnswer,
  connect,
  type RecordedRequest,
  type RecordingBackend,
  send,
  startRecordingBackend,
} from './test-helpers.js'

const ID = /^[A-Za-z0-9_-]{15}=$/
const TRACE = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/

let backend: RecordingBackend | undefined
let gateway: LocalGateway | undefined

afterEach(async () => {
  await gateway?.close()
  await backend?.close()
  gateway = undefined
  backend = undefined
})

async function setup(
  answer: (r: RecordedRequest) => BackendAnswer | Promise<BackendAnswer> = () => ({}),
  options: Partial<LocalGatewayOptions> = {},
): Promise<{ backend: RecordingBackend; gateway: LocalGateway }> {
  backend = await startRecordingBackend(answer)
  gateway = await startLocalGateway({
    integration: { type: 'http', baseUrl: backend.baseUrl },
    apiId: 'abc123',
    ...options,
  })
  return { backend, gateway }
}

const headerNames = (r: RecordedRequest): string[] => r.rawHeaders.map(([n]) => n)

describe('$connect', () => {
  it('completes the handshake on 2xx, after the backend answered', async () => {
    const order: string[] = []
    const { gateway } = await setup((r) => {
      order.push(`backend:${r.route}`)
      return { status: 200 }
    })
    const client = await connect(gateway.url)
    order.push('open')
    expect(order).toEqual(['backend:connect', 'open'])
    expect(gateway.url).toBe(`ws://127.0.0.1:${gateway.port}/local`)
    expect(gateway.managementEndpoint).toBe(`http://127.0.0.1:${gateway.port}/local`)
    client.ws.close()
  })

  it.each([401, 403, 429, 500, 503])(
    'fails the handshake with the backend status %i',
    async (status) => {
      const { gateway, backend } = await setup(() => ({ status, body: 'nope' }))
      await expect(connect(gateway.url)).rejects.toMatchObject({ status })
      expect(backend.requests.map((r) => r.route)).toEqual(['connect'])
    },
  )

  it('fails the handshake with 500 when the backend is unreachable, and stays up', async () => {
    const { gateway, backend } = await setup()
    await backend.close()
    await expect(connect(gateway.url)).rejects.toMatchObject({ status: 500 })
  })

  it('fails the handshake with 500 when the backend times out', async () => {
    const clock = createManualClock()
    let release = (): void => {}
    const held = new Promise<BackendAnswer>((r) => {
      release = () => r({})
    })
    const { gateway, backend } = await setup(() => held, { clock, integrationTimeoutMs: 5_000 })
    const attempt = connect(gateway.url)
    await backend.waitFor((r) => r.route === 'connect')
    clock.advance(5_000)
    await expect(attempt).rejects.toMatchObject({ status: 500 })
    release()
  })

  it('rejects malformed handshakes and other paths without calling the backend', async () => {
    const { gateway, backend } = await setup()
    await expect(connect(`ws://127.0.0.1:${gateway.port}/other`)).rejects.toMatchObject({
      status: 404,
    })
    const { httpCall } = await import('./test-helpers.js')
    const plain = await httpCall(`http://127.0.0.1:${gateway.port}/local`, {
      method: 'GET',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'short' },
    })
    expect(plain.status).toBe(400)
    expect(backend.requests).toHaveLength(0)
  })

  it('forwards the query string, Origin, Cookie, Sec-WebSocket-* and User-Agent, plus API Gateway headers', async () => {
    const { gateway, backend } = await setup(() => ({
      headers: { 'Sec-WebSocket-Protocol': 'chat.v1' },
    }))
    const client = await connect(`${gateway.url}?ws_token=abc&channel=room_1`, {
      headers: {
        Origin: 'https://app.example.com',
        Cookie: 'sid=s1',
        'User-Agent': 'Mozilla/5.0 Test',
        'X-Forwarded-For': '203.0.113.7',
        Authorization: 'Bearer not-forwarded',
        'Accept-Language': 'en',
      },
      protocols: ['chat.v1', 'chat.v0'],
    })
    expect(client.ws.protocol).toBe('chat.v1')
    const req = await backend.waitFor((r) => r.route === 'connect')
    expect(req.method).toBe('POST')
    expect(req.url).toBe('/ws/connect?ws_token=abc&channel=room_1')
    const h = req.headers
    expect(h.connectionid).toMatch(ID)
    expect(h.origin).toBe('https://app.example.com')
    expect(h.cookie).toBe('sid=s1')
    expect(h['user-agent']).toBe('Mozilla/5.0 Test')
    expect(h['sec-websocket-key']).toMatch(/^[A-Za-z0-9+/]{22}==$/)
    expect(h['sec-websocket-version']).toBe('13')
    expect(h['sec-websocket-protocol']).toBe('chat.v1,chat.v0')
    expect(h['x-amzn-apigateway-api-id']).toBe('abc123')
    expect(h['x-amzn-trace-id']).toMatch(TRACE)
    expect(h['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1')
    expect(h['x-forwarded-proto']).toBe('https')
    expect(h['x-forwarded-port']).toBe('443')
    expect(h.host).toBe(new URL(backend.baseUrl).host)
    expect(h.authorization).toBeUndefined()
    expect(h['accept-language']).toBeUndefined()
    expect(h['x-apigw-secret']).toBeUndefined()
    expect(headerNames(req)).toContain('connectionId')
    expect(headerNames(req)).toContain('X-Amzn-Apigateway-Api-Id')
    // No fetch-style extras.
    expect(Object.keys(h).filter((n) => n.startsWith('sec-fetch'))).toEqual([])
    client.ws.close()
  })

  it('without a client X-Forwarded-For sends the peer address alone, and no User-Agent when none was sent', async () => {
    const { gateway, backend } = await setup()
    const client = await connect(gateway.url)
    const req = await backend.waitFor((r) => r.route === 'connect')
    expect(req.headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(req.headers['user-agent']).toBeUndefined()
    expect(req.headers.origin).toBeUndefined()
    expect(req.url).toBe('/ws/connect')
    client.ws.close()
  })

  it('fails the handshake when the client asked for subprotocols and the backend chose none', async () => {
    const { gateway } = await setup()
    await expect(connect(gateway.url, { protocols: ['chat.v1'] })).rejects.toThrow()
  })
})

describe('messages and $disconnect', () => {
  it('sends message and disconnect calls with API Gateway headers and no handshake headers', async () => {
    const { gateway, backend } = await setup()
    const client = await connect(`${gateway.url}?ws_token=abc`, {
      headers: {
        Origin: 'https://app.example.com',
        Cookie: 'sid=s1',
        'User-Agent': 'UA/1',
        'X-Forwarded-For': '198.51.100.1',
      },
    })
    const connectReq = await backend.waitFor((r) => r.route === 'connect')
    const id = connectReq.headers.connectionid
    await send(client, '{"action":"chat","text":"hi"}')
    const msg = await backend.waitFor((r) => r.route === 'chat')
    client.ws.close(1000, 'bye')
    const disc = await backend.waitFor((r) => r.route === 'disconnect')

    for (const req of [msg, disc]) {
      expect(req.method).toBe('POST')
      expect(req.headers.connectionid).toBe(id)
      expect(req.headers['user-agent']).toBe('AmazonAPIGateway_abc123')
      expect(req.headers['x-amzn-apigateway-api-id']).toBe('abc123')
      expect(req.headers['x-amzn-trace-id']).toMatch(TRACE)
      expect(req.headers['x-forwarded-for']).toBe('198.51.100.1, 127.0.0.1')
      expect(req.headers['x-forwarded-proto']).toBe('https')
      expect(req.headers['x-forwarded-port']).toBe('443')
      expect(req.headers.origin).toBeUndefined()
      expect(req.headers.cookie).toBeUndefined()
      expect(req.headers['sec-websocket-key']).toBeUndefined()
      expect(req.url).not.toContain('?')
    }
    expect(msg.url).toBe('/ws/chat')
    expect(msg.body).toBe('{"action":"chat","text":"hi"}')
    expect(disc.url).toBe('/ws/disconnect')
    expect(disc.body).toBe('')
    expect(msg.headers['x-amzn-trace-id']).not.toBe(disc.headers['x-amzn-trace-id'])
  })

  it('adds the static secret header to every call', async () => {
    const { gateway, backend } = await setup(() => ({}), {
      secret: { value: 's3cret' },
    })
    const client = await connect(gateway.url)
    await send(client, 'hello')
    await backend.waitFor((r) => r.route === 'default')
    client.ws.close()
    await backend.waitFor((r) => r.route === 'disconnect')
    expect(backend.requests.map((r) => [r.route, r.headers['x-apigw-secret']])).toEqual([
      ['connect', 's3cret'],
      ['default', 's3cret'],
      ['disconnect', 's3cret'],
    ])
  })

  it('uses a custom secret header name', async () => {
    const { gateway, backend } = await setup(() => ({}), {
      secret: { header: 'X-Origin-Verify', value: 'v' },
    })
    const client = await connect(gateway.url)
    const req = await backend.waitFor((r) => r.route === 'connect')
    expect(req.headers['x-origin-verify']).toBe('v')
    expect(req.headers['x-apigw-secret']).toBeUndefined()
    client.ws.close()
  })

  it.each([
    ['{"action":"chat"}', 'chat'],
    ['{"action":"join-room_2"}', 'join-room_2'],
    ['{"text":"no action"}', 'default'],
    ['{"action":"has space"}', 'default'],
    ['{"action":5}', 'default'],
    ['{"action":{"nested":true}}', 'default'],
    ['["action"]', 'default'],
    ['not json {', 'default'],
    ['', 'default'],
  ])('routes %j to /%s', async (text, route) => {
    const { gateway, backend } = await setup()
    const client = await connect(gateway.url)
    await send(client, text)
    const req = await backend.waitFor((r) => r.route !== 'connect')
    expect(req.route).toBe(route)
    expect(req.body).toBe(text)
    client.ws.close()
  })

  it('follows a nested selection expression and an explicit route list', async () => {
    const { gateway, backend } = await setup(() => ({}), {
      routeSelectionExpression: '$request.body.meta.type',
      routes: ['join'],
    })
    const client = await connect(gateway.url)
    await send(client, '{"meta":{"type":"join"}}')
    await send(client, '{"meta":{"type":"leave"}}')
    await send(client, '{"action":"join"}')
    await backend.waitFor((r) => r.route !== 'connect' && r.body.includes('"action"'))
    const routed = backend.requests.filter((r) => r.route !== 'connect')
    expect(routed.map((r) => [r.route, r.body]).sort()).toEqual(
      [
        ['default', '{"action":"join"}'],
        ['default', '{"meta":{"type":"leave"}}'],
        ['join', '{"meta":{"type":"join"}}'],
      ].sort(),
    )
    client.ws.close()
  })

  it('never routes a message to a system route: {"action":"disconnect"} goes to default', async () => {
    const { gateway, backend } = await setup()
    const client = await connect(gateway.url)
    const texts = [
      '{"action":"disconnect"}',
      '{"action":"Disconnect"}',
      '{"action":"connect"}',
      '{"action":"DEFAULT"}',
    ]
    for (const text of texts) await send(client, text)
    await backend.waitFor((r) => r.body === texts[texts.length - 1])
    const routed = backend.requests.filter((r) => r.route !== 'connect')
    expect(routed.map((r) => r.route)).toEqual(['default', 'default', 'default', 'default'])
    // The connection is still open: nothing was sent to `$disconnect`.
    expect(client.ws.readyState).toBe(client.ws.OPEN)
    client.ws.close()
  })

  it('delivers a non-empty 2xx body as a two-way reply, and nothing for an empty one', async () => {
    const { gateway } = await setup((r) =>
      r.route === 'echo' ? { body: `echo:${r.body}` } : { status: 204 },
    )
    const client = await connect(gateway.url)
    await send(client, '{"action":"silent"}')
    await send(client, '{"action":"echo","n":1}')
    expect(await client.next()).toBe('echo:{"action":"echo","n":1}')
    client.ws.close()
  })

  it.each([
    ['a 500', () => ({ status: 500, body: 'stack trace' })],
    ['a 404', () => ({ status: 404 })],
  ])(
    'answers %s with an Internal server error frame and keeps the connection',
    async (_name, answer) => {
      const { gateway, backend } = await setup((r) => (r.route === 'connect' ? {} : answer()))
      const client = await connect(gateway.url)
      const connectReq = await backend.waitFor((r) => r.route === 'connect')
      await send(client, '{"action":"boom"}')
      const frame = JSON.parse(await client.next()) as Record<string, string>
      expect(Object.keys(frame)).toEqual(['message', 'connectionId', 'requestId'])
      expect(frame.message).toBe('Internal server error')
      expect(frame.connectionId).toBe(connectReq.headers.connectionid)
      expect(frame.requestId).toMatch(ID)
      expect(client.ws.readyState).toBe(client.ws.OPEN)
      client.ws.close()
    },
  )

  it('runs at most maxIntegrationSockets calls at once, on that many connections, first come first served', async () => {
    const held: (() => void)[] = []
    const { gateway, backend } = await setup(
      (r) =>
        r.route === 'default'
          ? new Promise<BackendAnswer>((resolve) => held.push(() => resolve({ body: r.body })))
          : {},
      { maxIntegrationSockets: 2 },
    )
    const client = await connect(gateway.url)
    for (let seq = 0; seq < 6; seq++) await send(client, `{"seq":${seq}}`)
    const arrived = (n: number) =>
      backend.waitFor(() => backend.requests.filter((r) => r.route === 'default').length >= n)
    await arrived(2)
    for (let n = 3; n <= 6; n++) {
      expect(held.length - (n - 3)).toBeLessThanOrEqual(2) // calls the backend holds right now
      held[n - 3]?.()
      await arrived(n)
    }
    held[4]?.()
    held[5]?.()
    const replies = []
    for (let seq = 0; seq < 6; seq++) replies.push(await client.next())
    expect(replies).toEqual([0, 1, 2, 3, 4, 5].map((seq) => `{"seq":${seq}}`))
    const bodies = backend.requests.filter((r) => r.route === 'default').map((r) => r.body)
    expect(bodies).toEqual(replies)
    expect(await backend.connectionCount()).toBeLessThanOrEqual(2)
    client.ws.close()
  })

  it('answers a network failure on a message with the same frame', async () => {
    const { gateway, backend } = await setup()
    const client = await connect(gateway.url)
    await backend.close()
    await send(client, 'hi')
    const frame = await client.next()
    expect(frame).toMatch(
      /^\{"message": "Internal server error", "connectionId":"[A-Za-z0-9_-]{15}=", "requestId":"[A-Za-z0-9_-]{15}="\}$/,
    )
    client.ws.close()
  })

  it('closes 1003 on a binary frame, then sends $disconnect', async () => {
    const { gateway, backend } = await setup()
    const client = await connect(gateway.url)
    await send(client, Buffer.from([1, 2, 3]), true)
    expect((await client.closed).code).toBe(1003)
    await backend.waitFor((r) => r.route === 'disconnect')
    expect(backend.requests.filter((r) => r.route === 'default')).toHaveLength(0)
  })

  it('accepts a message of exactly maxMessageBytes and closes 1009 on one byte more', async () => {
    const { gateway, backend } = await setup((r) => (r.route === 'default' ? { body: 'ok' } : {}), {
      maxMessageBytes: 1024,
    })
    const client = await connect(gateway.url)
    await send(client, 'x'.repeat(1024))
    expect(await client.next()).toBe('ok')
    await send(client, `${'é'.repeat(512)}x`)
    expect((await client.closed).code).toBe(1009)
    await backend.waitFor((r) => r.route === 'disconnect')
    expect(backend.requests.filter((r) => r.route === 'default')).toHaveLength(1)
  })

  it('enforces the 128 KiB default', async () => {
    const { gateway } = await setup()
    const client = await connect(gateway.url)
    await send(client, 'x'.repeat(128 * 1024 + 1))
    expect((await client.closed).code).toBe(1009)
  })

  it('sends $disconnect exactly once when the client drops the TCP connection', async () => {
    const { gateway, backend } = await setup()
    const client = await connect(gateway.url)
    client.ws.terminate()
    await backend.waitFor((r) => r.route === 'disconnect')
    await gateway.close()
    expect(backend.requests.filter((r) => r.route === 'disconnect')).toHaveLength(1)
  })
})

describe('timeouts', () => {
  async function setupClock(options: Partial<LocalGatewayOptions>): Promise<{
    clock: ManualClock
    gateway: LocalGateway
    backend: RecordingBackend
  }> {
    const clock = createManualClock()
    const env = await setup(() => ({}), { clock, ...options })
    return { clock, ...env }
  }

  it('closes an idle connection with 1001 Going away, then sends $disconnect', async () => {
    const { clock, gateway, backend } = await setupClock({ idleTimeoutMs: 10_000 })
    const client = await connect(gateway.url)
    clock.advance(9_999)
    await send(client, 'still here')
    await backend.waitFor((r) => r.route === 'default')
    clock.advance(9_999)
    expect(client.ws.readyState).toBe(client.ws.OPEN)
    clock.advance(1)
    expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' })
    await backend.waitFor((r) => r.route === 'disconnect')
  })

  it('closes at the maximum duration even when active', async () => {
    const { clock, gateway, backend } = await setupClock({
      idleTimeoutMs: 1_000,
      maxDurationMs: 2_500,
    })
    const client = await connect(gateway.url)
    for (let i = 0; i < 4; i++) {
      clock.advance(600)
      await send(client, `tick ${i}`)
      await backend.waitFor((r) => r.body === `tick ${i}`)
    }
    expect(client.ws.readyState).toBe(client.ws.OPEN)
    clock.advance(100)
    expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' })
    await backend.waitFor((r) => r.route === 'disconnect')
  })
})

describe('close()', () => {
  it('closes clients with 1001, sends $disconnect, releases every socket and stops listening', async () => {
    const { gateway, backend } = await setup()
    const a = await connect(gateway.url)
    const b = await connect(gateway.url)
    await send(a, 'hi')
    await backend.waitFor((r) => r.route === 'default')
    await gateway.close()
    expect((await a.closed).code).toBe(1001)
    expect((await b.closed).code).toBe(1001)
    expect(backend.requests.filter((r) => r.route === 'disconnect')).toHaveLength(2)
    await backend.allClosed()
    expect(await backend.connectionCount()).toBe(0)
    await expect(connect(gateway.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    await expect(gateway.close()).resolves.toBeUndefined()
  })

  it('rejects when the port is taken, and rejects invalid options with TypeError', async () => {
    const { gateway, backend } = await setup()
    const integration = { type: 'http', baseUrl: backend.baseUrl } as const
    await expect(startLocalGateway({ integration, port: gateway.port })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    })
    await expect(startLocalGateway({ integration, stage: 'no/slash' })).rejects.toThrow(TypeError)
  })

  it('fails a handshake still waiting on $connect', async () => {
    let release = (): void => {}
    const held = new Promise<BackendAnswer>((r) => {
      release = () => r({})
    })
    const { gateway, backend } = await setup(() => held, { closeTimeoutMs: 50 })
    const attempt = connect(gateway.url)
    await backend.waitFor((r) => r.route === 'connect')
    const closing = gateway.close()
    await expect(attempt).rejects.toThrow()
    release()
    await closing
  })
})
