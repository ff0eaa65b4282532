/**
 * The concurrency properties: bursts of parallel calls through `Promise.all` against one store,
 * where a store that reads, awaits, then writes loses. These checks cannot be turned off.
 */
import { expect } from 'vitest'
import type { ConnectionRecord, TokenRecord } from '../../store.js'
import {
  channelsOf,
  countTrue,
  create,
  group,
  hashOf,
  idsOf,
  listAll,
  MAX,
  MINUTE,
  newConnection,
  newToken,
  range,
  type Seed,
  tokenFields,
} from './helpers.js'

export const concurrencyChecks = group('concurrency', {
  '50 parallel consumes of one token: exactly one wins': async ({ store, clock }) => {
    const hash = await hashOf('race')
    const token = newToken(hash, clock, { userId: 'racer' })
    await store.tokens.put(token)
    const results = await Promise.all(
      range(1, 50).map(() => store.tokens.consume(hash, null, clock.now())),
    )
    const winners = results.filter((result) => result !== null)
    expect(winners).toHaveLength(1)
    expect(tokenFields(winners[0] as TokenRecord)).toEqual(token)
  },

  '50 parallel consumes with mixed sessions: exactly one wins, with the bound session': async ({
    store,
    clock,
  }) => {
    const hash = await hashOf('mixed race')
    const sessionHash = await hashOf('the session')
    const wrong = await hashOf('another session')
    await store.tokens.put(newToken(hash, clock, { sessionHash }))
    const now = clock.now()
    const attempts = range(1, 50).map((i) => (i % 2 === 0 ? sessionHash : wrong))
    const results = await Promise.all(
      attempts.map((attempt) => store.tokens.consume(hash, attempt, now)),
    )
    const winners = results.flatMap((result, i) => (result === null ? [] : [attempts[i]]))
    expect(winners).toEqual([sessionHash])
  },

  '20 parallel puts of one hash: exactly one resolves true, the others false': async ({
    store,
    clock,
  }) => {
    const hash = await hashOf('put race')
    const results = await Promise.all(
      range(1, 20).map((i) => store.tokens.put(newToken(hash, clock, { userId: `user-${i}` }))),
    )
    expect(countTrue(results)).toBe(1)
    const winner = `user-${results.indexOf(true) + 1}`
    const consumed = await store.tokens.consume(hash, null, clock.now())
    expect(consumed?.userId).toBe(winner)
  },

  '100 parallel hits with limit 20: exactly 20 allowed, counts are 1..100': async ({
    store,
    clock,
  }) => {
    const now = clock.now()
    const results = await Promise.all(
      range(1, 100).map(() => store.limits.hit('burst', { limit: 20, windowMs: MINUTE }, now)),
    )
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(range(1, 100))
    expect(countTrue(results.map((r) => r.allowed))).toBe(20)
    for (const result of results) {
      expect(result.allowed, `count ${result.count}`).toBe(result.count <= 20)
      expect(result.resetAt).toBe(now + MINUTE)
    }
  },

  'parallel hits on two keys are counted per key': async ({ store, clock }) => {
    const now = clock.now()
    const keys = range(1, 60).map((i) => (i % 2 === 0 ? 'left' : 'right'))
    const results = await Promise.all(
      keys.map((key) => store.limits.hit(key, { limit: 10, windowMs: MINUTE }, now)),
    )
    for (const side of ['left', 'right']) {
      const counts = results.filter((_, i) => keys[i] === side).map((r) => r.count)
      expect(
        counts.sort((a, b) => a - b),
        side,
      ).toEqual(range(1, 30))
    }
  },

  '50 parallel touches: requestCount grows by exactly 50': async ({ store, clock }) => {
    await create(store, newConnection(clock, 'busy'))
    const now = clock.now() + 1_000
    const results = await Promise.all(range(1, 50).map(() => store.connections.touch('busy', now)))
    const counts = results.map((record) => record?.requestCount ?? 0)
    expect(counts.sort((a, b) => a - b)).toEqual(range(1, 50))
    const record = await store.connections.get('busy')
    expect(record?.requestCount).toBe(50)
    expect(record?.lastSeenAt).toBe(now)
  },

  '10 parallel disconnects: exactly one resolves true': async ({ store, clock }) => {
    await create(store, newConnection(clock, 'bye'))
    const now = clock.now() + 1_000
    const results = await Promise.all(
      range(1, 10).map(() => store.connections.disconnect('bye', now)),
    )
    expect(countTrue(results)).toBe(1)
    expect((await store.connections.get('bye'))?.disconnectedAt).toBe(now)
  },

  '10 parallel creates of one id: exactly one resolves true, and its record is kept': async ({
    store,
    clock,
  }) => {
    const attempts = range(1, 10).map((i) =>
      newConnection(clock, 'twin', { userId: `user-${i}`, channels: [`room-${i}`] }),
    )
    const results = await Promise.all(attempts.map((c) => create(store, c)))
    expect(countTrue(results)).toBe(1)
    const winner = attempts[results.indexOf(true)] as Seed
    const record = (await store.connections.get('twin')) as ConnectionRecord
    expect(record.userId).toBe(winner.userId)
    expect(await channelsOf(store, 'twin')).toEqual(winner.channels)
  },

  'parallel subscribes and touches on one connection lose no update': async ({ store, clock }) => {
    await create(store, newConnection(clock, 'hub'))
    const channels = range(1, 10).map((i) => `room-${i}`)
    const now = clock.now()
    await Promise.all([
      ...channels.map((channel) => store.connections.subscribe('hub', channel, MAX)),
      ...range(1, 20).map(() => store.connections.touch('hub', now)),
    ])
    const record = (await store.connections.get('hub')) as ConnectionRecord
    expect(record.requestCount).toBe(20)
    expect((await channelsOf(store, 'hub')).sort()).toEqual([...channels].sort())
    for (const channel of channels) {
      expect(idsOf(await listAll(store, { channel }, 10)), channel).toEqual(['hub'])
    }
  },
})
