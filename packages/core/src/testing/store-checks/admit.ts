/**
 * Checks of `admit`, the stateful part of `$connect` in one call: each outcome with the effects
 * the steps before it leave (a counted hit, a used token) and those after it do not, and the
 * concurrency properties a connect flood relies on — one token admits one connection, and the
 * address and user limits admit exactly their limit.
 */
import { expect } from 'vitest'
import type { AdmitRequest, AdmitResult, LimitRule, Store } from '../../store.js'
import type { FakeClock } from '../fake-clock.js'
import {
  channelsOf,
  connectionFields,
  countTrue,
  group,
  hashOf,
  hitsOf,
  MINUTE,
  newToken,
  range,
} from './helpers.js'

const RULE: LimitRule = { limit: 5, windowMs: MINUTE }
const IP_KEY = 'connect.ip:203.0.113.7'
const USER_PREFIX = 'connect.user:'

function admitRequest(
  connectionId: string,
  tokenHash: string,
  overrides: Partial<AdmitRequest> = {},
): AdmitRequest {
  return {
    ipLimit: { key: IP_KEY, rule: RULE },
    tokenHash,
    sessionHash: null,
    channel: null,
    userLimit: { keyPrefix: USER_PREFIX, rule: RULE },
    connection: {
      connectionId,
      apiId: 'a1b2c3d4e5',
      stage: 'prod',
      domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
    },
    ...overrides,
  }
}

/** Stores a fresh token for `userId` and returns its hash. */
async function tokenFor(
  store: Store,
  clock: FakeClock,
  label: string,
  fields: { userId?: string; channel?: string | null; sessionHash?: string | null } = {},
): Promise<string> {
  const hash = await hashOf(label)
  expect(await store.tokens.put(newToken(hash, clock, fields))).toBe(true)
  return hash
}

function codeOf(result: AdmitResult): string {
  return result.admitted ? 'ADMITTED' : result.code
}

