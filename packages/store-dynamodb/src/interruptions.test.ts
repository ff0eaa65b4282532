/**
 * Interruptions: where the store orders single writes instead of one transaction (a connection
 * and its subscriptions, cleanup), a process may die between any two of them. For every
 * operation and every point k, the store is cut off right after its k-th request took effect;
 * then a direct read of the table (the oracle) must show the invariants intact, and the normal
 * next step (a retry, or cleanup) must converge.
 */

import type { Store } from '@apigw-ws/core'
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshTable, type LocalDynamo, startDynalite } from '../test/dynalite.js'
import { Interrupted, interruptAfter } from '../test/middleware.js'
import { dynamodbStore } from './index.js'

const NOW = Date.UTC(2026, 0, 1)
const HOUR = 3_600_000

let dynamo: LocalDynamo
beforeAll(async () => {
  dynamo = await startDynalite()
})
afterAll(async () => {
  await dynamo.close()
})

interface Setup {
  /** The store whose requests are interrupted. */
  readonly store: Store
  /** A store on an independent client, never interrupted: the next process. */
  readonly next: Store
  readonly client: DynamoDBClient
  readonly tableName: string
  readonly interrupt: (at: number) => void
}

async function setup(): Promise<Setup> {
  const client = dynamo.client()
  const tableName = await freshTable(client)
  const faulty = dynamo.client()
  return {
    store: dynamodbStore({ client: faulty, tableName }),
    next: dynamodbStore({ client, tableName }),
    client,
    tableName,
    interrupt: interruptAfter(faulty),
  }
}

/** What the table holds per connection: its counter and its subscription items. */
async function oracle({ client, tableName }: Setup) {
  const result = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))
  const connections = new Map<string, { count: number; subscriptions: string[] }>()
  const subscriptions: { id: string; channel: string }[] = []
  for (const item of result.Items ?? []) {
    const pk = item.pk?.S ?? ''
    const sk = item.sk?.S ?? ''
    if (!pk.startsWith('c#')) continue
    if (sk === '#') {
      connections.set(pk.slice(2), { count: Number(item.channelCount?.N), subscriptions: [] })
    } else {
      subscriptions.push({ id: pk.slice(2), channel: sk.slice(2) })
    }
  }
  const orphans: string[] = []
  for (const { id, channel } of subscriptions) {
    const owner = connections.get(id)
    if (owner === undefined) orphans.push(`${id}/${channel}`)
    else owner.subscriptions.push(channel)
  }
  return { connections, orphans }
}

/** The invariants that hold at every point: no orphan, and counter >= subscriptions. */
async function expectInvariants(s: Setup, where: string): Promise<void> {
  const { connections, orphans } = await oracle(s)
  expect(orphans, `${where}: subscriptions without a connection`).toEqual([])
  for (const [id, { count, subscriptions }] of connections) {
    expect(count, `${where}: counter of ${id}`).toBeGreaterThanOrEqual(subscriptions.length)
  }
}

/**
 * Runs `operation` cut off after its k-th request for k = 1, 2, … until it completes
 * uninterrupted, each time on a fresh table prepared by `arrange`, then calls `check`.
 */
async function everyCut(
  arrange: (s: Setup) => Promise<void>,
  operation: (s: Setup) => Promise<unknown>,
  check: (s: Setup, k: number, completed: boolean) => Promise<void>,
): Promise<number> {
  for (let k = 1; k <= 50; k += 1) {
    const s = await setup()
    await arrange(s)
    s.interrupt(k)
    let completed = true
    try {
      await operation(s)
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error
      completed = false
    }
    s.interrupt(0)
    await expectInvariants(s, `cut after request ${k}`)
    await check(s, k, completed)
    if (completed) return k
  }
  throw new Error('the operation never completed')
}

const connection = (connectionId: string, channels: string[]) => ({
  connectionId,
  userId: 'user-1',
  channels,
  apiId: 'a1b2c3d4e5',
  stage: 'prod',
  domainName: null,
})

const MAX = 100

const cleanupRequest = (now: number) => ({
  disconnectedBefore: now,
  connectedBefore: now - 2 * HOUR,
  batchSize: 10,
})

