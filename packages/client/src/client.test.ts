import { describe, expect, it } from 'vitest'
import { harness, settle } from '../test/fake-socket.js'
import { ClientError } from './errors.js'

describe('connecting', () => {
  it('connects with a fresh token in the URL and reports the states', async () => {
    const h = harness()
    expect(h.client.state).toBe('connecting')
    const socket = await h.openNext()
    expect(socket.url).toBe('wss://ws.example.com/prod?token=token-1')
    expect(h.client.state).toBe('open')
    expect(h.states).toEqual(['open'])
  })

  it('asks for a new token for every connection and never reuses one', async () => {
    const h = harness()
    await h.openNext()
    for (let i = 0; i < 3; i += 1) {
      h.last().drop(1006)
      await h.advance(60_000)
      await h.openNext()
    }
    const tokens = h.sockets.map((s) => s.token)
    expect(tokens).toEqual(['token-1', 'token-2', 'token-3', 'token-4'])
  })

  it('waits a full-jitter backoff between failed attempts, doubling up to the cap', async () => {
    const h = harness({ random: () => 0.999, backoff: { initialMs: 100, maxMs: 800 } })
    await settle()
    const waits: number[] = []
    for (let i = 0; i < 6; i += 1) {
      const count = h.sockets.length
      h.last().drop(1006)
      await settle()
      let waited = 0
      while (h.sockets.length === count) {
        await h.advance(1)
        waited += 1
      }
      waits.push(waited)
    }
    expect(waits).toEqual([100, 200, 400, 800, 800, 800].map((ms) => Math.floor(ms * 0.999)))
    expect(h.client.state).toBe('reconnecting')
  })

  it('comes back at once after 1001 (going away) on a long-lived connection', async () => {
    const h = harness({ random: () => 0.999 })
    await h.openNext()
    await h.advance(60_000)
    h.last().drop(1001)
    await settle()
    expect(h.sockets).toHaveLength(2)
    expect(h.errors).toEqual([])
  })

  it('reports other close codes and backs off', async () => {
    const h = harness({ random: () => 0.999 })
    await h.openNext()
    h.last().drop(1011)
    await settle()
    expect(h.errors.map((e) => [e.code, e.closeCode])).toEqual([['CONNECTION_LOST', 1011]])
    expect(h.sockets).toHaveLength(1)
    await h.advance(500)
    expect(h.sockets).toHaveLength(2)
  })

  it('stops for good when the token source says signed out', async () => {
    let calls = 0
    const h = harness({
      token: async () => {
        calls += 1
        if (calls > 1) throw new ClientError('SIGNED_OUT', 'signed out', { status: 401 })
        return 'token-1'
      },
    })
    await h.openNext()
    h.last().drop(1000)
    await h.advance(60_000)
    expect(h.client.state).toBe('closed')
    expect(h.errors.map((e) => e.code)).toEqual(['SIGNED_OUT'])
    await h.advance(600_000)
    expect(calls).toBe(2)
    expect(h.sockets).toHaveLength(1)
  })

  it('waits Retry-After when the token route answers 429', async () => {
    let calls = 0
    const h = harness({
      token: async () => {
        calls += 1
        if (calls === 1) throw new ClientError('TOKEN_FAILED', '429', { retryAfterMs: 7_000 })
        return 'token-ok'
      },
    })
    await settle()
    expect(h.sockets).toHaveLength(0)
    await h.advance(6_999)
    expect(h.sockets).toHaveLength(0)
    await h.advance(1)
    expect(h.last().token).toBe('token-ok')
  })

  it('retries at once when the page comes back online', async () => {
    const handlers = new Map<string, () => void>()
    const h = harness({
      random: () => 0.999,
      backoff: { initialMs: 60_000 },
      lifecycle: {
        addEventListener: (type, listener) => handlers.set(type, listener),
        removeEventListener: (type) => handlers.delete(type),
      },
    })
    await h.openNext()
    h.last().drop(1006)
    await settle()
    expect(h.sockets).toHaveLength(1)
    handlers.get('online')?.()
    await settle()
    expect(h.sockets).toHaveLength(2)
    h.client.close()
    expect(handlers.size).toBe(0)
  })
})

