/**
 * End to end in Lambda mode on DynamoDB: real `ws` clients → the local API Gateway's Lambda
 * integration → `gateway.lambda(event)` → core → `@apigw-ws/store-dynamodb` on dynalite (a
 * DynamoDB emulator on loopback), sending back through `@connections` with the real AWS SDK. The
 * serverless setup the store exists for: connect with a token, a message, a channel fan-out,
 * and a disconnect, with the store's records checked at each step.
 */
import type { Gateway, GatewayEvent, Store } from '@apigw-ws/core'
import { type LocalGateway, startLocalGateway } from '@apigw-ws/local-gateway'
import { dynamodbStore } from '@apigw-ws/store-dynamodb'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  freshTable,
  type LocalDynamo,
  startDynalite,
} from '../../../packages/store-dynamodb/test/dynalite.js'
import { APP_ORIGIN, createE2eGateway } from './support/e2e-app.js'
import { createRecorder, type Recorder } from './support/recorder.js'
import { handshakeStatus, openSocket, type TestSocket } from './support/ws-client.js'

describe('Lambda mode on the DynamoDB store (dynalite)', () => {
  let dynamo: LocalDynamo
  let store: Store
  let log: Recorder<GatewayEvent>
  let gateway: Gateway
  let local: LocalGateway
  const sockets: TestSocket[] = []

  beforeAll(async () => {
    dynamo = await startDynalite()
  })
  afterAll(async () => {
    await dynamo.close()
  })

  beforeEach(async () => {
    const client = dynamo.client()
    store = dynamodbStore({ client, tableName: await freshTable(client) })
    log = createRecorder('a gateway event')
    let endpoint = ''
    gateway = createE2eGateway({
      store,
      integration: 'lambda',
      managementEndpoint: () => endpoint,
      onEvent: log.push,
    })
    local = await startLocalGateway({
      integration: { type: 'lambda', handler: (event) => gateway.lambda(event) },
      port: 0,
      apiId: 'dynamolam1',
      stage: 'test',
    })
    endpoint = local.managementEndpoint
  })

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((socket) => socket.close()))
    await local.close()
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

  it('connects with a single-use token and stores the connection', async () => {
    const url = `${local.url}?token=${await token('ann')}`
    expect(await handshakeStatus(url, { origin: APP_ORIGIN })).toBe(101)
    expect(await handshakeStatus(url, { origin: APP_ORIGIN }), 'the token is used').toBe(401)
    const { connectionId } = await connect('bob')
    expect(await store.connections.get(connectionId)).toMatchObject({
      connectionId,
      userId: 'bob',
      apiId: 'dynamolam1',
      stage: 'test',
      disconnectedAt: null,
    })
  })

  it('answers a message and counts it on the connection', async () => {
    const { socket, connectionId } = await connect('ann')
    socket.send({ action: 'echo', text: 'over dynamodb' })
    expect(await socket.nextJson()).toEqual({ type: 'echo', text: 'over dynamodb' })
    socket.send({ action: 'whoami' })
    expect(await socket.nextJson()).toEqual({ type: 'you', connectionId, userId: 'ann' })
    expect((await store.connections.get(connectionId))?.requestCount).toBe(2)
  })

  it('fans out to the members of a channel, and only to them', async () => {
    const ann = await connect('ann')
    const bob = await connect('bob')
    const eve = await connect('eve')
    for (const member of [ann, bob]) {
      member.socket.send({ action: 'join', room: 'lobby' })
      expect(await member.socket.nextJson()).toEqual({ type: 'joined', room: 'lobby' })
    }
    bob.socket.send({ action: 'say', room: 'lobby', text: 'from bob' })
    const said = { type: 'said', room: 'lobby', from: 'bob', text: 'from bob' }
    expect(await ann.socket.nextJson()).toEqual(said)
    expect(await bob.socket.nextJson()).toEqual(said)
    // eve, outside the room, gets nothing: her next frame is the answer to her own echo.
    eve.socket.send({ action: 'echo', text: 'still here' })
    expect(await eve.socket.nextJson()).toEqual({ type: 'echo', text: 'still here' })
  })

  it('marks the connection disconnected when the client closes, and drops it from fan-out', async () => {
    const ann = await connect('ann')
    const bob = await connect('bob')
    for (const member of [ann, bob]) {
      member.socket.send({ action: 'join', room: 'lobby' })
      await member.socket.nextJson()
    }
    await ann.socket.close()
    await log.waitFor(
      (e) => e.type === 'connection.disconnected' && e.connectionId === ann.connectionId,
    )
    expect((await store.connections.get(ann.connectionId))?.disconnectedAt).not.toBeNull()
    const members = await store.connections.list({ channel: 'lobby' }, { limit: 10 })
    expect(members.items.map((record) => record.connectionId)).toEqual([bob.connectionId])
    bob.socket.send({ action: 'say', room: 'lobby', text: 'anyone?' })
    expect(await bob.socket.nextJson()).toMatchObject({ type: 'said', text: 'anyone?' })
  })
})
