import { memoryStore } from '@apigw-ws/store-memory'
import { describe, expect, it } from 'vitest'
import { cleanupStore } from '../index.js'

describe('cleanupStore', () => {
  it('sweeps expired tokens, ended windows and old connections in batches', async () => {
    const store = memoryStore()
    const now = 1_700_000_000_000
    for (let i = 0; i < 7; i++) {
      await store.tokens.put({
        hash: i.toString(16).padStart(64, '0'),
        userId: 'u',
        sessionHash: null,
        channel: null,
        expiresAt: now - 1,
      })
      await store.limits.hit(`k${i}`, { limit: 1, windowMs: 10 }, now - 100)
    }
    await store.connections.create(
      {
        connectionId: 'old',
        userId: 'u',
        channels: [],
        apiId: null,
        stage: null,
        domainName: null,
      },
      now - 3 * 60 * 60 * 1000,
    )
    await store.connections.create(
      {
        connectionId: 'new',
        userId: 'u',
        channels: [],
        apiId: null,
        stage: null,
        domainName: null,
      },
      now,
    )
    const counts = await cleanupStore(store, { now, batchSize: 3 })
    expect(counts).toEqual({ tokens: 7, rateLimits: 7, connections: 1 })
    expect(await store.connections.get('new')).not.toBeNull()
    expect(await store.connections.get('old')).toBeNull()
    expect(await cleanupStore(store, { now, batchSize: 3 })).toEqual({
      tokens: 0,
      rateLimits: 0,
      connections: 0,
    })
  })

  it('refuses invalid retention and times', async () => {
    const store = memoryStore()
    await expect(cleanupStore(store, { staleConnectionMs: -1 })).rejects.toThrow(TypeError)
    await expect(cleanupStore(store, { now: Number.NaN })).rejects.toThrow(TypeError)
    await expect(cleanupStore(store, { batchSize: 0 })).rejects.toThrow(TypeError)
  })
})
