/**
 * The atomic promises across instances: two stores with two independent SDK clients (separate
 * connection pools, as two Lambda instances have) on one table, racing on real dynalite.
 */
import { createHash } from 'node:crypto'
import type { Store } from '@apigw-ws/core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { freshTable, type LocalDynamo, startDynalite } from '../test/dynalite.js'
import { dynamodbStore } from './index.js'

const MINUTE = 60_000
const NOW = Date.UTC(2026, 0, 1)

let dynamo: LocalDynamo
let a: Store
let b: Store

beforeAll(async () => {
  dynamo = await startDynalite()
})
afterAll(async () => {
  await dynamo.close()
})
beforeEach(async () => {
  const tableName = await freshTable(dynamo.client())
  a = dynamodbStore({ client: dynamo.client(), tableName })
  b = dynamodbStore({ client: dynamo.client(), tableName })
})

/** Instance `a` for even `i`, `b` for odd. */
const either = (i: number): Store => (i % 2 === 0 ? a : b)
const times = <T>(n: number, task: (i: number) => Promise<T>): Promise<T[]> =>
  Promise.all(Array.from({ length: n }, (_, i) => task(i)))
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

const connection = (connectionId: string, userId: string) => ({
  connectionId,
  userId,
  channels: [`room-of-${userId}`],
  apiId: 'a1b2c3d4e5',
  stage: 'prod',
  domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
})

describe('two instances on one table', { timeout: 30_000 }, () => {
  it('50 concurrent consumes of one token: exactly one winner', async () => {
    const hash = sha256('one token')
    const token = { hash, userId: 'u', sessionHash: null, channel: null, expiresAt: NOW + 1 }
    expect(await a.tokens.put(token)).toBe(true)
    const results = await times(50, (i) => either(i).tokens.consume(hash, null, NOW))
    expect(results.filter((record) => record !== null)).toHaveLength(1)
    expect(await b.tokens.consume(hash, null, NOW)).toBeNull()
  })

  it('200 concurrent hits with limit 20: exactly 20 allowed, counts 1..200', async () => {
    const rule = { limit: 20, windowMs: MINUTE }
    const results = await times(200, (i) => either(i).limits.hit('ip:203.0.113.7', rule, NOW))
    expect(results.filter((result) => result.allowed)).toHaveLength(20)
    expect(results.map((result) => result.count).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    )
    expect(new Set(results.map((result) => result.resetAt))).toEqual(new Set([NOW + MINUTE]))
  })

  it('100 concurrent hits as the window ends: one restart, counts 1..100 in the new window', async () => {
    const rule = { limit: 10, windowMs: MINUTE }
    for (let i = 0; i < 30; i += 1) await a.limits.hit('boundary', rule, NOW)
    const later = NOW + MINUTE
    const results = await times(100, (i) => either(i).limits.hit('boundary', rule, later))
    expect(results.map((result) => result.count).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    )
    expect(results.filter((result) => result.allowed)).toHaveLength(10)
    expect(new Set(results.map((result) => result.resetAt))).toEqual(new Set([later + MINUTE]))
  })

  it('a connection id is created once, whichever instance tries', async () => {
    const results = await times(20, (i) =>
      either(i).connections.create(connection('same-id', `user-${i}`), NOW),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
    const winner = `user-${results.indexOf(true)}`
    const record = await b.connections.get('same-id')
    expect(record?.userId).toBe(winner)
    expect(await a.connections.channels('same-id')).toEqual([`room-of-${winner}`])
    // A later replay through the other instance is refused too, and changes nothing.
    expect(await a.connections.create(connection('same-id', 'late'), NOW)).toBe(false)
    expect(await b.connections.create(connection('same-id', 'later'), NOW)).toBe(false)
    expect(await b.connections.channels('same-id')).toEqual([`room-of-${winner}`])
  })

  it('a token hash is stored once, whichever instance tries', async () => {
    const hash = sha256('put race')
    const stored = await times(20, (i) =>
      either(i).tokens.put({
        hash,
        userId: `user-${i}`,
        sessionHash: null,
        channel: null,
        expiresAt: NOW + MINUTE,
      }),
    )
    expect(stored.filter(Boolean)).toHaveLength(1)
    expect((await b.tokens.consume(hash, null, NOW))?.userId).toBe(`user-${stored.indexOf(true)}`)
  })

  it('30 concurrent subscribes with a limit of 10: exactly the free places are taken', async () => {
    await a.connections.create(connection('joiner', 'u'), NOW)
    const channels = Array.from({ length: 30 }, (_, i) => `room-${i}`)
    const results = await times(30, (i) =>
      either(i).connections.subscribe('joiner', channels[i] as string, 10),
    )
    // One place is taken by the initial channel.
    expect(results.filter((result) => result === 'subscribed')).toHaveLength(9)
    expect(results.filter((result) => result === 'limit')).toHaveLength(21)
    const held = await b.connections.channels('joiner')
    expect(held).toHaveLength(10)
    expect(held[0]).toBe('room-of-u')
    const joined = channels.filter((_, i) => results[i] === 'subscribed')
    expect([...held.slice(1)].sort()).toEqual([...joined].sort())
  })

  it('touches and disconnects from both instances lose no update', async () => {
    await a.connections.create(connection('busy', 'u'), NOW)
    const touched = await times(40, (i) => either(i).connections.touch('busy', NOW + 1))
    expect(
      touched.map((record) => record?.requestCount).sort((x, y) => (x ?? 0) - (y ?? 0)),
    ).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    const left = await times(10, (i) => either(i).connections.disconnect('busy', NOW + 2))
    expect(left.filter(Boolean)).toHaveLength(1)
    expect(await a.connections.touch('busy', NOW + 3)).toBeNull()
    expect((await b.connections.get('busy'))?.requestCount).toBe(40)
  })
})