describe('requests', () => {
  it('correlates replies by id and resolves the data', async () => {
    const h = harness()
    const socket = await h.openNext()
    const a = h.client.request('echo', { text: 'a' })
    const b = h.client.request('echo', { text: 'b' })
    socket.answer((frame) => ({ ok: true, data: { echoed: frame.text } }))
    expect(await a).toEqual({ echoed: 'a' })
    expect(await b).toEqual({ echoed: 'b' })
    expect(socket.frames.map((f) => f.action)).toEqual(['echo', 'echo'])
  })

  it('rejects a refusal with a typed error carrying status and generic message', async () => {
    const h = harness()
    const socket = await h.openNext()
    const call = h.client.request('secret')
    socket.answer(() => ({
      ok: false,
      error: { status: 429, message: 'Too Many Requests', retryAfter: 3 },
    }))
    const error = (await call.catch((e: unknown) => e)) as ClientError
    expect(error).toBeInstanceOf(ClientError)
    expect([error.code, error.status, error.message, error.retryAfterMs]).toEqual([
      'REFUSED',
      429,
      'Too Many Requests',
      3_000,
    ])
  })

  it('times out, and fails pending calls when the connection drops', async () => {
    const h = harness({ requestTimeoutMs: 1_000 })
    const socket = await h.openNext()
    const slow = h.client.request('slow').catch((e: unknown) => e)
    await h.advance(1_000)
    expect(await slow).toMatchObject({ code: 'TIMEOUT' })
    const lost = h.client.request('slow')
    socket.drop(1006)
    await expect(lost).rejects.toMatchObject({ code: 'CONNECTION_LOST', closeCode: 1006 })
  })

  it('refuses oversized messages locally without sending anything', async () => {
    const h = harness({ maxMessageBytes: 1_000 })
    const socket = await h.openNext()
    const text = 'é'.repeat(490)
    await expect(h.client.request('chat', { text })).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
    })
    expect(() => h.client.send('chat', { text })).toThrow(ClientError)
    expect(socket.sent).toEqual([])
    h.client.send('chat', { text: 'é'.repeat(400) })
    expect(socket.sent).toHaveLength(1)
  })

  it("surfaces API Gateway's opaque error frame as an error event", async () => {
    const h = harness()
    const socket = await h.openNext()
    socket.push({ message: 'Internal server error', connectionId: 'x', requestId: 'y' })
    expect(h.errors.map((e) => e.code)).toEqual(['SERVER_ERROR'])
    expect(h.messages).toEqual([])
  })
})

describe('the send queue', () => {
  it('queues while reconnecting and flushes in order once re-joined', async () => {
    const h = harness()
    const first = await h.openNext()
    const join = h.client.join('room-1')
    first.answer()
    await join
    first.drop(1006)
    await settle()
    h.client.send('chat', { text: 'one' })
    const reply = h.client.request('chat', { text: 'two' })
    await h.advance(1_000)
    const second = h.last()
    second.open()
    await settle()
    expect(second.frames.map((f) => f.action)).toEqual(['join'])
    second.answer()
    await settle()
    expect(second.frames.map((f) => [f.action, f.text ?? f.channel])).toEqual([
      ['join', 'room-1'],
      ['chat', 'one'],
      ['chat', 'two'],
    ])
    second.answer(() => ({ ok: true, data: 2 }))
    expect(await reply).toBe(2)
  })

  it('refuses new messages when full (reject policy)', async () => {
    const h = harness({ queue: { max: 2 } })
    h.client.send('a')
    h.client.send('b')
    expect(() => h.client.send('c')).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }))
    await expect(h.client.request('d')).rejects.toMatchObject({ code: 'QUEUE_FULL' })
  })

  it('drops the oldest when full (drop-oldest policy)', async () => {
    const h = harness({ queue: { max: 2, overflow: 'drop-oldest' } })
    const oldest = h.client.request('a')
    h.client.send('b')
    h.client.send('c')
    await expect(oldest).rejects.toMatchObject({ code: 'QUEUE_FULL' })
    const socket = await h.openNext()
    expect(socket.frames.map((f) => f.action)).toEqual(['b', 'c'])
  })
})

describe('channels', () => {
  it('forgets a channel whose join is refused and reports re-join refusals', async () => {
    const h = harness()
    const socket = await h.openNext()
    const staff = h.client.join('staff')
    socket.answer(() => ({ ok: false, error: { status: 403, message: 'Forbidden' } }))
    await expect(staff).rejects.toMatchObject({ code: 'REFUSED', status: 403 })
    expect(h.client.channels).toEqual([])

    const lobby = h.client.join('lobby')
    socket.answer()
    await lobby
    socket.drop(1006)
    await h.advance(1_000)
    const next = h.last()
    next.open()
    await settle()
    next.answer(() => ({ ok: false, error: { status: 403, message: 'Forbidden' } }))
    await settle()
    expect(h.client.channels).toEqual([])
    expect(h.errors.at(-1)).toMatchObject({ code: 'REFUSED', status: 403 })
    expect(h.client.state).toBe('open')
  })

  it('leaves a channel and stops re-joining it', async () => {
    const h = harness()
    const socket = await h.openNext()
    const join = h.client.join('lobby')
    socket.answer()
    await join
    const leave = h.client.leave('lobby')
    socket.answer()
    await leave
    expect(socket.frames.at(-1)).toMatchObject({ action: 'leave', channel: 'lobby' })
    expect(h.client.channels).toEqual([])
  })
})

