import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { createManualClock, type ManualClock } from './clock.js'
import { type LocalGateway, startLocalGateway } from './gateway.js'
import type { LambdaWebSocketEvent, LambdaWebSocketResult } from './lambda-types.js'
import { formatRequestTime } from './request-time.js'
import { connect, send } from './test-helpers.js'

const FIXTURES = new URL('../../../fixtures/lambda/', import.meta.url)
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>
const keysOf = (value: unknown): string[] => Object.keys(value as object)
const contextOf = (value: Record<string, unknown>): Record<string, unknown> =>
  value.requestContext as Record<string, unknown>
const ID = /^[A-Za-z0-9_-]{15}=$/

let gateway: LocalGateway | undefined
afterEach(async () => {
  await gateway?.close()
  gateway = undefined
})

interface Harness {
  gateway: LocalGateway
  clock: ManualClock
  events: LambdaWebSocketEvent[]
  waitFor(predicate: (e: LambdaWebSocketEvent) => boolean): Promise<LambdaWebSocketEvent>
}

async function setup(
  answer: (
    e: LambdaWebSocketEvent,
  ) => LambdaWebSocketResult | Promise<LambdaWebSocketResult> = () => ({
    statusCode: 200,
  }),
): Promise<Harness> {
  const clock = createManualClock()
  const events: LambdaWebSocketEvent[] = []
  const waiters: {
    p: (e: LambdaWebSocketEvent) => boolean
    resolve: (e: LambdaWebSocketEvent) => void
  }[] = []
  gateway = await startLocalGateway({
    integration: {
      type: 'lambda',
      handler: async (event) => {
        events.push(event)
        for (const w of [...waiters]) {
          if (w.p(event)) {
            waiters.splice(waiters.indexOf(w), 1)
            w.resolve(event)
          }
        }
        return answer(event)
      },
    },
    stage: 'develop',
    apiId: 'nn27okk1we',
    clock,
    idleTimeoutMs: 600_000,
  })
  return {
    gateway,
    clock,
    events,
    waitFor(p) {
      const found = events.find(p)
      return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ p, resolve }))
    },
  }
}

const isType = (type: string) => (e: LambdaWebSocketEvent) => e.requestContext.eventType === type

