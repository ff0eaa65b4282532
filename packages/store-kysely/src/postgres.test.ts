import { createHash } from 'node:crypto'
import {
  createGateway,
  type Gateway,
  type GatewayEvent,
  type GatewayResponse,
  type Store,
} from '@apigw-ws/core'
import { type FakeClock, fakeClock, httpRequests } from '@apigw-ws/core/testing'
import type { Kysely } from 'kysely'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  dumpTables,
  type PostgresTestDatabase,
  postgresSchema,
  skipWithoutPostgres,
  uniquePrefix,
} from '../test/databases.js'
import { kyselyStore, migrate } from './index.js'

const noPostgres = skipWithoutPostgres(
  'the concurrency and multi-instance tests (postgres.test.ts)',
)

const SECRET = 'store-kysely-test-secret'
const ORIGIN = 'https://app.example.com'
const MINUTE = 60_000

describe.skipIf(noPostgres)('PostgreSQL with real interleaving', () => {
  let database: PostgresTestDatabase
  let prefix: string

  beforeAll(async () => {
    database = await postgresSchema(10)
  })
  afterAll(async () => {
    await database?.close()
  })
  beforeEach(async () => {
    prefix = uniquePrefix('pg')
    await migrate(database.db, { tablePrefix: prefix })
  })

  /** Stores on two separate pools, as two backend instances would have. */
  function twoInstances(): [Store, Store] {
    const other = database.openPool(10)
    return [
      kyselyStore({ db: database.db, tablePrefix: prefix }),
      kyselyStore({ db: other.db, tablePrefix: prefix }),
    ]
  }

  it('50 parallel consumes of one token over two pools: exactly one winner', async () => {
    const [a, b] = twoInstances()
    const hash = createHash('sha256').update('one token').digest('hex')
    await a.tokens.put({ hash, userId: 'u', sessionHash: null, channel: null, expiresAt: MINUTE })
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).tokens.consume(hash, null, 0)),
    )
    expect(results.filter((r) => r !== null)).toEqual([
      { hash, userId: 'u', sessionHash: null, channel: null, expiresAt: MINUTE },
    ])
    // The burst really ran on several server connections at once.
    expect(database.pool.totalCount).toBeGreaterThanOrEqual(5)
  })

  it('admits a connection in one round trip, each refusal keeping the effects before it', async () => {
    const store = kyselyStore({ db: database.db, tablePrefix: prefix })
    const hash = createHash('sha256').update('admit token').digest('hex')
    await store.tokens.put({
      hash,
      userId: 'ann',
      sessionHash: null,
      channel: 'lobby',
      expiresAt: MINUTE,
    })
    const rule = { limit: 1, windowMs: MINUTE }
    const request = {
      ipLimit: { key: 'connect.ip:1', rule: { limit: 5, windowMs: MINUTE } },
      tokenHash: hash,
      sessionHash: null,
      channel: null,
      userLimit: { keyPrefix: 'connect.user:', rule },
      connection: { connectionId: 'admit-1', apiId: 'api', stage: 'st', domainName: null },
    }
    let queries = 0
    const count = () => {
      queries++
    }
    database.pool.on('acquire', count)
    try {
      expect(await store.admit(request, 10)).toEqual({
        admitted: true,
        token: { hash, userId: 'ann', sessionHash: null, channel: 'lobby', expiresAt: MINUTE },
        channel: 'lobby',
      })
      expect(queries).toBe(1)
    } finally {
      database.pool.off('acquire', count)
    }
    expect(await store.connections.channels('admit-1')).toEqual(['lobby'])
    // The token is used: refused, yet the address hit was counted.
    expect(await store.admit(request, 11)).toEqual({ admitted: false, code: 'TOKEN_INVALID' })
    expect(
      await store.limits.hit('connect.ip:1', { limit: 5, windowMs: MINUTE }, 12),
    ).toMatchObject({
      count: 3,
    })
    // A second token of the same user: the per-user limit (1) refuses, the token stays consumed.
    const second = createHash('sha256').update('second token').digest('hex')
    await store.tokens.put({
      hash: second,
      userId: 'ann',
      sessionHash: null,
      channel: null,
      expiresAt: MINUTE,
    })
    expect(await store.admit({ ...request, tokenHash: second }, 13)).toEqual({
      admitted: false,
      code: 'RATE_LIMITED',
      scope: 'user',
      limit: { allowed: false, count: 2, resetAt: 10 + MINUTE },
    })
    expect(await store.tokens.consume(second, null, 14)).toBeNull()
    expect(await store.connections.get('admit-1')).toMatchObject({ userId: 'ann', stage: 'st' })
  })

  it('admits a message in one round trip; the touch stays when the limit refuses', async () => {
    const store = kyselyStore({ db: database.db, tablePrefix: prefix })
    const connection = { connectionId: 'talk-1', userId: 'ann', channels: [], apiId: 'api' }
    await store.connections.create({ ...connection, stage: 'st', domainName: null }, 10)
    const limit = { key: 'message.connection:talk-1', rule: { limit: 1, windowMs: MINUTE } }
    let queries = 0
    const count = () => {
      queries++
    }
    database.pool.on('acquire', count)
    try {
      const admitted = await store.admitMessage({ connectionId: 'talk-1', limit }, 20)
      expect(queries).toBe(1)
      expect(admitted).toEqual({
        admitted: true,
        connection: {
          connectionId: 'talk-1',
          userId: 'ann',
          apiId: 'api',
          stage: 'st',
          domainName: null,
          connectedAt: 10,
          lastSeenAt: 20,
          requestCount: 1,
          disconnectedAt: null,
        },
      })
      expect(await store.admitMessage({ connectionId: 'talk-1', limit }, 30)).toEqual({
        admitted: false,
        code: 'RATE_LIMITED',
        limit: { allowed: false, count: 2, resetAt: 20 + MINUTE },
      })
      expect(queries).toBe(2)
    } finally {
      database.pool.off('acquire', count)
    }
    expect(await store.connections.get('talk-1')).toMatchObject({ requestCount: 2, lastSeenAt: 30 })
    await store.connections.disconnect('talk-1', 40)
    expect(await store.admitMessage({ connectionId: 'talk-1', limit }, 50)).toEqual({
      admitted: false,
      code: 'CONNECTION_UNKNOWN',
    })
    expect((await store.limits.hit(limit.key, limit.rule, 60)).count).toBe(3)
  })

  it('100 parallel messages on one connection over two pools with limit 20: exactly 20 admitted', async () => {
    const [a, b] = twoInstances()
    const connection = { connectionId: 'flood', userId: 'u', channels: [], apiId: null }
    await a.connections.create({ ...connection, stage: null, domainName: null }, 0)
    const limit = { key: 'message.connection:flood', rule: { limit: 20, windowMs: MINUTE } }
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 === 0 ? a : b).admitMessage({ connectionId: 'flood', limit }, 1),
      ),
    )
    expect(results.filter((r) => r.admitted)).toHaveLength(20)
    const counts = results.flatMap((r) => (r.admitted ? [r.connection.requestCount] : []))
    expect(new Set(counts).size).toBe(20)
    expect((await a.connections.get('flood'))?.requestCount).toBe(100)
    expect((await b.limits.hit(limit.key, limit.rule, 2)).count).toBe(101)
    expect(database.pool.totalCount).toBeGreaterThanOrEqual(5)
  })

  it('200 parallel hits with limit 20: exactly 20 allowed, counts 1..200', async () => {
    const [a, b] = twoInstances()
    const rule = { limit: 20, windowMs: MINUTE }
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).limits.hit('ip:1', rule, 0)),
    )
    expect(results.filter((r) => r.allowed)).toHaveLength(20)
    expect(results.map((r) => r.count).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    )
    expect(new Set(results.map((r) => r.resetAt))).toEqual(new Set([MINUTE]))
    expect(database.pool.totalCount).toBeGreaterThanOrEqual(5)
  })

  it('parallel hits across a window boundary start exactly one new window', async () => {
    const store = kyselyStore({ db: database.db, tablePrefix: prefix })
    const rule = { limit: 5, windowMs: MINUTE }
    for (let i = 0; i < 8; i++) await store.limits.hit('k', rule, 0)
    const results = await Promise.all(
      Array.from({ length: 40 }, () => store.limits.hit('k', rule, MINUTE)),
    )
    expect(results.map((r) => r.count).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    )
    expect(results.filter((r) => r.allowed)).toHaveLength(5)
    expect(new Set(results.map((r) => r.resetAt))).toEqual(new Set([2 * MINUTE]))
  })

  it('concurrent cleanups from two instances delete each row once', async () => {
    const [a, b] = twoInstances()
    for (let i = 0; i < 30; i++) {
      await a.connections.create(
        {
          connectionId: `c${i}`,
          userId: 'u',
          channels: ['room'],
          apiId: null,
          stage: null,
          domainName: null,
        },
        0,
      )
      await a.limits.hit(`k${i}`, { limit: 1, windowMs: 1 }, 0)
    }
    const request = { disconnectedBefore: 0, connectedBefore: 0, batchSize: 7 }
    const totals = { connections: 0, rateLimits: 0 }
    for (let round = 0; round < 10; round++) {
      const counts = await Promise.all([a.cleanup(request, 10), b.cleanup(request, 10)])
      for (const c of counts) {
        totals.connections += c.connections
        totals.rateLimits += c.rateLimits
      }
    }
    expect(totals).toEqual({ connections: 30, rateLimits: 30 })
    expect(await dumpTables(database.db, prefix)).not.toContain('room')
  })
})

