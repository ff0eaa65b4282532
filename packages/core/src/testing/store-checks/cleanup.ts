/**
 * Checks of `cleanup`: what it deletes (used and expired tokens, ended windows, connections past
 * either threshold), what it keeps, batches, and idempotence.
 */
import { expect } from 'vitest'
import {
  channelsOf,
  create,
  createAll,
  group,
  HOUR,
  hashOf,
  idsOf,
  listAll,
  MINUTE,
  newConnection,
  newToken,
  range,
  tokenFields,
} from './helpers.js'

/** Thresholds that match no connection, for cleanup checks about tokens and windows. */
function noConnections(batchSize = 100) {
  return { disconnectedBefore: 0, connectedBefore: 0, batchSize }
}

export const cleanupChecks = group('cleanup', {
  'deletes used tokens and tokens with expiresAt <= now, and nothing else': async ({
    store,
    clock,
  }) => {
    const now = clock.now()
    const hashes = {
      expired: await hashOf('expired'),
      boundary: await hashOf('boundary'),
      live: await hashOf('live'),
      used: await hashOf('used'),
    }
    await store.tokens.put(newToken(hashes.expired, clock, { expiresAt: now - 1 }))
    await store.tokens.put(newToken(hashes.boundary, clock, { expiresAt: now }))
    await store.tokens.put(newToken(hashes.live, clock, { expiresAt: now + 1 }))
    await store.tokens.put(newToken(hashes.used, clock, { expiresAt: now + HOUR }))
    expect(await store.tokens.consume(hashes.used, null, now)).not.toBeNull()

    expect(await store.cleanup(noConnections(), now)).toEqual({
      tokens: 3,
      rateLimits: 0,
      connections: 0,
    })
    // A deleted hash can be stored again; a kept one still rejects and still works.
    for (const hash of [hashes.expired, hashes.boundary, hashes.used]) {
      expect(await store.tokens.put(newToken(hash, clock))).toBe(true)
    }
    expect(await store.tokens.put(newToken(hashes.live, clock))).toBe(false)
    expect((await store.tokens.consume(hashes.live, null, now))?.expiresAt).toBe(now + 1)
  },

  'deletes rate-limit windows that ended at or before now': async ({ store, clock }) => {
    const start = clock.now()
    await store.limits.hit('ended', { limit: 5, windowMs: 9_999 }, start)
    await store.limits.hit('boundary', { limit: 5, windowMs: 10_000 }, start)
    await store.limits.hit('live', { limit: 5, windowMs: 10_001 }, start)
    const now = start + 10_000
    expect(await store.cleanup(noConnections(), now)).toEqual({
      tokens: 0,
      rateLimits: 2,
      connections: 0,
    })
    expect(await store.limits.hit('live', { limit: 5, windowMs: 10_001 }, now)).toEqual({
      allowed: true,
      count: 2,
      resetAt: start + 10_001,
    })
  },

  'deletes connections disconnected or connected at or before the thresholds': async ({
    store,
    clock,
  }) => {
    const now = clock.now()
    const connectedBefore = now - 2 * HOUR - MINUTE
    const disconnectedBefore = now - MINUTE
    const at = (connectedAt: number) => ({ connectedAt, channels: ['room'] })
    await createAll(store, [
      newConnection(clock, 'old-boundary', at(connectedBefore)),
      newConnection(clock, 'old', at(connectedBefore - 1)),
      newConnection(clock, 'young', at(connectedBefore + 1)),
      newConnection(clock, 'closed-boundary', at(now - 10 * MINUTE)),
      newConnection(clock, 'closed-recent', at(now - 10 * MINUTE)),
      newConnection(clock, 'old-and-closed', at(connectedBefore - 5)),
    ])
    await store.connections.disconnect('closed-boundary', disconnectedBefore)
    await store.connections.disconnect('closed-recent', disconnectedBefore + 1)
    await store.connections.disconnect('old-and-closed', disconnectedBefore - 5)

    expect(
      await store.cleanup({ disconnectedBefore, connectedBefore, batchSize: 100 }, now),
    ).toEqual({ tokens: 0, rateLimits: 0, connections: 4 })
    for (const id of ['old-boundary', 'old', 'closed-boundary', 'old-and-closed']) {
      expect(await store.connections.get(id), id).toBeNull()
    }
    expect((await store.connections.get('young'))?.disconnectedAt).toBeNull()
    expect((await store.connections.get('closed-recent'))?.disconnectedAt).toBe(
      disconnectedBefore + 1,
    )
    expect(idsOf(await listAll(store, { channel: 'room' }, 10))).toEqual(['young'])
    expect(idsOf(await listAll(store, { userId: 'user-1' }, 10))).toEqual(['young'])
    expect(idsOf(await listAll(store, { all: true }, 10))).toEqual(['young'])
    // Deleted means gone everywhere: the id is free again and keeps no old channel.
    expect(await create(store, newConnection(clock, 'old', { channels: ['new'] }))).toBe(true)
    expect(idsOf(await listAll(store, { channel: 'room' }, 10))).toEqual(['young'])
    expect(await channelsOf(store, 'old')).toEqual(['new'])
  },

  'deletes at most batchSize of each kind per call; callers loop until done': async ({
    store,
    clock,
  }) => {
    const now = clock.now()
    for (let i = 0; i < 7; i += 1) {
      await store.tokens.put(newToken(await hashOf(`batch-${i}`), clock, { expiresAt: now }))
      await store.limits.hit(`batch-${i}`, { limit: 1, windowMs: 1 }, now - 1)
    }
    await createAll(
      store,
      range(0, 6).map((i) => newConnection(clock, `batch-${i}`, { connectedAt: now - 3 * HOUR })),
    )
    const request = { disconnectedBefore: now, connectedBefore: now - 2 * HOUR, batchSize: 3 }
    expect(await store.cleanup(request, now)).toEqual({ tokens: 3, rateLimits: 3, connections: 3 })
    expect(await store.cleanup(request, now)).toEqual({ tokens: 3, rateLimits: 3, connections: 3 })
    expect(await store.cleanup(request, now)).toEqual({ tokens: 1, rateLimits: 1, connections: 1 })
    expect(await store.cleanup(request, now)).toEqual({ tokens: 0, rateLimits: 0, connections: 0 })
    expect(idsOf(await listAll(store, { all: true }, 10))).toEqual([])
  },

  'is idempotent and leaves live data alone': async ({ store, clock }) => {
    const now = clock.now()
    const live = newToken(await hashOf('live'), clock)
    await store.tokens.put(live)
    await store.tokens.put(newToken(await hashOf('dead'), clock, { expiresAt: now - 1 }))
    await store.limits.hit('live', { limit: 5, windowMs: MINUTE }, now)
    await store.limits.hit('dead', { limit: 5, windowMs: MINUTE }, now - HOUR)
    await create(store, newConnection(clock, 'live', { channels: ['room'] }))
    await create(store, newConnection(clock, 'dead'))
    await store.connections.disconnect('dead', now - HOUR)
    const request = {
      disconnectedBefore: now - MINUTE,
      connectedBefore: now - 3 * HOUR,
      batchSize: 100,
    }
    expect(await store.cleanup(request, now)).toEqual({ tokens: 1, rateLimits: 1, connections: 1 })
    expect(await store.cleanup(request, now)).toEqual({ tokens: 0, rateLimits: 0, connections: 0 })
    expect(idsOf(await listAll(store, { channel: 'room' }, 10))).toEqual(['live'])
    expect((await store.limits.hit('live', { limit: 5, windowMs: MINUTE }, now)).count).toBe(2)
    const consumed = await store.tokens.consume(live.hash, null, now)
    expect(consumed && tokenFields(consumed)).toEqual(live)
  },
})
