/**
 * `pnpm bench dynamodb`: the DynamoDB store on dynalite (in this process, on loopback), against
 * direct SDK calls of the same writes, for `$connect` and for a message, plus the number of
 * DynamoDB requests each route makes (counted by SDK middleware; every request costs money).
 *
 * `$connect` accepted by `gateway.handle` costs the store four requests: the per-IP hit, the token
 * consume, the per-user hit and the connection put. The direct variant sends those four commands
 * with the same client, so the ratio is the overhead of the store (and of the gateway) over the
 * SDK. A message costs one `UpdateItem` (`touch`). Rounds alternate (A B C, A B C, …) and each
 * variant works on fresh tokens, addresses, users and connection ids; each variant has a table of
 * its own. dynalite runs in this process, so its CPU time is in every variant alike.
 */
import { createHash, randomBytes } from 'node:crypto'
import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import {
  createGateway,
  defineHandler,
  type Gateway,
  type GatewayRequest,
} from '../packages/core/src/index.js'
import type { Store } from '../packages/core/src/store.js'
import { capturingConnections } from '../packages/core/src/testing/capturing-connections.js'
import { httpRequests } from '../packages/core/src/testing/requests.js'
import { dynamodbStore } from '../packages/store-dynamodb/src/index.js'
import { freshTable, startDynalite } from '../packages/store-dynamodb/test/dynalite.js'
import { countCommands } from '../packages/store-dynamodb/test/middleware.js'
import { alternate, printRounds, ratiosTo, type Sample, verdict } from './support/rounds.js'

const CONCURRENCY = 16
const CONNECT_OPS = 150
const MESSAGE_OPS = 400
const ROUNDS = 5
const SECRET = 'bench-integration-secret-0123456789'
const ORIGIN = 'https://app.example.com'
const WINDOW_MS = 60_000
/** Limits high enough that every hit is counted and allowed: the work, not the refusals. */
const OPEN_RULE = { limit: 1_000_000_000, windowMs: WINDOW_MS }

/** One `$connect`'s inputs. */
interface ConnectCase {
  readonly token: string
  readonly hash: string
  readonly ip: string
  readonly userId: string
  readonly connectionId: string
}

let caseSeq = 0

function connectCases(count: number): ConnectCase[] {
  return Array.from({ length: count }, () => {
    const n = caseSeq++
    const token = randomBytes(32).toString('base64url')
    return {
      token,
      hash: createHash('sha256').update(token).digest('hex'),
      ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      userId: `user-${n}`,
      connectionId: `bench${n.toString(36).padStart(10, '0')}=`,
    }
  })
}

/** Runs `fn` `ops` times with `CONCURRENCY` workers; resolves operations per second. */
async function timed(ops: number, fn: (i: number) => Promise<void>): Promise<Sample> {
  let next = 0
  const start = performance.now()
  const worker = async (): Promise<void> => {
    for (let i = next++; i < ops; i = next++) await fn(i)
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return { perSecond: (ops * 1000) / (performance.now() - start) }
}

async function inBatches<T>(items: readonly T[], task: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += CONCURRENCY) {
    await Promise.all(items.slice(i, i + CONCURRENCY).map(task))
  }
}

function benchGateway(store: Store): Gateway {
  return createGateway({
    store,
    // Sends are captured in memory: the fan-out's cost here is the store's page reads.
    connections: capturingConnections(),
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    rateLimits: { connectPerIp: OPEN_RULE, connectPerUser: OPEN_RULE, tokenPerUser: false },
    handlers: { ping: defineHandler({ handle: () => ({ pong: true }) }) },
  })
}

