/**
 * End to end in Lambda mode: real `ws` clients → the local API Gateway's Lambda integration,
 * which invokes `gateway.lambda(event)` in process with API Gateway's event shapes → the same
 * core and test application over the Kysely store on SQLite, sending back through `@connections`
 * with the real AWS SDK. Covers token connect (and refusals), message replies (two-way and
 * through `@connections`), DeleteConnection, and a client's own close reaching the store as
 * `$disconnect`.
 */
import type { Gateway, GatewayEvent, Store } from '@apigw-ws/core'
import { type LocalGateway, startLocalGateway } from '@apigw-ws/local-gateway'
import { kyselyStore, migrate } from '@apigw-ws/store-kysely'
import SQLite from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { APP_ORIGIN, createE2eGateway } from './support/e2e-app.js'
import { createRecorder, type Recorder } from './support/recorder.js'
import { handshakeStatus, openSocket, type TestSocket } from './support/ws-client.js'

describe('through the local gateway to gateway.lambda', () => {
  let db: Kysely<unknown>
  let store: Store
  let log: Recorder<GatewayEvent>
  let invocations: Recorder<{
    readonly eventType: string
    readonly connectionId: string
    readonly statusCode: number
  }>
  let gateway: Gateway
  let local: LocalGateway
  const sockets: TestSocket[] = []

  beforeEach(async () => {
    db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) })
    await migrate(db)
    store = kyselyStore({ db })
    log = createRecorder('a gateway event')
    invocations = createRecorder('a Lambda invocation')
    let endpoint = ''
    gateway = createE2eGateway({
      store,
      integration: 'lambda',
      managementEndpoint: () => endpoint,
      onEvent: log.push,
    })
    local = await startLocalGateway({
      integration: {
        type: 'lambda',
        handler: async (event) => {
          const result = await gateway.lambda(event)
          const { eventType, connectionId } = event.requestContext
          invocations.push({ eventType, connectionId, statusCode: result.statusCode })
          return result
        },
      },
      port: 0,
      apiId: 'e2elambda1',
      stage: 'test',
    })
    endpoint = local.managementEndpoint
  })

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((socket) => socket.close()))
    await local.close()
    await db.destroy()
  })

  async function token(userId: string): Promise<string> {
    const issued = await gateway.issueToken({
      method: 'POST',
      headers: { origin: APP_ORIGIN },
      userId,
    })
    expect(issued.status).toBe(200)
    return (JSON.parse(issued.body ?? '{}') as { token: string }).token
  }

  async function connect(userId: string): Promise<{ socket: TestSocket; connectionId: string }> {
    const socket = await openSocket(`${local.url}?token=${await token(userId)}`, {
      origin: APP_ORIGIN,
    })
    sockets.push(socket)
    const accepted = await log.waitFor((e) => e.type === 'connect.accepted' && e.userId === userId)
    return { socket, connectionId: (accepted as { connectionId: string }).connectionId }
  }

  it('connects with a token and stores what the event said about the connection', async () => {
    const { connectionId } = await connect('ann')
    expect(await store.connections.get(connectionId)).toMatchObject({
      connectionId,
      userId: 'ann',
      apiId: 'e2elambda1',
      stage: 'test',
      disconnectedAt: null,
    })
  })

  it('refuses a reused token (401) and a wrong Origin (403) in the handshake', async () => {
    const url = `${local.url}?token=${await token('ann')}`
    expect(await handshakeStatus(url, { origin: 'https://evil.example' })).toBe(403)
    expect(await handshakeStatus(url, { origin: APP_ORIGIN })).toBe(101)
    expect(await handshakeStatus(url, { origin: APP_ORIGIN })).toBe(401)
    const codes = log.items.flatMap((e) => (e.type === 'request.rejected' ? [e.code] : []))
    expect(codes).toEqual(['ORIGIN_REJECTED', 'TOKEN_INVALID'])
  })

  it('answers messages with two-way replies and through @connections', async () => {
    const { socket, connectionId } = await connect('ann')
    socket.send({ action: 'echo', text: 'over lambda' })
    expect(await socket.nextJson()).toEqual({ type: 'echo', text: 'over lambda' })
    socket.send({ action: 'whoami' })
    expect(await socket.nextJson()).toEqual({ type: 'you', connectionId, userId: 'ann' })
    socket.send({ action: 'unknown-handler' })
    expect(await socket.nextJson()).toMatchObject({
      message: 'Internal server error',
      connectionId,
    })
  })

  it('fans out to channel members', async () => {
    const ann = await connect('ann')
    const bob = await connect('bob')
    for (const member of [ann, bob]) {
      member.socket.send({ action: 'join', room: 'lobby' })
      expect(await member.socket.nextJson()).toEqual({ type: 'joined', room: 'lobby' })
    }
    bob.socket.send({ action: 'say', room: 'lobby', text: 'from bob' })
    const said = { type: 'said', room: 'lobby', from: 'bob', text: 'from bob' }
    expect(await ann.socket.nextJson()).toEqual(said)
    expect(await bob.socket.nextJson()).toEqual(said)
  })

  it('marks the connection disconnected when the client closes', async () => {
    const { socket, connectionId } = await connect('ann')
    await socket.close()
    await log.waitFor(
      (e) =>
        e.type === 'connection.disconnected' &&
        e.connectionId === connectionId &&
        e.reason === 'disconnect',
    )
    expect((await store.connections.get(connectionId))?.disconnectedAt).not.toBeNull()
  })

  it('closes a connection with DeleteConnection, then $disconnect follows', async () => {
    const { socket, connectionId } = await connect('ann')
    const report = await gateway.send.disconnect(connectionId)
    expect(report).toMatchObject({ attempted: 1, delivered: 1 })
    expect((await socket.closed()).code).toBe(1000)
    const disconnect = await invocations.waitFor(
      (i) => i.eventType === 'DISCONNECT' && i.connectionId === connectionId,
    )
    expect(disconnect.statusCode).toBe(200)
    expect((await store.connections.get(connectionId))?.disconnectedAt).not.toBeNull()
    // A second DeleteConnection finds it gone (410 from the local gateway, named by the SDK).
    const again = await gateway.send.disconnect(connectionId)
    expect(again.delivered).toBe(0)
  })
})