export const admitChecks = group('admit', {
  'admits: counts both limits, consumes the token, creates the connection': async ({
    store,
    clock,
  }) => {
    const hash = await tokenFor(store, clock, 'admit', { userId: 'user-5', channel: 'room-1' })
    const now = clock.now()
    const result = await store.admit(admitRequest('fresh1', hash), now)
    expect(result.admitted).toBe(true)
    if (!result.admitted) return
    expect(result.channel).toBe('room-1')
    expect(result.token.userId).toBe('user-5')
    expect(result.token.hash).toBe(hash)
    const record = await store.connections.get('fresh1')
    expect(record && connectionFields(record)).toEqual({
      connectionId: 'fresh1',
      userId: 'user-5',
      apiId: 'a1b2c3d4e5',
      stage: 'prod',
      domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
      connectedAt: now,
      lastSeenAt: now,
      requestCount: 0,
      disconnectedAt: null,
    })
    expect(await channelsOf(store, 'fresh1')).toEqual(['room-1'])
    expect(await store.tokens.consume(hash, null, now), 'the token is used').toBeNull()
    expect(await hitsOf(store, IP_KEY, now)).toBe(1)
    expect(await hitsOf(store, `${USER_PREFIX}user-5`, now)).toBe(1)
  },

  'the requested channel is used when the token is bound to none': async ({ store, clock }) => {
    const hash = await tokenFor(store, clock, 'free channel')
    const result = await store.admit(admitRequest('chan1', hash, { channel: 'lobby' }), clock.now())
    expect(result.admitted && result.channel).toBe('lobby')
    expect(await channelsOf(store, 'chan1')).toEqual(['lobby'])
  },

  'without limits nothing is counted and no channel is joined': async ({ store, clock }) => {
    const hash = await tokenFor(store, clock, 'no limits')
    const now = clock.now()
    const request = admitRequest('plain1', hash, { ipLimit: null, userLimit: null })
    const result = await store.admit(request, now)
    expect(result.admitted && result.channel).toBeNull()
    expect(await channelsOf(store, 'plain1')).toEqual([])
    expect(await hitsOf(store, IP_KEY, now)).toBe(0)
    expect(await hitsOf(store, `${USER_PREFIX}user-1`, now)).toBe(0)
  },

  'an address over its limit is refused first: the token stays unused': async ({
    store,
    clock,
  }) => {
    const now = clock.now()
    for (let i = 0; i < RULE.limit; i += 1) await store.limits.hit(IP_KEY, RULE, now)
    const hash = await tokenFor(store, clock, 'ip limited')
    const result = await store.admit(admitRequest('ipx', hash), now)
    expect(result).toEqual({
      admitted: false,
      code: 'RATE_LIMITED',
      scope: 'ip',
      limit: { allowed: false, count: RULE.limit + 1, resetAt: now + MINUTE },
    })
    expect(await store.connections.get('ipx')).toBeNull()
    expect(await store.tokens.consume(hash, null, now), 'still consumable').not.toBeNull()
    expect(await hitsOf(store, `${USER_PREFIX}user-1`, now)).toBe(0)
  },

  'an unusable token is refused after the address hit, before the user hit': async ({
    store,
    clock,
  }) => {
    const now = clock.now()
    const sessionHash = await hashOf('the session')
    const bound = await tokenFor(store, clock, 'bound', { sessionHash })
    const expired = await hashOf('expired')
    await store.tokens.put(newToken(expired, clock, { expiresAt: now }))
    const unknown = await hashOf('never stored')
    const wrongSession = { sessionHash: await hashOf('another session') }
    const attempts = [
      admitRequest('bad1', unknown),
      admitRequest('bad2', expired),
      admitRequest('bad3', bound, wrongSession),
      admitRequest('bad4', bound),
    ]
    for (const request of attempts) {
      expect(await store.admit(request, now)).toEqual({ admitted: false, code: 'TOKEN_INVALID' })
      expect(await store.connections.get(request.connection.connectionId)).toBeNull()
    }
    expect(await hitsOf(store, IP_KEY, now)).toBe(attempts.length)
    expect(await hitsOf(store, `${USER_PREFIX}user-1`, now)).toBe(0)
    const right = await store.admit(
      admitRequest('good1', bound, { sessionHash, ipLimit: null }),
      now,
    )
    expect(codeOf(right), 'the refusals left the bound token unused').toBe('ADMITTED')
  },

  'a token bound to another channel is refused, and used up': async ({ store, clock }) => {
    const hash = await tokenFor(store, clock, 'bound channel', { channel: 'room-a' })
    const now = clock.now()
    const request = admitRequest('mismatch', hash, { channel: 'room-b' })
    expect(await store.admit(request, now)).toEqual({
      admitted: false,
      code: 'TOKEN_CHANNEL_MISMATCH',
    })
    expect(await store.connections.get('mismatch')).toBeNull()
    expect(await hitsOf(store, `${USER_PREFIX}user-1`, now)).toBe(0)
    const again = await store.admit(admitRequest('mismatch', hash, { channel: 'room-a' }), now)
    expect(again).toEqual({ admitted: false, code: 'TOKEN_INVALID' })
  },

  'a user over the limit is refused after the token was used': async ({ store, clock }) => {
    const now = clock.now()
    const key = `${USER_PREFIX}user-1`
    for (let i = 0; i < RULE.limit; i += 1) await store.limits.hit(key, RULE, now)
    const hash = await tokenFor(store, clock, 'user limited')
    const result = await store.admit(admitRequest('userx', hash), now)
    expect(result).toEqual({
      admitted: false,
      code: 'RATE_LIMITED',
      scope: 'user',
      limit: { allowed: false, count: RULE.limit + 1, resetAt: now + MINUTE },
    })
    expect(await store.connections.get('userx')).toBeNull()
    expect(await store.tokens.consume(hash, null, now), 'used').toBeNull()
  },

  'a known connection id is refused as a duplicate and left as it was': async ({
    store,
    clock,
  }) => {
    const first = await tokenFor(store, clock, 'first', { userId: 'owner' })
    await store.admit(admitRequest('taken', first, { channel: 'room-1' }), clock.now())
    const before = await store.connections.get('taken')
    clock.advance(1_000)
    const second = await tokenFor(store, clock, 'second', { userId: 'intruder' })
    const result = await store.admit(
      admitRequest('taken', second, { channel: 'room-2' }),
      clock.now(),
    )
    expect(result).toEqual({ admitted: false, code: 'CONNECTION_DUPLICATE' })
    expect(await store.connections.get('taken')).toEqual(before)
    expect(await channelsOf(store, 'taken')).toEqual(['room-1'])
  },

  '20 parallel admits with one token: exactly one admitted, the rest TOKEN_INVALID': async ({
    store,
    clock,
  }) => {
    const hash = await tokenFor(store, clock, 'contested')
    const now = clock.now()
    const results = await Promise.all(
      range(1, 20).map((i) =>
        store.admit(admitRequest(`racer${i}`, hash, { ipLimit: null, userLimit: null }), now),
      ),
    )
    const codes = results.map(codeOf)
    expect(countTrue(codes.map((c) => c === 'ADMITTED'))).toBe(1)
    expect(countTrue(codes.map((c) => c === 'TOKEN_INVALID'))).toBe(19)
    const page = await store.connections.list({ all: true }, { limit: 100 })
    expect(page.items).toHaveLength(1)
  },

  '30 parallel admits from one address with limit 10: exactly 10 admitted': async ({
    store,
    clock,
  }) => {
    const hashes = await Promise.all(
      range(1, 30).map((i) => tokenFor(store, clock, `ip flood ${i}`, { userId: `user-${i}` })),
    )
    const now = clock.now()
    const ipLimit = { key: IP_KEY, rule: { limit: 10, windowMs: MINUTE } }
    const results = await Promise.all(
      hashes.map((hash, i) => store.admit(admitRequest(`ip${i}`, hash, { ipLimit }), now)),
    )
    const codes = results.map(codeOf)
    expect(countTrue(codes.map((c) => c === 'ADMITTED'))).toBe(10)
    expect(countTrue(codes.map((c) => c === 'RATE_LIMITED'))).toBe(20)
    expect(await hitsOf(store, IP_KEY, now)).toBe(30)
  },

  '30 parallel admits of one user with limit 10: exactly 10 admitted': async ({ store, clock }) => {
    const hashes = await Promise.all(
      range(1, 30).map((i) => tokenFor(store, clock, `user flood ${i}`, { userId: 'flooder' })),
    )
    const now = clock.now()
    const userLimit = { keyPrefix: USER_PREFIX, rule: { limit: 10, windowMs: MINUTE } }
    const results = await Promise.all(
      hashes.map((hash, i) =>
        store.admit(admitRequest(`u${i}`, hash, { ipLimit: null, userLimit }), now),
      ),
    )
    const codes = results.map(codeOf)
    expect(countTrue(codes.map((c) => c === 'ADMITTED'))).toBe(10)
    expect(countTrue(codes.map((c) => c === 'RATE_LIMITED'))).toBe(20)
    const page = await store.connections.list({ userId: 'flooder' }, { limit: 100 })
    expect(page.items).toHaveLength(10)
  },

  '10 parallel admits of one connection id: exactly one admitted, the rest duplicates': async ({
    store,
    clock,
  }) => {
    const hashes = await Promise.all(
      range(1, 10).map((i) => tokenFor(store, clock, `twin ${i}`, { userId: `user-${i}` })),
    )
    const now = clock.now()
    const results = await Promise.all(
      hashes.map((hash) =>
        store.admit(admitRequest('twin', hash, { ipLimit: null, userLimit: null }), now),
      ),
    )
    const codes = results.map(codeOf)
    expect(countTrue(codes.map((c) => c === 'ADMITTED'))).toBe(1)
    expect(countTrue(codes.map((c) => c === 'CONNECTION_DUPLICATE'))).toBe(9)
    const winner = results.find((r) => r.admitted)
    expect((await store.connections.get('twin'))?.userId).toBe(
      winner?.admitted ? winner.token.userId : 'none',
    )
  },
})