describe('keep-alive', () => {
  it('sends a heartbeat only after a quiet period', async () => {
    const h = harness({ heartbeatMs: 60_000 })
    const socket = await h.openNext()
    await h.advance(40_000)
    h.client.send('chat', { text: 'hi' })
    await h.advance(40_000)
    expect(socket.frames.map((f) => f.action)).toEqual(['chat'])
    await h.advance(20_000)
    expect(socket.frames.map((f) => f.action)).toEqual(['chat', '$heartbeat'])
    socket.answer()
    await h.advance(60_000)
    expect(socket.frames.filter((f) => f.action === '$heartbeat')).toHaveLength(2)
  })

  it('replaces a connection whose heartbeat goes unanswered', async () => {
    const h = harness({ heartbeatMs: 60_000, requestTimeoutMs: 5_000 })
    const socket = await h.openNext()
    await h.advance(60_000)
    await h.advance(5_000)
    expect(socket.closedWith).toBe(4000)
    expect(h.client.state).toBe('reconnecting')
    await h.advance(1_000)
    expect(h.sockets).toHaveLength(2)
  })
})

describe('rollover', () => {
  it('opens and re-joins a new connection before closing the old one, losing and repeating nothing', async () => {
    const h = harness({ rolloverMs: 3_600_000, heartbeatMs: false })
    const old = await h.openNext()
    const join = h.client.join('room-1')
    old.answer()
    await join
    await h.advance(3_599_000)
    const inFlight = h.client.request('slow')
    await h.advance(1_000)
    expect(h.sockets).toHaveLength(2)
    const fresh = h.last()
    expect(fresh.token).toBe('token-2')
    fresh.open()
    await settle()
    // Both sockets are in the channel now: the same push arrives twice, once per socket.
    old.push({ $mid: 'm1', data: 'before' })
    fresh.push({ $mid: 'm1', data: 'before' })
    expect(old.closedWith).toBeNull()
    fresh.answer()
    await settle()
    expect(h.client.state).toBe('open')
    expect(h.states).toEqual(['open'])
    // The old socket stays until its last reply arrives; new calls use the new socket.
    expect(old.closedWith).toBeNull()
    const after = h.client.request('fast')
    expect(fresh.frames.at(-1)).toMatchObject({ action: 'fast' })
    old.push({ $mid: 'm2', data: 'overlap' })
    fresh.push({ $mid: 'm2', data: 'overlap' })
    old.answer(() => ({ ok: true, data: 'slow-done' }))
    expect(await inFlight).toBe('slow-done')
    expect(old.closedWith).toBe(1000)
    fresh.push({ $mid: 'm3', data: 'after' })
    fresh.answer(() => ({ ok: true, data: 'fast-done' }))
    expect(await after).toBe('fast-done')
    expect(h.messages).toEqual(['before', 'overlap', 'after'])
    expect(h.errors).toEqual([])
  })

  it('keeps the old connection while the new one keeps failing', async () => {
    let calls = 0
    const h = harness({
      rolloverMs: 1_000,
      heartbeatMs: false,
      token: async () => {
        calls += 1
        if (calls === 2) throw new ClientError('TOKEN_FAILED', 'down')
        return `token-${calls}`
      },
    })
    const old = await h.openNext()
    await h.advance(1_000)
    expect(h.client.state).toBe('open')
    expect(h.errors.map((e) => e.code)).toEqual(['TOKEN_FAILED'])
    await h.advance(1_000)
    const fresh = await h.openNext()
    expect(fresh.token).toBe('token-3')
    expect(old.closedWith).toBe(1000)
  })
})

describe('close', () => {
  it('fails everything pending, closes every socket and stays closed', async () => {
    const h = harness()
    const socket = await h.openNext()
    const call = h.client.request('slow')
    h.client.close()
    await expect(call).rejects.toMatchObject({ code: 'CLOSED' })
    expect(socket.closedWith).toBe(1000)
    expect(h.client.state).toBe('closed')
    await expect(h.client.request('x')).rejects.toMatchObject({ code: 'CLOSED' })
    expect(() => h.client.send('x')).toThrow(ClientError)
    await h.advance(10_000_000)
    expect(h.sockets).toHaveLength(1)
    expect(h.clock.pending()).toBe(0)
  })

  it('is what `using` calls', async () => {
    const h = harness()
    const socket = await h.openNext()
    {
      using scoped = h.client
      expect(scoped.state).toBe('open')
    }
    expect(socket.closedWith).toBe(1000)
    expect(h.client.state).toBe('closed')
  })
})