describe('interrupted at any point', { timeout: 60_000 }, () => {
  it('create with channels: the record appears with all its channels or not at all', async () => {
    const later = NOW + 3 * HOUR
    const cuts = await everyCut(
      async () => {},
      (s) => s.store.connections.create(connection('new', ['a', 'b', 'c']), NOW),
      async (s, k) => {
        const members = await s.next.connections.list({ channel: 'b' }, { limit: 10 })
        const byUser = await s.next.connections.list({ userId: 'user-1' }, { limit: 10 })
        const record = await s.next.connections.get('new')
        // Three requests: the pending record, its subscriptions, making it visible.
        expect(record === null, `visible after request ${k}`).toBe(k < 3)
        if (record !== null) {
          expect(await s.next.connections.channels('new')).toEqual(['a', 'b', 'c'])
          expect(members.items.map((record) => record.connectionId)).toEqual(['new'])
          expect(byUser.items.map((record) => record.connectionId)).toEqual(['new'])
          await s.next.connections.disconnect('new', NOW + 1)
        } else {
          // Cut off before the last write: nothing of it can be seen, nor used.
          expect(await s.next.connections.channels('new')).toEqual([])
          expect(members.items).toEqual([])
          expect(byUser.items).toEqual([])
          expect(await s.next.connections.touch('new', NOW + 1)).toBeNull()
          expect(await s.next.connections.subscribe('new', 'd', MAX)).toBe('gone')
          expect(await s.next.connections.disconnect('new', NOW + 1)).toBe(false)
          // The id stays taken: API Gateway never reuses one, so a replay is refused.
          expect(await s.next.connections.create(connection('new', []), NOW + 1)).toBe(false)
        }
        // Cleanup removes it, with its subscriptions, once it is stale.
        expect((await s.next.cleanup(cleanupRequest(later), later)).connections).toBe(1)
        expect((await oracle(s)).connections.size).toBe(0)
        await expectInvariants(s, 'after cleanup')
      },
    )
    expect(cuts).toBe(4)
  })

  it('subscribe: a retry subscribes, and the counter never falls below the subscriptions', async () => {
    await everyCut(
      async (s) => {
        await s.next.connections.create(connection('sub', ['first']), NOW)
      },
      (s) => s.store.connections.subscribe('sub', 'second', MAX),
      async (s) => {
        expect(await s.next.connections.subscribe('sub', 'second', MAX)).toBe('subscribed')
        expect(await s.next.connections.channels('sub')).toEqual(['first', 'second'])
        const ids = (await s.next.connections.list({ channel: 'second' }, { limit: 10 })).items
        expect(ids.map((record) => record.connectionId)).toEqual(['sub'])
        await expectInvariants(s, 'after the retry')
      },
    )
  })

  it('subscribe at a limit: however it is cut off, the connection never holds more', async () => {
    await everyCut(
      async (s) => {
        await s.next.connections.create(connection('capped', ['a', 'b']), NOW)
      },
      (s) => s.store.connections.subscribe('capped', 'c', 3),
      async (s) => {
        for (const channel of ['d', 'e', 'f'])
          await s.next.connections.subscribe('capped', channel, 3)
        const held = await s.next.connections.channels('capped')
        expect(held.length).toBeLessThanOrEqual(3)
        expect(held.slice(0, 2)).toEqual(['a', 'b'])
      },
    )
  })

  it('unsubscribe: the channel is gone once the first write took effect', async () => {
    await everyCut(
      async (s) => {
        await s.next.connections.create(connection('unsub', ['a', 'b']), NOW)
      },
      (s) => s.store.connections.unsubscribe('unsub', 'a'),
      async (s) => {
        // The first request is the delete itself, so every cut comes after it.
        expect(await s.next.connections.channels('unsub')).toEqual(['b'])
        expect((await s.next.connections.list({ channel: 'a' }, { limit: 10 })).items).toEqual([])
      },
    )
  })

  it('cleanup: what is left is finished by the next cleanup, with no orphan subscription', async () => {
    const later = NOW + 3 * HOUR
    await everyCut(
      async (s) => {
        await s.next.connections.create(connection('stale', ['a', 'b']), NOW)
        await s.next.connections.create(connection('closed', ['c']), later - 1)
        await s.next.connections.disconnect('closed', later)
      },
      (s) => s.store.cleanup(cleanupRequest(later), later),
      async (s) => {
        await s.next.cleanup(cleanupRequest(later), later)
        expect((await oracle(s)).connections.size).toBe(0)
        for (const channel of ['a', 'b', 'c']) {
          expect((await s.next.connections.list({ channel }, { limit: 10 })).items).toEqual([])
        }
      },
    )
  })
})
