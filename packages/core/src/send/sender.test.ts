import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { fakeStore } from '../../test/fake-store.js'
import type { GatewayEvent } from '../events.js'
import { capturingConnections, type ScriptedOutcome } from '../testing/capturing-connections.js'
import { fakeClock } from '../testing/fake-clock.js'
import { PayloadTooLargeError } from './payload.js'
import { createSender, type SenderOptions } from './sender.js'
import type { ConnectionsTransport } from './transport.js'

function setup(overrides: Partial<SenderOptions> = {}) {
  const store = fakeStore()
  const transport = capturingConnections()
  const clock = fakeClock()
  const events: GatewayEvent[] = []
  const send = createSender({
    store,
    connections: transport,
    clock,
    onEvent: (e) => events.push(e),
    ...overrides,
  })
  const ofType = <T extends GatewayEvent['type']>(type: T) =>
    events.filter((e): e is Extract<GatewayEvent, { type: T }> => e.type === type)
  return { store, transport, clock, events, ofType, send }
}

const ids = (n: number, prefix = 'c') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`)

/** Wraps a transport so each call yields a few times and in-flight calls are counted. */
function counting(inner: ConnectionsTransport) {
  const stats = { inFlight: 0, max: 0 }
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      stats.inFlight++
      stats.max = Math.max(stats.max, stats.inFlight)
      for (let i = 0; i < 3; i++) await Promise.resolve()
      try {
        return await fn(...args)
      } finally {
        stats.inFlight--
      }
    }
  const transport: ConnectionsTransport = {
    post: wrap(inner.post),
    delete: wrap(inner.delete),
    get: wrap(inner.get),
  }
  return { transport, stats }
}

describe('createSender options', () => {
  const base = () => ({
    store: fakeStore(),
    connections: capturingConnections(),
    clock: fakeClock(),
  })

  it.each([
    ['store', { store: {} }],
    ['connections', { connections: { post: () => {} } }],
    ['clock', { clock: {} }],
    ['onEvent', { onEvent: 'log' }],
    ['concurrency', { concurrency: 0 }],
    ['concurrency', { concurrency: 1.5 }],
    ['concurrency', { concurrency: 1_001 }],
    ['pageSize', { pageSize: 0 }],
    ['pageSize', { pageSize: '500' }],
  ])('rejects an invalid %s with a TypeError naming it', (name, bad) => {
    expect(() => createSender({ ...base(), ...(bad as object) } as SenderOptions)).toThrow(
      new RegExp(`options\\.${name}`),
    )
    expect(() => createSender({ ...base(), ...(bad as object) } as SenderOptions)).toThrow(
      TypeError,
    )
  })
})

describe('toConnection', () => {
  it('posts the payload to the connection at its stored API, stage and domain', async () => {
    const { store, transport, send, ofType } = setup()
    store.seed(['a'], { apiId: 'abc123', stage: 'prod', domainName: 'ws.example.com' })
    const report = await send.toConnection('a', { type: 'hello' })
    expect(report).toEqual({ attempted: 1, delivered: 1, gone: [], failed: [], aborted: false })
    expect(transport.calls).toHaveLength(1)
    expect(transport.calls[0]).toMatchObject({
      operation: 'post',
      target: { connectionId: 'a', apiId: 'abc123', stage: 'prod', domainName: 'ws.example.com' },
      text: '{"type":"hello"}',
    })
    expect(ofType('send.completed')).toEqual([
      expect.objectContaining({ target: 'connection', attempted: 1, delivered: 1, retries: 0 }),
    ])
  })

  it('reports NOT_CONNECTED without a request for unknown and disconnected connections', async () => {
    const { store, transport, send, clock } = setup()
    store.seed(['gone'])
    await store.connections.disconnect('gone', clock.now())
    for (const id of ['gone', 'never']) {
      expect(await send.toConnection(id, 'x')).toEqual({
        attempted: 1,
        delivered: 0,
        gone: [],
        failed: [{ connectionId: id, code: 'NOT_CONNECTED', retryable: false }],
        aborted: false,
      })
    }
    expect(transport.calls).toEqual([])
  })
})

describe('fan-out targets', () => {
  it('toUser reaches every connected connection of the user and no one else', async () => {
    const { store, transport, send, clock } = setup()
    store.seed(['u1', 'u2', 'u3'], { userId: 'alice' })
    store.seed(['o1'], { userId: 'bob' })
    await store.connections.disconnect('u3', clock.now())
    const report = await send.toUser('alice', 'hi')
    expect(report).toMatchObject({ attempted: 2, delivered: 2 })
    expect(transport.calls.map((c) => c.connectionId).sort()).toEqual(['u1', 'u2'])
  })

  it('toChannel skips the excepted connections without counting them', async () => {
    const { store, transport, send } = setup()
    store.seed(['a', 'b', 'c', 'd'], { channels: ['room'] })
    store.seed(['x'], { channels: ['other'] })
    expect(await send.toChannel('room', 'hi', { except: 'a' })).toMatchObject({
      attempted: 3,
      delivered: 3,
    })
    transport.reset()
    expect(await send.toChannel('room', 'hi', { except: ['a', 'c'] })).toMatchObject({
      attempted: 2,
    })
    expect(transport.calls.map((c) => c.connectionId).sort()).toEqual(['b', 'd'])
  })

  it('broadcast streams every connection once, page by page, within the concurrency bound', async () => {
    const { store, transport: capture } = setup()
    const { transport, stats } = counting(capture)
    const { send } = setup({ store, connections: transport, concurrency: 6, pageSize: 100 })
    const all = ids(1_234)
    store.seed(all)
    const report = await send.broadcast('news')
    expect(report).toMatchObject({ attempted: 1_234, delivered: 1_234, aborted: false })
    expect(capture.calls.map((c) => c.connectionId).sort()).toEqual(all)
    expect(store.listCalls).toHaveLength(13)
    expect(store.listCalls.every((c) => c.limit === 100 && 'all' in c.filter)).toBe(true)
    expect(stats.max).toBe(6)
  })

  it('never holds more than two pages of recipients ahead of the sends', async () => {
    const { store, transport: capture } = setup()
    const { transport } = counting(capture)
    const { send } = setup({ store, connections: transport, concurrency: 4, pageSize: 50 })
    store.seed(ids(2_000))
    let maxAhead = 0
    store.onList = (call) => {
      const listed = (store.listCalls.length - 1) * call.limit
      maxAhead = Math.max(maxAhead, listed - capture.calls.length)
    }
    expect((await send.broadcast('x')).delivered).toBe(2_000)
    expect(maxAhead).toBeLessThanOrEqual(2 * 50)
  })

  it('serializes an object once and sends identical bytes to everyone', async () => {
    const { store, transport, send } = setup()
    store.seed(ids(20))
    let serializations = 0
    const data = {
      toJSON() {
        serializations++
        return { n: 1 }
      },
    }
    await send.broadcast(data)
    expect(serializations).toBe(1)
    expect(new Set(transport.calls.map((c) => c.text))).toEqual(new Set(['{"n":1}']))
  })
})

describe('failures and gone connections', () => {
  it('reports each failure with its code, prunes gone ones once, and never rejects', async () => {
    const { store, transport, send, ofType, clock } = setup()
    store.seed(ids(10))
    transport.script('c00001', 'gone')
    transport.script('c00002', 'forbidden')
    transport.script('c00003', 'throttled')
    transport.script('c00004', 'too-large')
    const report = await send.broadcast('secret body text')
    expect(report.attempted).toBe(10)
    expect(report.delivered).toBe(6)
    expect(report.gone).toEqual(['c00001'])
    expect(report.failed).toEqual(
      expect.arrayContaining([
        { connectionId: 'c00002', code: 'ForbiddenException', retryable: false },
        { connectionId: 'c00003', code: 'LimitExceededException', retryable: true },
        { connectionId: 'c00004', code: 'PayloadTooLargeException', retryable: false },
      ]),
    )
    expect(report.failed).toHaveLength(3)
    expect(store.transitions).toEqual([{ connectionId: 'c00001', now: clock.now() }])
    expect(ofType('connection.disconnected')).toEqual([
      { type: 'connection.disconnected', at: clock.now(), connectionId: 'c00001', reason: 'gone' },
    ])
    const [completed] = ofType('send.completed')
    expect(completed).toMatchObject({
      target: 'broadcast',
      attempted: 10,
      delivered: 6,
      gone: 1,
      failed: 3,
      failures: { ForbiddenException: 1, LimitExceededException: 1, PayloadTooLargeException: 1 },
    })
    expect(JSON.stringify(ofType('send.completed'))).not.toContain('secret body')

    transport.reset()
    expect((await send.broadcast('again')).attempted).toBe(9)
    expect(transport.calls.map((c) => c.connectionId)).not.toContain('c00001')
  })

  it('marks a gone connection disconnected exactly once across concurrent sends', async () => {
    const { store, transport, send, ofType } = setup()
    store.seed(['a', 'b'], { channels: ['room'], userId: 'u' })
    transport.script('a', 'gone')
    const reports = await Promise.all([
      send.broadcast('1'),
      send.toChannel('room', '2'),
      send.toUser('u', '3'),
    ])
    expect(reports.every((r) => r.gone.includes('a'))).toBe(true)
    expect(store.transitions).toEqual([{ connectionId: 'a', now: expect.any(Number) }])
    expect(ofType('connection.disconnected')).toHaveLength(1)
  })

  it('leaves the transition to a $disconnect that lands while the send is in flight', async () => {
    const { store, transport: capture, clock } = setup()
    const { send, ofType } = setup({
      store,
      clock,
      connections: {
        ...capture,
        post: async (target, data, signal) => {
          // API Gateway delivers $disconnect to the backend while the post is failing.
          await store.connections.disconnect(target.connectionId, clock.now())
          return capture.post(target, data, signal)
        },
      },
    })
    store.seed(['a'])
    capture.script('a', 'gone')
    expect((await send.toConnection('a', 'x')).gone).toEqual(['a'])
    expect(store.transitions).toHaveLength(1)
    expect(ofType('connection.disconnected')).toEqual([])
  })

  it('counts the transport retries reported through attempts', async () => {
    const { store, send, ofType } = setup({
      connections: {
        post: async (target) =>
          target.connectionId === 'b' ? { ok: true, attempts: 3 } : { ok: true, attempts: 1 },
        delete: async () => ({ ok: true }),
        get: async () => ({ ok: false, code: 'X', gone: false, retryable: false }),
      },
    })
    store.seed(['a', 'b', 'c'])
    await send.broadcast('x')
    expect(ofType('send.completed')[0]?.retries).toBe(2)
  })

  it('treats a throwing transport as a retryable failure of that recipient only', async () => {
    const { store, send, ofType } = setup({
      connections: {
        post: async (target) => {
          if (target.connectionId === 'b') throw new TypeError('bug')
          return { ok: true }
        },
        delete: async () => ({ ok: true }),
        get: async () => ({ ok: false, code: 'X', gone: false, retryable: false }),
      },
    })
    store.seed(['a', 'b', 'c'])
    const report = await send.broadcast('x')
    expect(report).toMatchObject({
      attempted: 3,
      delivered: 2,
      failed: [{ connectionId: 'b', code: 'TRANSPORT_ERROR', retryable: true }],
    })
    expect(ofType('internal.error')).toEqual([
      expect.objectContaining({ source: 'transport', errorName: 'TypeError' }),
    ])
  })

  it('still reports a gone connection when the store fails to mark it', async () => {
    const { store, transport, send, ofType } = setup()
    store.seed(['a'])
    transport.script('a', 'gone')
    store.connections.disconnect = () => Promise.reject(new Error('db down'))
    expect((await send.toConnection('a', 'x')).gone).toEqual(['a'])
    expect(ofType('internal.error')).toEqual([expect.objectContaining({ source: 'store' })])
  })

  it('rejects with the store error when listing fails', async () => {
    const { store, send } = setup()
    store.seed(ids(5))
    const failure = new Error('db down')
    store.onList = () => {
      throw failure
    }
    await expect(send.broadcast('x')).rejects.toBe(failure)
  })

  it('keeps delivering when onEvent throws', async () => {
    const { store, transport } = setup()
    const send = createSender({
      store,
      connections: transport,
      clock: fakeClock(),
      onEvent: () => {
        throw new Error('logger down')
      },
    })
    store.seed(['a'])
    transport.script('a', 'gone')
    expect((await send.toConnection('a', 'x')).gone).toEqual(['a'])
  })

  test.prop([
    fc.array(fc.constantFrom<ScriptedOutcome>('delivered', 'gone', 'forbidden', 'throttled'), {
      maxLength: 120,
    }),
    fc.integer({ min: 1, max: 9 }),
    fc.integer({ min: 1, max: 25 }),
  ])('accounts for every recipient exactly once', async (outcomes, concurrency, pageSize) => {
    const { store, transport, send } = setup({ concurrency, pageSize })
    const all = ids(outcomes.length)
    store.seed(all)
    for (const [i, outcome] of outcomes.entries()) transport.script(all[i] as string, outcome)
    const report = await send.broadcast('x')
    expect(report.attempted).toBe(outcomes.length)
    expect(report.delivered + report.gone.length + report.failed.length).toBe(report.attempted)
    const touched = [...report.gone, ...report.failed.map((f) => f.connectionId)]
    expect(new Set(touched).size).toBe(touched.length)
    expect([...report.gone].sort()).toEqual(all.filter((_, i) => outcomes[i] === 'gone'))
    expect(store.transitions.map((t) => t.connectionId).sort()).toEqual([...report.gone].sort())
  })
})

describe('payload limit', () => {
  it('rejects an oversized payload before listing any recipient, for every kind of send', async () => {
    const { store, transport, send, events } = setup()
    store.seed(['a'], { userId: 'u', channels: ['room'] })
    const big = '€'.repeat(43_691)
    await expect(send.toConnection('a', big)).rejects.toBeInstanceOf(PayloadTooLargeError)
    await expect(send.toUser('u', big)).rejects.toBeInstanceOf(PayloadTooLargeError)
    await expect(send.toChannel('room', big)).rejects.toBeInstanceOf(PayloadTooLargeError)
    await expect(send.broadcast({ text: 'a'.repeat(131_062) })).rejects.toMatchObject({
      bytes: 131_073,
    })
    expect(store.listCalls).toEqual([])
    expect(transport.calls).toEqual([])
    expect(events).toEqual([])
    expect((await send.broadcast(`${'€'.repeat(43_690)}ab`)).delivered).toBe(1)
  })
})

describe('abort and deadline', () => {
  it('reports listed recipients as ABORTED once the signal fires, and stops paging', async () => {
    const { store, transport: capture } = setup()
    const controller = new AbortController()
    const { send } = setup({
      store,
      pageSize: 10,
      concurrency: 2,
      connections: {
        ...capture,
        post: async (target, data, signal) => {
          const result = await capture.post(target, data, signal)
          if (capture.calls.length >= 6) controller.abort()
          return result
        },
      },
    })
    store.seed(ids(100))
    const report = await send.broadcast('x', { signal: controller.signal })
    expect(report.aborted).toBe(true)
    expect(report.delivered).toBe(6)
    expect(capture.calls).toHaveLength(6)
    expect(report.failed.length).toBe(4)
    expect(report.failed.every((f) => f.code === 'ABORTED' && f.retryable)).toBe(true)
    expect(report.attempted).toBe(10)
    expect(store.listCalls.length).toBeLessThanOrEqual(2)
  })

  it('does nothing when the signal is already aborted', async () => {
    const { store, transport, send, ofType } = setup()
    store.seed(ids(3))
    const signal = AbortSignal.abort()
    expect(await send.broadcast('x', { signal })).toEqual({
      attempted: 0,
      delivered: 0,
      gone: [],
      failed: [],
      aborted: true,
    })
    expect(await send.toConnection('c00000', 'x', { signal })).toMatchObject({
      attempted: 1,
      failed: [{ connectionId: 'c00000', code: 'ABORTED', retryable: true }],
    })
    expect(transport.calls).toEqual([])
    expect(store.listCalls).toEqual([])
    expect(ofType('send.completed').every((e) => e.aborted)).toBe(true)
  })

  it('starts no request after the deadline (read from the sender clock)', async () => {
    const { store, transport: capture, clock } = setup()
    const { send } = setup({
      store,
      clock,
      pageSize: 4,
      concurrency: 1,
      connections: {
        ...capture,
        post: async (target, data, signal) => {
          clock.advance(10)
          return capture.post(target, data, signal)
        },
      },
    })
    store.seed(ids(12))
    const report = await send.broadcast('x', { deadline: clock.now() + 30 })
    expect(report.delivered).toBe(3)
    expect(report.failed).toEqual([{ connectionId: 'c00003', code: 'ABORTED', retryable: true }])
    expect(report.attempted).toBe(4)
    expect(report.aborted).toBe(true)
  })

  it('validates the per-call options', async () => {
    const { send } = setup()
    await expect(send.broadcast('x', { deadline: Number.NaN })).rejects.toThrow(TypeError)
    await expect(send.broadcast('x', { signal: {} as AbortSignal })).rejects.toThrow(/signal/)
    await expect(
      send.toChannel('room', 'x', { except: [1] as unknown as string[] }),
    ).rejects.toThrow(/except/)
    await expect(send.toUser('', 'x')).rejects.toThrow(/userId/)
  })
})

describe('disconnect', () => {
  it('closes the connection and marks it disconnected', async () => {
    const { store, transport, send, ofType, clock } = setup()
    store.seed(['a', 'b'])
    expect(await send.disconnect('a')).toMatchObject({ attempted: 1, delivered: 1 })
    expect(transport.calls).toMatchObject([{ operation: 'delete', connectionId: 'a' }])
    expect((await store.connections.get('a'))?.disconnectedAt).toBe(clock.now())
    expect(ofType('connection.disconnected')).toMatchObject([{ connectionId: 'a', reason: 'api' }])
    expect(await send.disconnect('a')).toMatchObject({
      failed: [{ code: 'NOT_CONNECTED', retryable: false }],
    })
  })

  it('treats an already-gone connection as gone, and leaves others on failure', async () => {
    const { store, transport, send, ofType } = setup()
    store.seed(['a', 'b'])
    transport.script('a', 'gone')
    transport.script('b', 'forbidden')
    expect((await send.disconnect('a')).gone).toEqual(['a'])
    expect((await send.disconnect('b')).failed).toEqual([
      { connectionId: 'b', code: 'ForbiddenException', retryable: false },
    ])
    expect((await store.connections.get('b'))?.disconnectedAt).toBeNull()
    expect(ofType('connection.disconnected')).toMatchObject([{ connectionId: 'a', reason: 'gone' }])
  })

  it('disconnectUser closes every connection of the user', async () => {
    const { store, transport, send, ofType } = setup()
    store.seed(['a', 'b', 'c'], { userId: 'alice' })
    store.seed(['d'], { userId: 'bob' })
    expect(await send.disconnectUser('alice')).toMatchObject({ attempted: 3, delivered: 3 })
    expect(transport.calls.map((c) => `${c.operation}:${c.connectionId}`).sort()).toEqual([
      'delete:a',
      'delete:b',
      'delete:c',
    ])
    expect(store.transitions.map((t) => t.connectionId).sort()).toEqual(['a', 'b', 'c'])
    expect(ofType('send.completed')).toMatchObject([{ target: 'disconnectUser', delivered: 3 }])
  })
})

describe('getConnection and verifyConnections', () => {
  it('getConnection returns what API Gateway reports and prunes a gone connection', async () => {
    const { store, send, ofType } = setup({
      connections: capturingConnections({ info: { sourceIp: '203.0.113.9', connectedAt: 5 } }),
    })
    store.seed(['a'])
    expect(await send.getConnection('a')).toEqual({
      ok: true,
      connectedAt: 5,
      lastActiveAt: null,
      sourceIp: '203.0.113.9',
      userAgent: null,
    })
    expect(await send.getConnection('nope')).toMatchObject({ ok: false, code: 'NOT_CONNECTED' })
    expect(ofType('connection.disconnected')).toEqual([])
  })

  it('getConnection marks a gone connection disconnected', async () => {
    const { store, transport, send, ofType } = setup()
    store.seed(['a'])
    transport.script('a', 'gone')
    expect(await send.getConnection('a')).toMatchObject({ ok: false, gone: true })
    expect(ofType('connection.disconnected')).toMatchObject([{ connectionId: 'a', reason: 'gone' }])
  })

  it('verifyConnections checks only connections idle past the threshold and prunes the gone', async () => {
    const { store, transport, send, clock } = setup()
    const now = clock.now()
    store.seed(['old1', 'old2', 'old3'], { connectedAt: now - 60_000 })
    store.seed(['edge'], { connectedAt: now - 30_000 })
    store.seed(['fresh'], { connectedAt: now - 1_000 })
    transport.script('old2', 'gone')
    transport.script('old3', 'throttled')
    const report = await send.verifyConnections({ idleMs: 30_000 })
    expect(transport.calls.map((c) => `${c.operation}:${c.connectionId}`).sort()).toEqual([
      'get:old1',
      'get:old2',
      'get:old3',
    ])
    expect(report).toEqual({
      attempted: 3,
      delivered: 1,
      gone: ['old2'],
      failed: [{ connectionId: 'old3', code: 'LimitExceededException', retryable: true }],
      aborted: false,
    })
    expect((await store.connections.get('old2'))?.disconnectedAt).toBe(now)
    expect((await send.verifyConnections({ idleMs: 0, now: now + 1 })).attempted).toBe(4)
    await expect(send.verifyConnections({ idleMs: -1 })).rejects.toThrow(TypeError)
  })
})

describe('stored values never shape a URL', () => {
  const tampered: [string, string, Record<string, string>][] = [
    ['a stored `..` connection id', '..', {}],
    ['a connection id with a slash', 'a/../b', {}],
    ['a stage with a path', 'ok1', { stage: '../internal-admin' }],
    ['an API id with a host', 'ok2', { apiId: 'evil.example.com/' }],
    ['a domain name with a path', 'ok3', { domainName: '127.0.0.1:9/internal-admin' }],
    ['a domain name with userinfo', 'ok4', { domainName: 'user@ws.example.com' }],
  ]

  it.each(tampered)(
    '%s is refused as TARGET_INVALID without a transport call',
    async (_l, id, fields) => {
      const { store, transport, send, ofType } = setup()
      store.seed([id], { apiId: 'abc123', stage: 'prod', ...fields })
      for (const report of [
        await send.toConnection(id, { hi: 1 }),
        await send.broadcast({ hi: 1 }),
        await send.disconnect(id),
      ]) {
        expect(report.failed).toEqual([
          { connectionId: id, code: 'TARGET_INVALID', retryable: false },
        ])
      }
      expect(await send.getConnection(id)).toMatchObject({ ok: false, code: 'TARGET_INVALID' })
      expect(transport.calls).toEqual([])
      expect(ofType('send.completed')[0]?.failures).toEqual({ TARGET_INVALID: 1 })
      // The record is left alone: refusing to call is not evidence that the socket is gone.
      expect((await store.connections.get(id))?.disconnectedAt).toBeNull()
    },
  )

  it('still delivers to the valid recipients of the same fan-out', async () => {
    const { store, transport, send } = setup()
    store.seed(['good'], { apiId: 'abc123', stage: 'prod', domainName: 'ws.example.com:443' })
    store.seed(['..'], { apiId: 'abc123', stage: 'prod' })
    const report = await send.broadcast('x')
    expect(report.delivered).toBe(1)
    expect(report.failed).toEqual([
      { connectionId: '..', code: 'TARGET_INVALID', retryable: false },
    ])
    expect(transport.calls.map((c) => c.connectionId)).toEqual(['good'])
  })
})
