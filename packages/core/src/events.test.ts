/**
 * Operator events: a canary scenario proves tokens, session ids, cookies, secrets, message bodies
 * and error messages never reach `onEvent`; the lifecycle tests pin which events each step emits.
 */
import { memoryStore } from '@apigw-ws/store-memory'
import * as v from 'valibot'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { API_ID, ORIGIN, SECRET, setup } from '../test/gateway-kit.js'
import type { GatewayEvent } from './events.js'
import { createGateway } from './gateway.js'
import { defineHandler } from './handlers.js'
import type { GatewayRequest } from './request.js'
import type { StoreParts } from './store.js'
import { fakeClock } from './testing/fake-clock.js'
import { httpRequests } from './testing/requests.js'

const CANARY = {
  secret: 'CANARY-SECRET-7f3a9c1e2b',
  wrongSecret: 'CANARY-WRONG-SECRET-0a1b2c',
  session: 'CANARY-SESSION-4d2e8f',
  cookie: 'CANARY-COOKIE-91ab77',
  body: 'CANARY-BODY-55cc3d',
  action: 'CANARYACTION',
  forgedToken: 'CANARYTOKEN',
  storeError: 'CANARY-STORE-ERROR-e1',
  hookError: 'CANARY-HOOK-ERROR-f2',
  handlerError: 'CANARY-HANDLER-ERROR-a3',
} as const