/** The writes the store makes for `$connect`, sent directly with the SDK. */
function directWrites(client: DynamoDBClient, TableName: string) {
  const key = (pk: string) => ({ pk: { S: pk }, sk: { S: '#' } })
  const n = (value: number) => ({ N: String(value) })
  const hit = (limitKey: string, now: number) =>
    client.send(
      new UpdateItemCommand({
        TableName,
        Key: key(`l#${limitKey}`),
        UpdateExpression:
          'SET resetAt = if_not_exists(resetAt, :resetAt), sweepPk = if_not_exists(sweepPk, :kind), ' +
          'sweepAt = if_not_exists(sweepAt, :resetAt), #ttl = if_not_exists(#ttl, :ttl) ADD hits :one',
        ConditionExpression: 'attribute_not_exists(resetAt) OR resetAt > :now',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':resetAt': n(now + WINDOW_MS),
          ':kind': { S: 'limit' },
          ':ttl': n(Math.ceil((now + WINDOW_MS) / 1000)),
          ':one': n(1),
          ':now': n(now),
        },
        ReturnValues: 'ALL_NEW',
      }),
    )
  return {
    putToken: (c: ConnectCase, expiresAt: number) =>
      client.send(
        new PutItemCommand({
          TableName,
          Item: {
            ...key(`t#${c.hash}`),
            userId: { S: c.userId },
            expiresAt: n(expiresAt),
            sweepPk: { S: 'token' },
            sweepAt: n(expiresAt),
            ttl: n(Math.ceil(expiresAt / 1000)),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    async connect(c: ConnectCase, now: number): Promise<void> {
      await hit(`connect.ip:${c.ip}`, now)
      await client.send(
        new UpdateItemCommand({
          TableName,
          Key: key(`t#${c.hash}`),
          UpdateExpression: 'SET usedAt = :now, sweepAt = :zero',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(usedAt) AND expiresAt > :now AND ' +
            'attribute_not_exists(sessionHash)',
          ExpressionAttributeValues: { ':now': n(now), ':zero': n(0) },
          ReturnValues: 'ALL_NEW',
        }),
      )
      await hit(`connect.user:${c.userId}`, now)
      await client.send(
        new PutItemCommand({
          TableName,
          Item: {
            ...key(`c#${c.connectionId}`),
            userId: { S: c.userId },
            apiId: { S: 'testapi123' },
            connectedAt: n(now),
            lastSeenAt: n(now),
            requestCount: n(0),
            channelCount: n(0),
            nextSeq: n(0),
            lookupPk: { S: `u#${c.userId}` },
            lookupSk: { S: c.connectionId },
            statusPk: { S: 'live' },
            statusSk: { S: c.connectionId },
            sweepPk: { S: 'conn' },
            sweepAt: n(now),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
    },
    touch: (connectionId: string, now: number) =>
      client.send(
        new UpdateItemCommand({
          TableName,
          Key: key(`c#${connectionId}`),
          UpdateExpression: 'SET lastSeenAt = :now ADD requestCount :one',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(disconnectedAt)',
          ExpressionAttributeValues: { ':now': n(now), ':one': n(1) },
          ReturnValues: 'ALL_NEW',
        }),
      ),
  }
}

/** Issues real tokens through the gateway (untimed) and builds each accepted `$connect`. */
async function connectRequests(gateway: Gateway, cases: ConnectCase[]): Promise<GatewayRequest[]> {
  const requests: GatewayRequest[] = []
  await inBatches(cases, async (c) => {
    const issued = await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId: c.userId,
    })
    if (issued.status !== 200) throw new Error(`issueToken answered ${issued.status}`)
    const { token } = JSON.parse(issued.body ?? '') as { token: string }
    requests.push(
      httpRequests({ secret: SECRET, clientIp: c.ip }).connect({
        token,
        connectionId: c.connectionId,
        origin: ORIGIN,
      }),
    )
  })
  return requests
}

/** Requests per operation, by command, from a counter's difference over `ops` operations. */
function perOperation(before: Map<string, number>, after: Map<string, number>, ops: number) {
  const parts: string[] = []
  let total = 0
  for (const [name, count] of after) {
    const delta = count - (before.get(name) ?? 0)
    if (delta === 0) continue
    total += delta
    parts.push(`${(delta / ops).toFixed(2)} ${name}`)
  }
  return `${(total / ops).toFixed(2)} requests (${parts.join(', ')})`
}

export default async function dynamodbBench(): Promise<void> {
  const dynamo = await startDynalite()
  try {
    const client = dynamo.client()
    const counts = countCommands(client)
    const directTable = await freshTable(client)
    const storeTable = await freshTable(client)
    const gatewayTable = await freshTable(client)
    const direct = directWrites(client, directTable)
    const store = dynamodbStore({ client, tableName: storeTable })
    const gatewayStore = dynamodbStore({ client, tableName: gatewayTable })
    const gateway = benchGateway(gatewayStore)

    // --- $connect
    const connect = await alternate(ROUNDS, [
      {
        name: 'direct SDK: the same 4 writes',
        run: async () => {
          const cases = connectCases(CONNECT_OPS)
          const now = Date.now()
          await inBatches(cases, (c) => direct.putToken(c, now + WINDOW_MS))
          return timed(CONNECT_OPS, (i) => direct.connect(cases[i] as ConnectCase, Date.now()))
        },
      },
      {
        name: 'dynamodbStore calls (no gateway)',
        run: async () => {
          const cases = connectCases(CONNECT_OPS)
          const now = Date.now()
          await inBatches(cases, (c) =>
            store.tokens.put({
              hash: c.hash,
              userId: c.userId,
              sessionHash: null,
              channel: null,
              expiresAt: now + WINDOW_MS,
            }),
          )
          return timed(CONNECT_OPS, async (i) => {
            const c = cases[i] as ConnectCase
            const at = Date.now()
            await store.limits.hit(`connect.ip:${c.ip}`, OPEN_RULE, at)
            if ((await store.tokens.consume(c.hash, null, at)) === null) {
              throw new Error('token not consumed')
            }
            await store.limits.hit(`connect.user:${c.userId}`, OPEN_RULE, at)
            const created = await store.connections.create(
              {
                connectionId: c.connectionId,
                userId: c.userId,
                channels: [],
                apiId: 'testapi123',
                stage: null,
                domainName: null,
              },
              at,
            )
            if (!created) throw new Error('connection not created')
          })
        },
      },
      {
        name: 'gateway.handle($connect) + dynamodbStore',
        moreWorkThan: ['dynamodbStore calls (no gateway)'],
        run: async () => {
          const requests = await connectRequests(gateway, connectCases(CONNECT_OPS))
          return timed(CONNECT_OPS, async (i) => {
            const response = await gateway.handle(requests[i] as GatewayRequest)
            if (response.status !== 200) throw new Error(`$connect answered ${response.status}`)
          })
        },
      },
    ])
    printRounds(`$connect on DynamoDB (dynalite), ${CONCURRENCY} concurrent callers`, connect)
    verdict('dynamodbStore calls / direct SDK', ratiosTo(connect, 1, 0).throughput, 0.6)
    verdict('gateway.handle + dynamodbStore / direct SDK', ratiosTo(connect, 2, 0).throughput, 0.6)

    // --- a message: one connection per worker, touched over and over
    const live = connectCases(CONCURRENCY)
    const now = Date.now()
    const liveRequests = await connectRequests(gateway, live)
    for (const request of liveRequests) {
      if ((await gateway.handle(request)).status !== 200) throw new Error('$connect refused')
    }
    await inBatches(live, async (c) => {
      await direct.putToken(c, now + WINDOW_MS)
      await direct.connect(c, now)
      await store.connections.create(
        {
          connectionId: c.connectionId,
          userId: c.userId,
          channels: [],
          apiId: 'testapi123',
          stage: null,
          domainName: null,
        },
        now,
      )
    })
    const idOf = (i: number) => (live[i % CONCURRENCY] as ConnectCase).connectionId
    const http = httpRequests({ secret: SECRET })
    const messages = await alternate(ROUNDS, [
      {
        name: 'direct SDK: UpdateItem (touch)',
        run: () =>
          timed(MESSAGE_OPS, async (i) => {
            await direct.touch(idOf(i), Date.now())
          }),
      },
      {
        name: 'dynamodbStore.connections.touch',
        run: () =>
          timed(MESSAGE_OPS, async (i) => {
            if ((await store.connections.touch(idOf(i), Date.now())) === null) {
              throw new Error('not touched')
            }
          }),
      },
      {
        name: 'gateway.handle(message) + dynamodbStore',
        moreWorkThan: ['dynamodbStore.connections.touch'],
        run: () =>
          timed(MESSAGE_OPS, async (i) => {
            const response = await gateway.handle(
              http.message({ connectionId: idOf(i), body: { action: 'ping' } }),
            )
            if (response.status !== 200) throw new Error(`message answered ${response.status}`)
          }),
      },
    ])
    printRounds(`a message on DynamoDB (dynalite), ${CONCURRENCY} concurrent callers`, messages)
    verdict('touch / direct SDK', ratiosTo(messages, 1, 0).throughput, 0.6)
    verdict('gateway.handle(message) / direct SDK', ratiosTo(messages, 2, 0).throughput, 0.6)

    // --- requests per route, counted on a fresh batch through the gateway
    console.log('\n## DynamoDB requests per route (gateway.handle + dynamodbStore)')
    const sample = connectCases(50)
    let before = new Map(counts)
    const requests = await connectRequests(gateway, sample)
    console.log(`token issue        ${perOperation(before, counts, sample.length)}`)
    before = new Map(counts)
    for (const request of requests) await gateway.handle(request)
    console.log(`$connect           ${perOperation(before, counts, sample.length)}`)
    before = new Map(counts)
    for (const c of sample) {
      await gateway.handle(http.message({ connectionId: c.connectionId, body: { action: 'ping' } }))
    }
    console.log(`message            ${perOperation(before, counts, sample.length)}`)
    for (const c of sample) await gatewayStore.connections.subscribe(c.connectionId, 'room', 100)
    before = new Map(counts)
    await gateway.send.toChannel('room', { hello: true })
    console.log(`toChannel (${sample.length})    ${perOperation(before, counts, 1)} per fan-out`)
    before = new Map(counts)
    for (const c of sample) {
      await gateway.handle(http.disconnect({ connectionId: c.connectionId }))
    }
    console.log(`$disconnect        ${perOperation(before, counts, sample.length)}`)
  } finally {
    await dynamo.close()
  }
}