describe('Lambda mode events', () => {
  it('CONNECT from a non-browser client has exactly the keys of connect-nonbrowser.json', async () => {
    const h = await setup()
    const client = await connect(h.gateway.url)
    const event = await h.waitFor(isType('CONNECT'))
    const sample = fixture('connect-nonbrowser.json')
    expect(keysOf(event)).toEqual(keysOf(sample))
    expect(keysOf(event.requestContext)).toEqual(keysOf(contextOf(sample)))
    expect(keysOf(event.requestContext.identity)).toEqual(keysOf(contextOf(sample).identity))
    const ctx = event.requestContext
    expect(ctx).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      stage: 'develop',
      apiId: 'nn27okk1we',
      connectedAt: h.clock.now(),
      requestTimeEpoch: h.clock.now(),
      requestTime: formatRequestTime(h.clock.now()),
      identity: { sourceIp: '127.0.0.1' },
      domainName: `127.0.0.1:${h.gateway.port}`,
    })
    expect(ctx.connectionId).toMatch(ID)
    expect(ctx.requestId).toMatch(ID)
    expect(ctx.extendedRequestId).toBe(ctx.requestId)
    const names = keysOf(event.headers)
    expect(names).toEqual([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())))
    expect(names).toEqual(
      expect.arrayContaining([
        'Host',
        'Sec-WebSocket-Key',
        'Sec-WebSocket-Version',
        'X-Amzn-Trace-Id',
        'X-Forwarded-For',
        'X-Forwarded-Port',
        'X-Forwarded-Proto',
      ]),
    )
    expect(names.map((n) => n.toLowerCase())).not.toContain('connection')
    expect(names.map((n) => n.toLowerCase())).not.toContain('upgrade')
    expect(event.headers?.['X-Forwarded-For']).toBe('127.0.0.1')
    expect(event.headers?.Host).toBe(ctx.domainName)
    expect(event.multiValueHeaders?.Host).toEqual([ctx.domainName])
    expect(event.headers?.['X-Amzn-Trace-Id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/)
    client.ws.close()
  })

  it('CONNECT from a browser-like client carries the query, Origin and identity.userAgent like connect-browser.json', async () => {
    const h = await setup()
    const client = await connect(`${h.gateway.url}?ws_token=t1&channel=room_123&channel=room_9`, {
      headers: {
        Origin: 'https://testsite.com',
        'User-Agent': 'Mozilla/5.0 Test',
        'X-Forwarded-For': '185.69.197.15',
        'X-Amzn-Trace-Id': 'Root=forged',
      },
    })
    const event = await h.waitFor(isType('CONNECT'))
    const sample = fixture('connect-browser.json')
    // The published browser sample omits multiValueHeaders; every other key matches.
    expect(keysOf(event).filter((k) => k !== 'multiValueHeaders')).toEqual(keysOf(sample))
    expect(keysOf(event.requestContext)).toEqual(keysOf(contextOf(sample)))
    expect(event.requestContext.identity).toEqual({
      userAgent: 'Mozilla/5.0 Test',
      sourceIp: '127.0.0.1',
    })
    expect(event.queryStringParameters).toEqual({ ws_token: 't1', channel: 'room_9' })
    expect(event.multiValueQueryStringParameters).toEqual({
      ws_token: ['t1'],
      channel: ['room_123', 'room_9'],
    })
    expect(event.headers?.Origin).toBe('https://testsite.com')
    expect(event.headers?.['User-Agent']).toBe('Mozilla/5.0 Test')
    expect(event.headers?.['X-Forwarded-For']).toBe('185.69.197.15, 127.0.0.1')
    expect(event.headers?.['X-Amzn-Trace-Id']).not.toBe('Root=forged')
    client.ws.close()
  })

  it('MESSAGE events have exactly the keys of the message samples, with no headers', async () => {
    const h = await setup()
    const client = await connect(h.gateway.url)
    const connected = await h.waitFor(isType('CONNECT'))
    h.clock.advance(1_234)
    await send(client, '{"action": "chat", "message": "Hello from client"}')
    await send(client, 'hello')
    const chat = await h.waitFor((e) => e.requestContext.routeKey === 'chat')
    const plain = await h.waitFor((e) => e.requestContext.routeKey === '$default')
    for (const [event, name] of [
      [chat, 'message-custom-route.json'],
      [plain, 'message-default-plaintext.json'],
    ] as const) {
      const sample = fixture(name)
      expect(keysOf(event)).toEqual(keysOf(sample))
      expect(keysOf(event.requestContext)).toEqual(keysOf(contextOf(sample)))
      expect(event.requestContext.messageId).toMatch(ID)
      expect(event.requestContext.messageId).not.toBe(event.requestContext.requestId)
      expect(event.requestContext.connectionId).toBe(connected.requestContext.connectionId)
      expect(event.requestContext.connectedAt).toBe(connected.requestContext.connectedAt)
      expect(event.requestContext.requestTimeEpoch).toBe(
        connected.requestContext.connectedAt + 1_234,
      )
      expect(event.isBase64Encoded).toBe(false)
    }
    expect(chat.body).toBe('{"action": "chat", "message": "Hello from client"}')
    expect(plain.body).toBe('hello')
    client.ws.close()
  })

  it('DISCONNECT after a client close without status matches disconnect-client-close.json', async () => {
    const h = await setup()
    const client = await connect(h.gateway.url)
    client.ws.close()
    const event = await h.waitFor(isType('DISCONNECT'))
    const sample = fixture('disconnect-client-close.json')
    expect(keysOf(event)).toEqual(keysOf(sample))
    expect(keysOf(event.requestContext)).toEqual(keysOf(contextOf(sample)))
    expect(event.requestContext).toMatchObject({
      routeKey: '$disconnect',
      disconnectStatusCode: 1005,
      disconnectReason: 'Client-side close frame status not set',
    })
    const host = `127.0.0.1:${h.gateway.port}`
    expect(event.headers).toEqual({
      Host: host,
      'x-api-key': '',
      'X-Forwarded-For': '',
      'x-restapi': '',
    })
    expect(event.multiValueHeaders).toEqual({
      Host: [host],
      'x-api-key': [''],
      'X-Forwarded-For': [''],
      'x-restapi': [''],
    })
  })

  it('DISCONNECT after the idle timeout is 1001 Going away, like disconnect-idle-timeout.json', async () => {
    const h = await setup()
    const client = await connect(h.gateway.url, { headers: { 'User-Agent': 'Mozilla/5.0 Test' } })
    await h.waitFor(isType('CONNECT'))
    h.clock.advance(600_000)
    expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' })
    const event = await h.waitFor(isType('DISCONNECT'))
    const sample = fixture('disconnect-idle-timeout.json')
    expect(keysOf(event)).toEqual(keysOf(sample))
    expect(keysOf(event.requestContext)).toEqual(keysOf(contextOf(sample)))
    expect(keysOf(event.requestContext.identity)).toEqual(keysOf(contextOf(sample).identity))
    expect(event.requestContext.disconnectStatusCode).toBe(1001)
    expect(event.requestContext.disconnectReason).toBe('Going away')
    expect(event.requestContext.requestTimeEpoch).toBe(event.requestContext.connectedAt + 600_000)
  })

  it('reports the client close code and reason', async () => {
    const h = await setup()
    const client = await connect(h.gateway.url)
    client.ws.close(4000, 'user left')
    const event = await h.waitFor(isType('DISCONNECT'))
    expect(event.requestContext.disconnectStatusCode).toBe(4000)
    expect(event.requestContext.disconnectReason).toBe('user left')
  })
})

