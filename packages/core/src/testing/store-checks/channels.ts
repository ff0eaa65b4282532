/**
 * Checks of channel bookkeeping: `subscribe` (ordered, idempotent, bounded by `maxChannels`),
 * `unsubscribe` (which frees a place), `channels` (read on demand), and that `touch` and `get`
 * carry no channels, so a message costs the same however many channels a connection is in.
 */
import { expect } from 'vitest'
import {
  channelsOf,
  countTrue,
  create,
  group,
  idsOf,
  listAll,
  MAX,
  newConnection,
  range,
} from './helpers.js'

export const channelChecks = group('channels', {
  'subscribe appends channels in order; a repeat resolves subscribed and changes nothing': async ({
    store,
    clock,
  }) => {
    await create(store, newConnection(clock, 'sub', { channels: ['first'] }))
    expect(await store.connections.subscribe('sub', 'zeta', MAX)).toBe('subscribed')
    expect(await store.connections.subscribe('sub', 'alpha', MAX)).toBe('subscribed')
    expect(await store.connections.subscribe('sub', 'first', MAX)).toBe('subscribed')
    expect(await store.connections.subscribe('sub', 'zeta', MAX)).toBe('subscribed')
    expect(await channelsOf(store, 'sub')).toEqual(['first', 'zeta', 'alpha'])
  },

  'subscribe resolves gone for unknown and disconnected ids, changing nothing': async ({
    store,
    clock,
  }) => {
    expect(await store.connections.subscribe('nobody', 'room', MAX)).toBe('gone')
    expect(await store.connections.get('nobody')).toBeNull()
    expect(await channelsOf(store, 'nobody')).toEqual([])
    await create(store, newConnection(clock, 'closed', { channels: ['old'] }))
    await store.connections.disconnect('closed', clock.now())
    expect(await store.connections.subscribe('closed', 'room', MAX)).toBe('gone')
    expect(await channelsOf(store, 'closed')).toEqual(['old'])
    expect(idsOf(await listAll(store, { channel: 'room' }, 10))).toEqual([])
  },

  'subscribe refuses a channel beyond maxChannels, counting the initial ones': async ({
    store,
    clock,
  }) => {
    await create(store, newConnection(clock, 'full', { channels: ['a', 'b'] }))
    expect(await store.connections.subscribe('full', 'c', 3)).toBe('subscribed')
    expect(await store.connections.subscribe('full', 'd', 3)).toBe('limit')
    // A channel it already has is not a new place: still subscribed, at the limit.
    expect(await store.connections.subscribe('full', 'b', 3)).toBe('subscribed')
    expect(await channelsOf(store, 'full')).toEqual(['a', 'b', 'c'])
    expect(idsOf(await listAll(store, { channel: 'd' }, 10))).toEqual([])
  },

  'unsubscribe removes a channel, resolves whether it was there, and frees its place': async ({
    store,
    clock,
  }) => {
    await create(store, newConnection(clock, 'unsub', { channels: ['a', 'b', 'c'] }))
    expect(await store.connections.subscribe('unsub', 'd', 3)).toBe('limit')
    expect(await store.connections.unsubscribe('unsub', 'b')).toBe(true)
    expect(await store.connections.unsubscribe('unsub', 'b')).toBe(false)
    expect(await store.connections.unsubscribe('unsub', 'never')).toBe(false)
    expect(await store.connections.unsubscribe('nobody', 'a')).toBe(false)
    expect(await channelsOf(store, 'unsub')).toEqual(['a', 'c'])
    expect(await store.connections.subscribe('unsub', 'd', 3)).toBe('subscribed')
    expect(await store.connections.subscribe('unsub', 'e', 3)).toBe('limit')
    expect(await channelsOf(store, 'unsub')).toEqual(['a', 'c', 'd'])
  },

  'a connection in several channels is listed under each until it leaves one': async ({
    store,
    clock,
  }) => {
    await create(store, newConnection(clock, 'multi', { channels: ['one'] }))
    await store.connections.subscribe('multi', 'two', MAX)
    await store.connections.subscribe('multi', 'three', MAX)
    for (const channel of ['one', 'two', 'three']) {
      expect(idsOf(await listAll(store, { channel }, 10)), channel).toEqual(['multi'])
    }
    await store.connections.unsubscribe('multi', 'two')
    expect(idsOf(await listAll(store, { channel: 'two' }, 10))).toEqual([])
    expect(idsOf(await listAll(store, { channel: 'one' }, 10))).toEqual(['multi'])
    expect(idsOf(await listAll(store, { channel: 'three' }, 10))).toEqual(['multi'])
  },

  'touch, get and list records carry no channels': async ({ store, clock }) => {
    await create(store, newConnection(clock, 'lean', { channels: ['room-1', 'room-2'] }))
    const touched = await store.connections.touch('lean', clock.now())
    const got = await store.connections.get('lean')
    const [listed] = (await store.connections.list({ channel: 'room-1' }, { limit: 1 })).items
    for (const record of [touched, got, listed]) {
      expect(record).toBeTruthy()
      expect(Object.keys(record as object)).not.toContain('channels')
    }
  },

  '40 parallel subscribes with maxChannels 10: exactly 10 places are taken': {
    timeoutMs: 30_000,
    run: async ({ store, clock }) => {
      await create(store, newConnection(clock, 'crowd', { channels: ['lobby'] }))
      const channels = range(1, 40).map((i) => `room-${i}`)
      const results = await Promise.all(
        channels.map((channel) => store.connections.subscribe('crowd', channel, 10)),
      )
      expect(countTrue(results.map((r) => r === 'subscribed'))).toBe(9)
      expect(countTrue(results.map((r) => r === 'limit'))).toBe(31)
      const held = await channelsOf(store, 'crowd')
      expect(held).toHaveLength(10)
      expect(held[0]).toBe('lobby')
      const won = channels.filter((_, i) => results[i] === 'subscribed')
      expect([...held.slice(1)].sort()).toEqual([...won].sort())
    },
  },

  '30 parallel subscribes of one channel at the last place: all subscribed, one place taken':
    async ({ store, clock }) => {
      await create(store, newConnection(clock, 'same', { channels: ['a', 'b'] }))
      const results = await Promise.all(
        range(1, 30).map(() => store.connections.subscribe('same', 'c', 3)),
      )
      expect(results.every((r) => r === 'subscribed')).toBe(true)
      expect(await channelsOf(store, 'same')).toEqual(['a', 'b', 'c'])
      expect(await store.connections.subscribe('same', 'd', 3)).toBe('limit')
    },

  'parallel subscribes and unsubscribes keep the count exact': async ({ store, clock }) => {
    const initial = range(1, 5).map((i) => `old-${i}`)
    await create(store, newConnection(clock, 'churn', { channels: initial }))
    const fresh = range(1, 10).map((i) => `new-${i}`)
    const [left, joined] = await Promise.all([
      Promise.all(initial.map((channel) => store.connections.unsubscribe('churn', channel))),
      Promise.all(fresh.map((channel) => store.connections.subscribe('churn', channel, 10))),
    ])
    expect(left.every(Boolean)).toBe(true)
    const taken = countTrue(joined.map((r) => r === 'subscribed'))
    // Between 5 (no place freed yet) and 10 (every place freed first) joined; never more.
    expect(taken).toBeGreaterThanOrEqual(5)
    expect(await channelsOf(store, 'churn')).toHaveLength(taken)
    // The count agrees with the rows: exactly the free places are still free.
    const extra = range(1, 20).map((i) => `extra-${i}`)
    const more = await Promise.all(
      extra.map((channel) => store.connections.subscribe('churn', channel, 10)),
    )
    expect(countTrue(more.map((r) => r === 'subscribed'))).toBe(10 - taken)
  },
})
