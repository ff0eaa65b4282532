/**
 * End to end in Lambda mode: real `ws` clients → the local API Gateway's Lambda integration,
 * which invokes `gateway.lambda(event)` in process with API Gateway's event shapes → the same
 * core and test application, sending back through `@connections` with the real AWS SDK. Runs
 * over the Kysely store on SQLite and over the DynamoDB store on dynalite (a DynamoDB emulator on
 * loopback: the serverless setup that store exists for). Covers token connect (and refusals),
 * message replies (two-way and through `@connections`), channel fan-out, DeleteConnection, and a
 * client's own close reaching the store as `$disconnect`.
 */
import type { Gateway, GatewayEvent, Store } from '@apigw-ws/core'
import { type LocalGateway, startLocalGateway } from '@apigw-ws/local-gateway'
import { dynamodbStore } from '@apigw-ws/store-dynamodb'
import { kyselyStore, migrate } from '@apigw-ws/store-kysely'
import SQLite from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  freshTable,
  type LocalDynamo,
  startDynalite,
} from '../../../packages/store-dynamodb/test/dynalite.js'
import { APP_ORIGIN, createE2eGateway } from './support/e2e-app.js'
import { createRecorder, type Recorder } from './support/recorder.js'
import { handshakeStatus, openSocket, type TestSocket } from './support/ws-client.js'

/** A store for one test, and how to release it. */
interface OpenedStore {
  readonly store: Store
  readonly close: () => Promise<void>
}

/** A store the suite runs over: set up once per file, opened fresh for every test. */
interface StoreBackend {
  readonly name: string
  readonly start: () => Promise<void>
  readonly stop: () => Promise<void>
  readonly open: () => Promise<OpenedStore>
}

const sqlite: StoreBackend = {
  name: 'kysely (sqlite)',
  start: async () => {},
  stop: async () => {},
  open: async () => {
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new SQLite(':memory:') }),
    })
    await migrate(db)
    return { store: kyselyStore({ db }), close: () => db.destroy() }
  },
}

let dynamo: LocalDynamo | null = null
const dynamodb: StoreBackend = {
  name: 'dynamodb (dynalite)',
  start: async () => {
    dynamo = await startDynalite()
  },
  stop: async () => {
    await dynamo?.close()
  },
  open: async () => {
    if (dynamo === null) throw new Error('dynalite is not running')
    const client = dynamo.client()
    const tableName = await freshTable(client)
    return { store: dynamodbStore({ client, tableName }), close: async () => {} }
  },
}

describe.each([sqlite, dynamodb])(
  'through the local gateway to gateway.lambda, $name',
  (backend) => {
    let opened: OpenedStore
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

    beforeAll(() => backend.start())
    afterAll(() => backend.stop())

    beforeEach(async () => {
      opened = await backend.open()
      store = opened.store
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
      await opened.close()
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
      const accepted = await log.waitFor(
        (e) => e.type === 'connect.accepted' && e.userId === userId,
      )
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

    it('drops a closed connection from the fan-out', async () => {
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
      const members = await store.connections.list({ channel: 'lobby' }, { limit: 10 })
      expect(members.items.map((record) => record.connectionId)).toEqual([bob.connectionId])
      bob.socket.send({ action: 'say', room: 'lobby', text: 'anyone?' })
      expect(await bob.socket.nextJson()).toMatchObject({ type: 'said', text: 'anyone?' })
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
  },
)