describe('Lambda mode results', () => {
  it('fails the handshake with the handler status', async () => {
    const h = await setup((e) => ({
      statusCode: e.requestContext.eventType === 'CONNECT' ? 403 : 200,
    }))
    await expect(connect(h.gateway.url)).rejects.toMatchObject({ status: 403 })
    expect(h.events.map((e) => e.requestContext.eventType)).toEqual(['CONNECT'])
  })

  it.each([
    ['throws', () => Promise.reject(new Error('boom'))],
    ['returns no statusCode', () => Promise.resolve({} as LambdaWebSocketResult)],
  ])('fails the handshake with 500 when the handler %s', async (_name, fail) => {
    const h = await setup(() => fail())
    await expect(connect(h.gateway.url)).rejects.toMatchObject({ status: 500 })
  })

  it('sends a two-way reply, and an Internal server error frame when the handler throws', async () => {
    const h = await setup((e) => {
      if (e.body === 'fail') throw new Error('boom')
      return { statusCode: 200, body: e.body === 'echo' ? 'echoed' : '' }
    })
    const client = await connect(h.gateway.url)
    const connected = await h.waitFor(isType('CONNECT'))
    await send(client, 'quiet')
    await send(client, 'echo')
    expect(await client.next()).toBe('echoed')
    await send(client, 'fail')
    const frame = JSON.parse(await client.next()) as Record<string, string>
    expect(frame.message).toBe('Internal server error')
    expect(frame.connectionId).toBe(connected.requestContext.connectionId)
    const failed = h.events.find((e) => e.body === 'fail')
    expect(frame.requestId).toBe(failed?.requestContext.requestId)
    client.ws.close()
  })

  it('times a hanging handler out after integrationTimeoutMs', async () => {
    const h = await setup((e) =>
      e.body === 'hang' ? new Promise<LambdaWebSocketResult>(() => {}) : { statusCode: 200 },
    )
    const client = await connect(h.gateway.url)
    await send(client, 'hang')
    await h.waitFor((e) => e.body === 'hang')
    h.clock.advance(29_000)
    expect(JSON.parse(await client.next())).toMatchObject({ message: 'Internal server error' })
    client.ws.close()
  })
})