/** A memory store that fails every call while `down` is set. */
function switchableStore() {
  const inner = memoryStore()
  const control = { down: false }
  const wrap = <T extends object>(target: T): T => {
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(target)) {
      out[key] = (...args: unknown[]) => {
        if (control.down) return Promise.reject(new Error(CANARY.storeError))
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    }
    return out as T
  }
  const store: StoreParts = {
    connections: wrap(inner.connections),
    tokens: wrap(inner.tokens),
    limits: wrap(inner.limits),
    cleanup: (request, now) => inner.cleanup(request, now),
  }
  return { store, control }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('events never carry secrets (canary scenario)', () => {
  it('tokens, session ids, cookies, secrets, bodies and error messages stay out of every event', async () => {
    const events: GatewayEvent[] = []
    const clock = fakeClock()
    const { store, control } = switchableStore()
    const gateway = createGateway({
      store,
      clock,
      integrationSecret: [CANARY.secret],
      allowedOrigins: [ORIGIN],
      onEvent: (e) => events.push(structuredClone(e)),
      rateLimits: {
        messagePerConnection: { limit: 4, windowMs: 60_000 },
        tokenPerUser: { limit: 4, windowMs: 60_000 },
      },
      auth: {
        resolveSession: (r) => /sid=([^;]+)/.exec(r.headers.cookie ?? '')?.[1] ?? null,
        loadUser: (id) => {
          if (id === 'boom') throw new Error(CANARY.hookError)
          return { id }
        },
      },
      handlers: {
        echo: defineHandler({
          schema: v.object({ action: v.literal('echo'), text: v.string() }),
          handle: (_ctx, input) => ({ text: input.text }),
        }),
        crash: defineHandler({
          handle: () => {
            throw new Error(CANARY.handlerError)
          },
        }),
      },
    })
    const http = httpRequests({ secret: CANARY.secret })
    const cookie = `sid=${CANARY.session}; prefs=${CANARY.cookie}`
    const issued: string[] = []
    const issue = async (userId: string) => {
      const response = await gateway.issueToken({
        method: 'POST',
        headers: { origin: ORIGIN, cookie },
        userId,
        sessionId: CANARY.session,
      })
      const token = (JSON.parse(response.body ?? '{}') as { token?: string }).token
      if (token !== undefined) issued.push(token)
      return token
    }

    // Tokens: issued, refused (method, CSRF), rate limited.
    const t1 = (await issue('alice')) as string
    const t2 = (await issue('alice')) as string
    await gateway.issueToken({
      method: 'GET',
      headers: { origin: ORIGIN, cookie },
      userId: 'alice',
      sessionId: CANARY.session,
    })
    await gateway.issueToken({
      method: 'POST',
      headers: { origin: 'https://evil.net', cookie },
      userId: 'alice',
      sessionId: CANARY.session,
    })
    await issue('alice')
    await issue('alice')
    await issue('alice')
    // Connects: accepted, wrong session, forged and malformed tokens, wrong secret, reused token.
    expect(
      (await gateway.handle(http.connect({ connectionId: 'canary1=', token: t1, cookie }))).status,
    ).toBe(200)
    await gateway.handle(http.connect({ token: t2, cookie: `sid=${CANARY.session}x` }))
    await gateway.handle(
      http.connect({ token: `awst_${CANARY.forgedToken.padEnd(43, 'x')}`, cookie }),
    )
    await gateway.handle(http.connect({ token: `${CANARY.forgedToken}-not-a-token`, cookie }))
    await gateway.handle({
      ...http.connect({ token: t2, cookie }),
      headers: { ...http.connect({ cookie }).headers, 'x-apigw-secret': CANARY.wrongSecret },
    })
    await gateway.handle(http.connect({ token: t1, cookie }))
    // A hook that throws, with the canary in its message.
    await gateway.handle(
      http.connect({
        token: await gateway
          .issueToken({
            method: 'POST',
            headers: { origin: ORIGIN },
            userId: 'boom',
            sessionId: CANARY.session,
          })
          .then((r) => (JSON.parse(r.body ?? '{}') as { token: string }).token),
        cookie,
      }),
    )
    // Messages: handled, schema failure, unknown handler, invalid JSON, oversized, handler crash, rate limited.
    const message = (body: unknown) =>
      gateway.handle(http.message({ connectionId: 'canary1=', body }))
    const handled = await message({ action: 'echo', text: CANARY.body })
    expect(handled.body).toContain(CANARY.body)
    await message({ action: 'echo', text: 7, note: CANARY.body })
    await message({ action: CANARY.action, text: CANARY.body })
    await message(`{"action":"echo","text":"${CANARY.body}"`)
    await message({ action: 'crash', text: CANARY.body })
    await message({ action: 'echo', text: CANARY.body })
    await gateway.handle(
      http.message({ connectionId: 'canary1=', body: `${CANARY.body}${'x'.repeat(140_000)}` }),
    )
    // The store goes down for a connect, a message and a disconnect.
    control.down = true
    await gateway.handle(http.connect({ token: t2, cookie }))
    await message({ action: 'echo', text: CANARY.body })
    await gateway.handle(http.disconnect({ connectionId: 'canary1=' }))
    control.down = false
    await gateway.handle(http.disconnect({ connectionId: 'canary1=' }))

    const types = new Set(events.map((e) => e.type))
    for (const type of [
      'token.issued',
      'token.rejected',
      'rate.limited',
      'connect.accepted',
      'request.rejected',
      'message.handled',
      'internal.error',
      'connection.disconnected',
    ]) {
      expect(types).toContain(type)
    }
    const sources = new Set(events.flatMap((e) => (e.type === 'internal.error' ? [e.source] : [])))
    expect([...sources].sort()).toEqual(['handler', 'hook', 'store'])

    const serialized = JSON.stringify(events)
    for (const canary of Object.values(CANARY)) expect(serialized).not.toContain(canary)
    expect(issued.length).toBeGreaterThanOrEqual(4)
    for (const token of issued) {
      expect(serialized).not.toContain(token)
      expect(serialized).not.toContain(token.slice(5, 20))
    }
    expect(serialized).not.toContain('sid=')
  })
})

describe('the events of each lifecycle step', () => {
  it('issuing a token emits token.issued, with the expiry and no token', async () => {
    const { gateway, events, clock } = setup()
    await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId: 'u1',
      channel: 'room',
    })
    expect(events).toEqual([
      {
        type: 'token.issued',
        at: clock.now(),
        userId: 'u1',
        channel: 'room',
        expiresAt: clock.now() + 60_000,
      },
    ])
  })

  it('a refused issuance emits token.rejected with the code', async () => {
    const { gateway, events, clock } = setup()
    await gateway.issueToken({ method: 'GET', headers: {}, userId: 'u1' })
    await gateway.issueToken({
      method: 'POST',
      headers: { origin: 'https://evil.net' },
      userId: 'u1',
    })
    await gateway.issueToken({ method: 'POST', headers: { origin: ORIGIN }, userId: null })
    expect(events).toEqual([
      {
        type: 'token.rejected',
        at: clock.now(),
        code: 'METHOD_NOT_ALLOWED',
        userId: 'u1',
        detail: null,
      },
      {
        type: 'token.rejected',
        at: clock.now(),
        code: 'CSRF_REJECTED',
        userId: 'u1',
        detail: null,
      },
      {
        type: 'token.rejected',
        at: clock.now(),
        code: 'UNAUTHENTICATED',
        userId: null,
        detail: 'no user',
      },
    ])
  })

  it('a rate-limited issuance emits rate.limited, then token.rejected', async () => {
    const { gateway, events, clock } = setup({
      rateLimits: { tokenPerUser: { limit: 1, windowMs: 60_000 } },
    })
    const ask = () =>
      gateway.issueToken({ method: 'POST', headers: { origin: ORIGIN }, userId: 'u1' })
    await ask()
    events.length = 0
    await ask()
    expect(events).toEqual([
      {
        type: 'rate.limited',
        at: clock.now(),
        scope: 'token.user',
        count: 2,
        limit: 1,
        resetAt: clock.now() + 60_000,
      },
      {
        type: 'token.rejected',
        at: clock.now(),
        code: 'RATE_LIMITED',
        userId: 'u1',
        detail: 'token.user',
      },
    ])
  })

  it('an accepted connect emits connect.accepted with the user, channels and address', async () => {
    const { gateway, http, issue, events, clock } = setup()
    const token = await issue('u1')
    events.length = 0
    clock.advance(10)
    await gateway.handle(http.connect({ connectionId: 'ev1=', token, channel: 'lobby' }))
    expect(events).toEqual([
      {
        type: 'connect.accepted',
        at: clock.now(),
        connectionId: 'ev1=',
        userId: 'u1',
        channels: ['lobby'],
        ip: '203.0.113.10',
      },
    ])
  })

  it('a refused connect emits request.rejected with code, status and safe context', async () => {
    const { gateway, http, events, clock } = setup()
    await gateway.handle(http.connect({ connectionId: 'ev2=', origin: 'https://evil.net' }))
    expect(events).toEqual([
      {
        type: 'request.rejected',
        at: clock.now(),
        route: '$connect',
        code: 'ORIGIN_REJECTED',
        status: 403,
        connectionId: 'ev2=',
        ip: '203.0.113.10',
        detail: null,
      },
    ])
  })

  it('a rate-limited connect emits rate.limited, then request.rejected with 429', async () => {
    const { gateway, http, events, clock } = setup({
      rateLimits: { connectPerIp: { limit: 1, windowMs: 60_000 } },
    })
    await gateway.handle(http.connect({ connectionId: 'ev3=' }))
    events.length = 0
    await gateway.handle(http.connect({ connectionId: 'ev3=' }))
    expect(events).toEqual([
      {
        type: 'rate.limited',
        at: clock.now(),
        scope: 'connect.ip',
        count: 2,
        limit: 1,
        resetAt: clock.now() + 60_000,
      },
      expect.objectContaining({
        type: 'request.rejected',
        code: 'RATE_LIMITED',
        status: 429,
        detail: 'connect.ip',
      }),
    ])
  })

  it('a handled message emits message.handled; a refused one request.rejected', async () => {
    const { gateway, http, connect, events, clock } = setup()
    const { connectionId } = await connect()
    events.length = 0
    await gateway.handle(http.message({ connectionId, body: { action: 'echo' } }))
    await gateway.handle(http.message({ connectionId, body: { action: 'nope' } }))
    expect(events).toEqual([
      { type: 'message.handled', at: clock.now(), connectionId, handler: 'echo' },
      {
        type: 'request.rejected',
        at: clock.now(),
        route: '$default',
        code: 'HANDLER_UNKNOWN',
        status: 400,
        connectionId,
        ip: null,
        detail: null,
      },
    ])
  })

  it('a disconnect emits connection.disconnected once; a repeat emits nothing', async () => {
    const { gateway, http, connect, events, clock } = setup()
    const { connectionId } = await connect()
    events.length = 0
    await gateway.handle(http.disconnect({ connectionId }))
    await gateway.handle(http.disconnect({ connectionId }))
    expect(events).toEqual([
      { type: 'connection.disconnected', at: clock.now(), connectionId, reason: 'disconnect' },
    ])
  })

  it('an internal failure emits internal.error (source and error name only), then request.rejected', async () => {
    const { gateway, http, connect, events, clock } = setup({
      handlers: {
        crash: defineHandler({
          handle: () => {
            throw new RangeError('details that must not leak')
          },
        }),
      },
    })
    const { connectionId } = await connect()
    events.length = 0
    await gateway.handle(http.message({ connectionId, body: { action: 'crash' } }))
    expect(events).toEqual([
      {
        type: 'internal.error',
        at: clock.now(),
        source: 'handler',
        route: '$default',
        errorName: 'RangeError',
      },
      expect.objectContaining({ type: 'request.rejected', code: 'INTERNAL_ERROR', status: 500 }),
    ])
  })

  it('a gateway without a secret emits config.warning once, at construction', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { events } = setup({ integrationSecret: undefined })
    expect(events).toEqual([
      expect.objectContaining({ type: 'config.warning', code: 'NO_INTEGRATION_SECRET' }),
    ])
  })

  it('every event is stamped with the gateway clock', async () => {
    const { gateway, http, connect, events, clock } = setup()
    clock.set(1_800_000_000_000)
    const { connectionId } = await connect()
    await gateway.handle(http.message({ connectionId, body: { action: 'echo' } }))
    await gateway.handle(http.disconnect({ connectionId }))
    expect(events.length).toBeGreaterThanOrEqual(4)
    expect(events.every((e) => e.at === 1_800_000_000_000)).toBe(true)
  })

  it('events carry the request’s identifiers but never its headers', async () => {
    const { gateway, http, events } = setup()
    const request: GatewayRequest = http.connect({ connectionId: 'ev9=', cookie: 'sid=abc' })
    await gateway.handle(request)
    const text = JSON.stringify(events)
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain(API_ID)
    expect(text).not.toContain('sid=abc')
    expect(text).not.toContain('Mozilla')
  })
})
