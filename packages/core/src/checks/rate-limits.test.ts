import { memoryStore } from '@apigw-ws/store-memory'
import { describe, expect, it } from 'vitest'
import { ORIGIN, recordingStore, rejectionCodes, setup } from '../../test/gateway-kit.js'
import { defineStore } from '../define-store.js'
import { hitLimit } from './rate-limits.js'

const RULE = { limit: 2, windowMs: 10_000 }

describe('hitLimit', () => {
  it('counts under a scope-namespaced key and refuses past the limit with Retry-After', async () => {
    const recording = recordingStore()
    const store = defineStore(recording)
    expect(await hitLimit(store, 'connect.ip', '1.2.3.4', RULE, 1_000)).toBeNull()
    expect(await hitLimit(store, 'connect.ip', '1.2.3.4', RULE, 2_000)).toBeNull()
    const refusal = await hitLimit(store, 'connect.ip', '1.2.3.4', RULE, 2_500)
    expect(refusal).toEqual({
      rejection: { code: 'RATE_LIMITED', detail: 'connect.ip', retryAfterSeconds: 9 },
      count: 3,
      resetAt: 11_000,
    })
    expect(recording.calls.map((c) => c.args[0])).toEqual([
      'connect.ip:1.2.3.4',
      'connect.ip:1.2.3.4',
      'connect.ip:1.2.3.4',
    ])
  })

  it('never advertises a Retry-After below one second', async () => {
    const store = memoryStore()
    await hitLimit(store, 's', 'k', { limit: 1, windowMs: 1_000 }, 0)
    const refusal = await hitLimit(store, 's', 'k', { limit: 1, windowMs: 1_000 }, 999)
    expect(refusal?.rejection.retryAfterSeconds).toBe(1)
  })

  it('keeps scopes apart even when ids collide', async () => {
    const store = memoryStore()
    const rule = { limit: 1, windowMs: 1_000 }
    expect(await hitLimit(store, 'connect.ip', '1.2.3.4', rule, 0)).toBeNull()
    expect(await hitLimit(store, 'connect.user', '1.2.3.4', rule, 0)).toBeNull()
  })
})

describe('connect limit per client address', () => {
  it('allows 20 connects per address per minute, then 429 with Retry-After', async () => {
    const { gateway, http, issue, clock, events } = setup({
      rateLimits: { connectPerUser: false, tokenPerUser: false },
    })
    for (let i = 0; i < 20; i++) {
      expect((await gateway.handle(http.connect({ token: await issue() }))).status).toBe(200)
    }
    clock.advance(15_000)
    const refused = await gateway.handle(http.connect({ token: await issue() }))
    expect(refused.status).toBe(429)
    expect(refused.headers['retry-after']).toBe('45')
    expect(events.filter((e) => e.type === 'rate.limited')).toEqual([
      expect.objectContaining({ scope: 'connect.ip', count: 21, limit: 20 }),
    ])
    clock.advance(45_000)
    expect((await gateway.handle(http.connect({ token: await issue() }))).status).toBe(200)
  })

  it('counts each IPv4 address separately and each IPv6 /56 as one client', async () => {
    const { gateway, http } = setup({
      rateLimits: { connectPerIp: { limit: 1, windowMs: 60_000 } },
    })
    const status = async (clientIp: string) =>
      (await gateway.handle(http.connect({ clientIp }))).status
    expect(await status('192.0.2.1')).toBe(401)
    expect(await status('192.0.2.2')).toBe(401)
    expect(await status('192.0.2.1')).toBe(429)
    expect(await status('2001:db8:0:1100::1')).toBe(401)
    expect(await status('2001:db8:0:11ff::2')).toBe(429)
    expect(await status('2001:db8:0:1200::1')).toBe(401)
  })

  it('can be disabled', async () => {
    const { gateway, http } = setup({ rateLimits: { connectPerIp: false } })
    for (let i = 0; i < 25; i++) expect((await gateway.handle(http.connect())).status).toBe(401)
  })
})

describe('connect limit per user', () => {
  it('limits one user across addresses', async () => {
    const { connect, events } = setup({
      rateLimits: { connectPerIp: false, connectPerUser: { limit: 2, windowMs: 60_000 } },
    })
    expect((await connect({ userId: 'u', clientIp: '192.0.2.1' })).response.status).toBe(200)
    expect((await connect({ userId: 'u', clientIp: '192.0.2.2' })).response.status).toBe(200)
    expect((await connect({ userId: 'u', clientIp: '192.0.2.3' })).response.status).toBe(429)
    expect((await connect({ userId: 'v', clientIp: '192.0.2.3' })).response.status).toBe(200)
    expect(rejectionCodes(events)).toEqual(['RATE_LIMITED'])
  })
})

describe('token issuance limit per user', () => {
  it('allows 20 tokens per user per minute, then 429 with Retry-After', async () => {
    const { gateway } = setup()
    const ask = (userId: string) =>
      gateway.issueToken({ method: 'POST', headers: { origin: ORIGIN }, userId })
    for (let i = 0; i < 20; i++) expect((await ask('u')).status).toBe(200)
    const refused = await ask('u')
    expect(refused.status).toBe(429)
    expect(refused.headers['retry-after']).toBe('60')
    expect((await ask('other')).status).toBe(200)
  })
})

describe('message limit per connection', () => {
  it('is off by default and, when set, limits each connection on its own', async () => {
    const { gateway, http, connect } = setup({
      rateLimits: { messagePerConnection: { limit: 2, windowMs: 1_000 } },
    })
    const a = (await connect()).connectionId
    const b = (await connect()).connectionId
    const send = async (connectionId: string) =>
      (await gateway.handle(http.message({ connectionId, body: { action: 'echo' } }))).status
    expect([await send(a), await send(a), await send(a), await send(b)]).toEqual([
      200, 200, 429, 200,
    ])

    const unlimited = setup()
    const c = (await unlimited.connect()).connectionId
    for (let i = 0; i < 50; i++) {
      const response = await unlimited.gateway.handle(
        unlimited.http.message({ connectionId: c, body: { action: 'echo' } }),
      )
      expect(response.status).toBe(200)
    }
  })
})