describe.skipIf(noPostgres)('two gateway instances, one PostgreSQL database', () => {
  let database: PostgresTestDatabase
  let prefix: string
  let clock: FakeClock
  let events: GatewayEvent[]
  let gateways: [Gateway, Gateway]

  beforeAll(async () => {
    database = await postgresSchema(10)
  })
  afterAll(async () => {
    await database?.close()
  })

  function gatewayOver(db: Kysely<unknown>): Gateway {
    return createGateway({
      store: kyselyStore({ db, tablePrefix: prefix }),
      clock,
      integrationSecret: SECRET,
      allowedOrigins: [ORIGIN],
      rateLimits: {
        connectPerIp: { limit: 20, windowMs: MINUTE },
        connectPerUser: false,
        tokenPerUser: false,
      },
      onEvent: (event) => events.push(event),
    })
  }

  beforeEach(async () => {
    prefix = uniquePrefix('gw')
    await migrate(database.db, { tablePrefix: prefix })
    clock = fakeClock()
    events = []
    gateways = [gatewayOver(database.db), gatewayOver(database.openPool(10).db)]
  })
  afterEach(() => {
    events = []
  })

  async function issue(count: number): Promise<string[]> {
    const responses = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        (gateways[i % 2] as Gateway).issueToken({
          method: 'POST',
          headers: { origin: ORIGIN },
          userId: `user-${i}`,
        }),
      ),
    )
    return responses.map((response) => {
      expect(response.status).toBe(200)
      return (JSON.parse(response.body ?? '') as { token: string }).token
    })
  }

  const statuses = (responses: readonly GatewayResponse[]) =>
    responses.reduce<Record<number, number>>((acc, r) => {
      acc[r.status] = (acc[r.status] ?? 0) + 1
      return acc
    }, {})

  const rejected = (code: string) =>
    events.filter((e) => e.type === 'request.rejected' && e.code === code).length

  it('single use holds across instances: each token connects exactly once', async () => {
    const tokens = await issue(20)
    const responses = await Promise.all(
      tokens.flatMap((token, i) =>
        // Every token is presented to both instances at once, from different addresses so the
        // per-IP limit stays out of the way.
        [0, 1].map((g) =>
          (gateways[g] as Gateway).handle(
            httpRequests({ secret: SECRET, clientIp: `198.51.100.${i * 2 + g + 1}` }).connect({
              token,
            }),
          ),
        ),
      ),
    )
    expect(statuses(responses)).toEqual({ 200: 20, 401: 20 })
    expect(rejected('TOKEN_INVALID')).toBe(20)
    const store = kyselyStore({ db: database.db, tablePrefix: prefix })
    const page = await store.connections.list({ all: true }, { limit: 100 })
    expect(page.items).toHaveLength(20)
    expect(new Set(page.items.map((c) => c.userId)).size).toBe(20)
  })

  it('shares the per-IP connect limit: 50 attempts from one address, 20 accepted', async () => {
    const tokens = await issue(50)
    const requests = httpRequests({ secret: SECRET, clientIp: '203.0.113.77' })
    const responses = await Promise.all(
      tokens.map((token, i) => (gateways[i % 2] as Gateway).handle(requests.connect({ token }))),
    )
    expect(statuses(responses)).toEqual({ 200: 20, 429: 30 })
    expect(rejected('RATE_LIMITED')).toBe(30)
    // Both instances served part of the accepted burst.
    const accepted = events.filter((e) => e.type === 'connect.accepted')
    expect(accepted).toHaveLength(20)
  })

  it('a connection id is created once even when both instances receive it', async () => {
    const tokens = await issue(10)
    const requests = httpRequests({ secret: SECRET })
    const responses = await Promise.all(
      tokens.map((token, i) =>
        (gateways[i % 2] as Gateway).handle(
          requests.connect({
            token,
            connectionId: 'SameConnection=',
            clientIp: `192.0.2.${i + 1}`,
          }),
        ),
      ),
    )
    expect(statuses(responses)).toEqual({ 200: 1, 400: 9 })
    expect(rejected('CONNECTION_DUPLICATE')).toBe(9)
  })

  it('keeps only token hashes at rest: no table holds an issued token', async () => {
    const tokens = await issue(6)
    // Half are consumed, half stay unused: both states must be hash-only.
    const requests = httpRequests({ secret: SECRET })
    for (const token of tokens.slice(0, 3)) {
      expect((await (gateways[0] as Gateway).handle(requests.connect({ token }))).status).toBe(200)
    }
    const dump = await dumpTables(database.db, prefix)
    for (const token of tokens) {
      expect(dump).not.toContain(token)
      expect(dump).toContain(createHash('sha256').update(token).digest('hex'))
    }
  })
})
