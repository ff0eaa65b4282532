import { memoryStore } from '@apigw-ws/store-memory'
import { describe, expect, it } from 'vitest'
import {
  admitBySteps,
  admitMessageBySteps,
  defineStore,
  isStore,
  STORE_BRAND,
} from './define-store.js'
import { createGateway } from './gateway.js'
import type { AdmitRequest, Store, StoreParts } from './store.js'

const NOW = Date.UTC(2026, 0, 1)
const HASH = 'a'.repeat(64)

/** The parts of a fresh memory store, as a plain (unbranded) object. */
function plainParts(): StoreParts & { admit?: Store['admit'] } {
  const store = memoryStore()
  return {
    connections: { ...store.connections },
    tokens: { ...store.tokens },
    limits: { ...store.limits },
    cleanup: store.cleanup,
  }
}

const REQUEST: AdmitRequest = {
  ipLimit: null,
  tokenHash: HASH,
  sessionHash: null,
  channel: null,
  userLimit: null,
  connection: { connectionId: 'c1', apiId: null, stage: null, domainName: null },
}

describe('defineStore', () => {
  it('names every missing method at once', () => {
    const parts = plainParts()
    const broken = {
      ...parts,
      connections: { ...parts.connections, channels: undefined },
      limits: {},
      cleanup: 'no',
    }
    expect(() => defineStore(broken as never)).toThrow(
      new TypeError(
        'defineStore: missing or not a function: connections.channels, limits.hit, cleanup',
      ),
    )
    expect(() => defineStore({ ...parts, admit: 5 } as never)).toThrow(/admit/)
    expect(() => defineStore({ ...parts, admitMessage: 'no' } as never)).toThrow(
      new TypeError('defineStore: missing or not a function: admitMessage'),
    )
    expect(() => defineStore(null as never)).toThrow(TypeError)
  })

  it('freezes and brands the result; a branded store is returned as it is', () => {
    const store = defineStore(plainParts())
    expect(isStore(store)).toBe(true)
    expect((store as unknown as Record<symbol, unknown>)[Symbol.for('@apigw-ws/core.store')]).toBe(
      true,
    )
    expect(STORE_BRAND).toBe(Symbol.for('@apigw-ws/core.store'))
    expect(Object.isFrozen(store)).toBe(true)
    expect(Object.isFrozen(store.connections)).toBe(true)
    expect(defineStore(store)).toBe(store)
    expect(isStore(plainParts())).toBe(false)
    expect(isStore({ [Symbol.for('@apigw-ws/core.store')]: 'yes' })).toBe(false)
  })

  it('composes admit from the parts when the store has none', async () => {
    const store = defineStore(plainParts())
    await store.tokens.put({
      hash: HASH,
      userId: 'u1',
      sessionHash: null,
      channel: null,
      expiresAt: NOW + 1,
    })
    const result = await store.admit(REQUEST, NOW)
    expect(result).toMatchObject({ admitted: true, channel: null, token: { userId: 'u1' } })
    expect((await store.connections.get('c1'))?.userId).toBe('u1')
    expect(await store.admit(REQUEST, NOW)).toEqual({ admitted: false, code: 'TOKEN_INVALID' })
  })

  it('uses a native admit when the store has one, with its arguments checked', async () => {
    const seen: unknown[] = []
    const parts = plainParts()
    const store = defineStore({
      ...parts,
      admit: async (request, now) => {
        seen.push(request, now)
        return { admitted: false, code: 'TOKEN_INVALID' }
      },
    })
    expect(await store.admit(REQUEST, NOW)).toEqual({ admitted: false, code: 'TOKEN_INVALID' })
    expect(seen).toEqual([REQUEST, NOW])
    await expect(store.admit({ ...REQUEST, tokenHash: 'raw-token' }, NOW)).rejects.toThrow(
      /admit: tokenHash/,
    )
    expect(seen).toHaveLength(2)
  })

  it('admitBySteps stops at the first refusal and leaves later steps untouched', async () => {
    const store = defineStore(plainParts())
    const admit = admitBySteps(store)
    const rule = { limit: 0, windowMs: 1_000 }
    const result = await admit({ ...REQUEST, ipLimit: { key: 'ip', rule } }, NOW)
    expect(result).toMatchObject({ admitted: false, code: 'RATE_LIMITED', scope: 'ip' })
    expect(await store.connections.get('c1')).toBeNull()
  })

  it('composes admitMessage from touch and hit when the store has none', async () => {
    const store = defineStore(plainParts())
    const limit = { key: 'message.connection:c2', rule: { limit: 1, windowMs: 1_000 } }
    expect(await store.admitMessage({ connectionId: 'c2', limit }, NOW)).toEqual({
      admitted: false,
      code: 'CONNECTION_UNKNOWN',
    })
    const connection = { ...REQUEST.connection, connectionId: 'c2', userId: 'u2', channels: [] }
    await store.connections.create(connection, NOW)
    const first = await store.admitMessage({ connectionId: 'c2', limit }, NOW + 1)
    expect(first).toMatchObject({ admitted: true, connection: { userId: 'u2', requestCount: 1 } })
    expect(await store.admitMessage({ connectionId: 'c2', limit }, NOW + 2)).toEqual({
      admitted: false,
      code: 'RATE_LIMITED',
      limit: { allowed: false, count: 2, resetAt: NOW + 1_001 },
    })
    expect((await store.connections.get('c2'))?.requestCount).toBe(2)
  })

  it('uses a native admitMessage when the store has one, with its arguments checked', async () => {
    const seen: unknown[] = []
    const store = defineStore({
      ...plainParts(),
      admitMessage: async (request, now) => {
        seen.push(request, now)
        return { admitted: false, code: 'CONNECTION_UNKNOWN' }
      },
    })
    const request = { connectionId: 'c3', limit: null }
    expect(await store.admitMessage(request, NOW)).toEqual({
      admitted: false,
      code: 'CONNECTION_UNKNOWN',
    })
    expect(seen).toEqual([request, NOW])
    const bad: [unknown, RegExp][] = [
      [{ connectionId: 'no spaces', limit: null }, /admitMessage: connectionId/],
      [{ connectionId: 'c3', limit: { key: '', rule: { limit: 1, windowMs: 1 } } }, /limit\.key/],
      [
        { connectionId: 'c3', limit: { key: 'k', rule: { limit: -1, windowMs: 1 } } },
        /limit\.rule/,
      ],
      [{ connectionId: 'c3' }, /admitMessage: limit must be an object/],
    ]
    for (const [args, message] of bad) {
      await expect(store.admitMessage(args as never, NOW)).rejects.toThrow(message)
    }
    expect(seen).toHaveLength(2)
  })

  it('admitMessageBySteps counts no hit for an unknown connection', async () => {
    const store = defineStore(plainParts())
    const limit = { key: 'k', rule: { limit: 5, windowMs: 1_000 } }
    const admitMessage = admitMessageBySteps(store)
    expect(await admitMessage({ connectionId: 'nobody', limit }, NOW)).toMatchObject({
      code: 'CONNECTION_UNKNOWN',
    })
    expect((await store.limits.hit('k', limit.rule, NOW)).count).toBe(1)
  })

  it.each([
    ['list with limit 0', (s: Store) => s.connections.list({ all: true }, { limit: 0 })],
    [
      'list with a fractional limit',
      (s: Store) => s.connections.list({ all: true }, { limit: 1.5 }),
    ],
    [
      'list with a numeric cursor',
      (s: Store) => s.connections.list({ all: true }, { cursor: 3 as never, limit: 1 }),
    ],
    [
      'list with two selectors',
      (s: Store) => s.connections.list({ all: true, userId: 'u' } as never, { limit: 1 }),
    ],
    ['list with no selector', (s: Store) => s.connections.list({} as never, { limit: 1 })],
    [
      'list with all: false',
      (s: Store) => s.connections.list({ all: false } as never, { limit: 1 }),
    ],
    ['touch at NaN', (s: Store) => s.connections.touch('c1', Number.NaN)],
    ['touch of an invalid id', (s: Store) => s.connections.touch('../c1', NOW)],
    [
      'disconnect at Infinity',
      (s: Store) => s.connections.disconnect('c1', Number.POSITIVE_INFINITY),
    ],
    ['subscribe to an invalid channel', (s: Store) => s.connections.subscribe('c1', 'a b', 10)],
    ['subscribe with maxChannels 0', (s: Store) => s.connections.subscribe('c1', 'a', 0)],
    [
      'create with a repeated channel',
      (s: Store) =>
        s.connections.create(
          {
            connectionId: 'c1',
            userId: null,
            channels: ['a', 'a'],
            apiId: null,
            stage: null,
            domainName: null,
          },
          NOW,
        ),
    ],
    [
      'put of a hash that is not hex SHA-256',
      (s: Store) =>
        s.tokens.put({
          hash: 'token',
          userId: 'u',
          sessionHash: null,
          channel: null,
          expiresAt: NOW,
        }),
    ],
    ['consume at NaN', (s: Store) => s.tokens.consume(HASH, null, Number.NaN)],
    [
      'hit with a NaN window',
      (s: Store) => s.limits.hit('k', { limit: 1, windowMs: Number.NaN }, NOW),
    ],
    ['hit with a zero window', (s: Store) => s.limits.hit('k', { limit: 1, windowMs: 0 }, NOW)],
    [
      'hit with a NaN limit',
      (s: Store) => s.limits.hit('k', { limit: Number.NaN, windowMs: 1 }, NOW),
    ],
    [
      'cleanup with batchSize 0',
      (s: Store) => s.cleanup({ disconnectedBefore: 0, connectedBefore: 0, batchSize: 0 }, NOW),
    ],
    ['admit at NaN', (s: Store) => s.admit(REQUEST, Number.NaN)],
    [
      'admitMessage at NaN',
      (s: Store) => s.admitMessage({ connectionId: 'c1', limit: null }, Number.NaN),
    ],
  ])(
    '%s rejects with TypeError (a rejected promise, never a synchronous throw)',
    async (_, call) => {
      const store = defineStore(plainParts())
      let result: Promise<unknown> | undefined
      expect(() => {
        result = call(store)
      }).not.toThrow()
      await expect(result).rejects.toThrow(TypeError)
    },
  )
})

describe('createGateway and the store', () => {
  const options = {
    allowedOrigins: [],
    allowMissingOrigin: true,
    integrationSecret: 'define-store-test-secret-0123456789',
  }

  it('runs a plain store through defineStore, refusing one that lacks a method', () => {
    const parts = plainParts()
    expect(() => createGateway({ ...options, store: parts })).not.toThrow()
    const broken = { ...parts, connections: { ...parts.connections, subscribe: undefined } }
    expect(() => createGateway({ ...options, store: broken as never })).toThrow(
      /store: defineStore: missing or not a function: connections\.subscribe/,
    )
  })
})
