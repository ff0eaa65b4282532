/**
 * End to end in HTTP mode: real `ws` clients → the local API Gateway → each adapter's backend
 * (Hono, Express, bare Fetch) → the core over the Kysely store on SQLite, and back through the
 * `@connections` API with the real AWS SDK. One test body, parametrized by backend, so every
 * adapter is held to the same behaviour: token connect, token reuse and wrong Origin refused in
 * the handshake, routing and two-way replies, channel fan-out to members only, `toUser` to every
 * tab, DeleteConnection, idle timeout and the message size limit, each followed by `$disconnect`
 * reaching the store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type BackendKind, startBackend } from './support/backends.js'
import { APP_ORIGIN } from './support/e2e-app.js'
import { type HttpStack, IDLE_TIMEOUT_MS, startHttpStack } from './support/http-stack.js'
import { handshakeStatus, type TestSocket } from './support/ws-client.js'

const BACKENDS: readonly BackendKind[] = ['hono', 'express', 'fetch']

/** Sends a marker and returns every frame up to and including its echo: nothing else may precede it. */
async function framesUntilMarker(socket: TestSocket, marker: string): Promise<string[]> {
  const before = socket.frames.length
  socket.send({ action: 'echo', text: marker })
  for (let read = 0; read < 100; read++) {
    const frame = await socket.next()
    if (frame.includes(marker)) return socket.frames.slice(before)
  }
  throw new Error(`the ${marker} echo did not come within 100 frames`)
}

describe.each(BACKENDS)('through the local gateway to the %s backend', (kind) => {
  let stack: HttpStack

  beforeEach(async () => {
    stack = await startHttpStack((gateway) => startBackend(kind, gateway))
  })

  afterEach(async () => {
    await stack.close()
  })

  it('connects with a token from the token route and stores the connection', async () => {
    const { connectionId } = await stack.connect('ann')
    const record = await stack.store.connections.get(connectionId)
    expect(record).toMatchObject({ connectionId, userId: 'ann', disconnectedAt: null })
    expect(stack.backend.calls).toContainEqual({ route: 'connect', connectionId, status: 200 })
  })

  it('refuses a reused token: the second handshake fails with 401', async () => {
    const token = await stack.backend.token('ann')
    const url = `${stack.url}?token=${encodeURIComponent(token)}`
    expect(await handshakeStatus(url, { origin: APP_ORIGIN })).toBe(101)
    expect(await handshakeStatus(url, { origin: APP_ORIGIN })).toBe(401)
    const refusals = stack.events.filter((e) => e.type === 'request.rejected')
    expect(refusals).toEqual([
      expect.objectContaining({ route: '$connect', code: 'TOKEN_INVALID' }),
    ])
  })

  it('refuses a wrong Origin: the handshake fails with 403', async () => {
    const token = await stack.backend.token('ann')
    const url = `${stack.url}?token=${encodeURIComponent(token)}`
    expect(await handshakeStatus(url, { origin: 'https://evil.example' })).toBe(403)
    expect(await handshakeStatus(url, {})).toBe(403)
    const codes = stack.events.flatMap((e) => (e.type === 'request.rejected' ? [e.code] : []))
    expect(codes).toEqual(['ORIGIN_REJECTED', 'ORIGIN_REJECTED'])
    const connected = await stack.store.connections.list({ all: true }, { cursor: null, limit: 10 })
    expect(connected.items).toEqual([])
  })

  it('routes messages to handlers and returns two-way replies', async () => {
    const { socket, connectionId } = await stack.connect('ann')
    socket.send({ action: 'echo', text: 'hello', seq: 7 })
    expect(await socket.nextJson()).toEqual({ type: 'echo', text: 'hello', seq: 7 })
    await stack.backend.waitForCall((c) => c.route === 'echo' && c.status === 200)

    // An unknown handler is refused by core (400) and API Gateway tells the client so.
    socket.send({ action: 'nope' })
    expect(await socket.nextJson()).toMatchObject({
      message: 'Internal server error',
      connectionId,
    })
    expect(stack.backend.calls).toContainEqual({ route: 'nope', connectionId, status: 400 })

    // A message without a route key goes to $default, which has no handler here: also refused.
    socket.send({ text: 'no action' })
    expect(await socket.nextJson()).toMatchObject({ message: 'Internal server error' })
    expect(stack.backend.calls).toContainEqual({ route: 'default', connectionId, status: 400 })

    const record = await stack.store.connections.get(connectionId)
    // Every message that reached core for this known connection is counted (whoami, echo and the
    // two refused ones): the count is taken by the known-connection check, before handler lookup.
    expect(record?.requestCount).toBe(4)
  })

  it('fans a channel message out to its members only', async () => {
    const ann = await stack.connect('ann')
    const bob = await stack.connect('bob')
    const eve = await stack.connect('eve')
    for (const member of [ann, bob]) {
      member.socket.send({ action: 'join', room: 'lobby' })
      expect(await member.socket.nextJson()).toEqual({ type: 'joined', room: 'lobby' })
    }
    eve.socket.send({ action: 'join', room: 'staff' })
    expect(await eve.socket.nextJson()).toMatchObject({ message: 'Internal server error' })

    ann.socket.send({ action: 'say', room: 'lobby', text: 'hi all' })
    const said = { type: 'said', room: 'lobby', from: 'ann', text: 'hi all' }
    expect(await ann.socket.nextJson()).toEqual(said)
    expect(await bob.socket.nextJson()).toEqual(said)
    // Frames on one socket arrive in order: had eve been sent the message, it would come first.
    const eveFrames = await framesUntilMarker(eve.socket, 'eve-marker')
    expect(eveFrames).toEqual([JSON.stringify({ type: 'echo', text: 'eve-marker' })])
  })

  it('delivers toUser to every tab of the user and to nobody else', async () => {
    const tab1 = await stack.connect('ann')
    const tab2 = await stack.connect('ann')
    const bob = await stack.connect('bob')
    const report = await stack.gateway.send.toUser('ann', { type: 'notify', text: 'ping' })
    expect(report).toMatchObject({ attempted: 2, delivered: 2, gone: [], failed: [] })
    expect(await tab1.socket.nextJson()).toEqual({ type: 'notify', text: 'ping' })
    expect(await tab2.socket.nextJson()).toEqual({ type: 'notify', text: 'ping' })
    expect(await framesUntilMarker(bob.socket, 'bob-marker')).toHaveLength(1)
  })

  it('closes a connection with DeleteConnection, and $disconnect reaches the store', async () => {
    const { socket, connectionId } = await stack.connect('ann')
    const report = await stack.gateway.send.disconnect(connectionId)
    expect(report).toMatchObject({ attempted: 1, delivered: 1, failed: [] })
    expect((await socket.closed()).code).toBe(1000)
    const served = await stack.backend.waitForCall(
      (c) => c.route === 'disconnect' && c.connectionId === connectionId,
    )
    expect(served.status).toBe(200)
    const record = await stack.store.connections.get(connectionId)
    expect(record?.disconnectedAt).not.toBeNull()
    // The connection is gone for good: a send now finds nobody.
    const after = await stack.gateway.send.toConnection(connectionId, { type: 'late' })
    expect(after.delivered).toBe(0)
  })

  it('closes an idle connection with 1001, then $disconnect marks it disconnected', async () => {
    // No whoami here: once the handshake is done no integration call is in flight, so moving the
    // clock can only fire the idle timer.
    const socket = await stack.open('ann')
    const connectionId = stack.backend.calls.find((c) => c.route === 'connect')?.connectionId
    if (connectionId == null) throw new Error('no $connect was served')
    stack.clock.advance(IDLE_TIMEOUT_MS - 1)
    // A client message resets the idle timer (its two-way reply arrives once the call is done).
    socket.send({ action: 'echo', text: 'still here' })
    expect(await socket.nextJson()).toMatchObject({ text: 'still here' })
    stack.clock.advance(IDLE_TIMEOUT_MS - 1)
    expect(socket.frames).toHaveLength(1)
    expect(socket.socket.readyState).toBe(socket.socket.OPEN)
    stack.clock.advance(1)
    expect(await socket.closed()).toMatchObject({ code: 1001 })
    await stack.backend.waitForCall(
      (c) => c.route === 'disconnect' && c.connectionId === connectionId,
    )
    const record = await stack.store.connections.get(connectionId)
    expect(record?.disconnectedAt).not.toBeNull()
    expect(stack.events).toContainEqual(
      expect.objectContaining({
        type: 'connection.disconnected',
        connectionId,
        reason: 'disconnect',
      }),
    )
  })

  it('closes a message of 128 KiB + 1 byte with 1009 and never forwards it', async () => {
    const { socket, connectionId } = await stack.connect('ann')
    const forwardedBefore = stack.backend.calls.length
    const prefix = '{"action":"echo","text":"'
    const message = `${prefix}${'x'.repeat(128 * 1024 + 1 - prefix.length - 2)}"}`
    expect(Buffer.byteLength(message)).toBe(128 * 1024 + 1)
    socket.send(message)
    expect(await socket.closed()).toMatchObject({ code: 1009 })
    const served = await stack.backend.waitForCall(
      (c) => c.route === 'disconnect' && c.connectionId === connectionId,
    )
    expect(stack.backend.calls.slice(forwardedBefore)).toEqual([served])
    expect((await stack.store.connections.get(connectionId))?.disconnectedAt).not.toBeNull()
  })
})
