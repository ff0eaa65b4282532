/**
 * Checks of `admitMessage`, the stateful part of a message in one call: each outcome with the
 * effects it must leave (a touch kept under a refusing limit) and must not (no hit for an unknown
 * connection), read back through `get` and `limits.hit` as oracles, and the concurrency property
 * a message flood relies on — one connection with limit N admits exactly N, every message counted.
 */
import { expect } from 'vitest'
import type { AdmitMessageRequest, AdmitMessageResult, LimitRule } from '../../store.js'
import {
  connectionFields,
  countTrue,
  create,
  freshRecord,
  group,
  hitsOf,
  MINUTE,
  newConnection,
  range,
} from './helpers.js'

const RULE: LimitRule = { limit: 3, windowMs: MINUTE }

function limited(connectionId: string, rule: LimitRule = RULE): AdmitMessageRequest {
  return { connectionId, limit: { key: `message.connection:${connectionId}`, rule } }
}

function codeOf(result: AdmitMessageResult): string {
  return result.admitted ? 'ADMITTED' : result.code
}

export const admitMessageChecks = group('admitMessage', {
  'admits a connected connection: touches it and counts one hit': async ({ store, clock }) => {
    const seed = newConnection(clock, 'talker', { userId: 'user-3' })
    await create(store, seed)
    clock.advance(1_000)
    const now = clock.now()
    const result = await store.admitMessage(limited('talker'), now)
    const touched = { ...freshRecord(seed), lastSeenAt: now, requestCount: 1 }
    expect(result.admitted).toBe(true)
    if (!result.admitted) return
    expect(connectionFields(result.connection)).toEqual(touched)
    const record = await store.connections.get('talker')
    expect(record && connectionFields(record)).toEqual(touched)
    expect(await hitsOf(store, 'message.connection:talker', now)).toBe(1)
  },

  'without a limit, admits and counts no hit': async ({ store, clock }) => {
    await create(store, newConnection(clock, 'free'))
    const now = clock.now()
    const first = await store.admitMessage({ connectionId: 'free', limit: null }, now)
    const second = await store.admitMessage({ connectionId: 'free', limit: null }, now)
    expect(first.admitted && first.connection.requestCount).toBe(1)
    expect(second.admitted && second.connection.requestCount).toBe(2)
    expect(await hitsOf(store, 'message.connection:free', now)).toBe(0)
  },

  'an unknown or disconnected connection is refused, changing nothing and counting no hit': async ({
    store,
    clock,
  }) => {
    await create(store, newConnection(clock, 'gone'))
    clock.advance(1_000)
    await store.connections.disconnect('gone', clock.now())
    const before = await store.connections.get('gone')
    clock.advance(1_000)
    const now = clock.now()
    for (const id of ['never', 'gone']) {
      expect(await store.admitMessage(limited(id), now), id).toEqual({
        admitted: false,
        code: 'CONNECTION_UNKNOWN',
      })
      expect(await hitsOf(store, `message.connection:${id}`, now), id).toBe(0)
    }
    expect(await store.connections.get('never')).toBeNull()
    expect(await store.connections.get('gone')).toEqual(before)
  },

  'a connection over its limit is refused with the hit, and the touch stays': async ({
    store,
    clock,
  }) => {
    await create(store, newConnection(clock, 'chatty'))
    const start = clock.now()
    for (let i = 0; i < RULE.limit; i += 1) {
      expect(codeOf(await store.admitMessage(limited('chatty'), start))).toBe('ADMITTED')
    }
    clock.advance(5_000)
    const now = clock.now()
    expect(await store.admitMessage(limited('chatty'), now)).toEqual({
      admitted: false,
      code: 'RATE_LIMITED',
      limit: { allowed: false, count: RULE.limit + 1, resetAt: start + MINUTE },
    })
    const record = await store.connections.get('chatty')
    expect(record?.requestCount).toBe(RULE.limit + 1)
    expect(record?.lastSeenAt).toBe(now)
    // The window ends at resetAt: the next message opens a new one and is admitted.
    clock.advance(MINUTE - 5_000)
    const next = await store.admitMessage(limited('chatty'), clock.now())
    expect(next.admitted && next.connection.requestCount).toBe(RULE.limit + 2)
    expect(await hitsOf(store, 'message.connection:chatty', clock.now())).toBe(1)
  },

  '40 parallel messages on one connection with limit 10: exactly 10 admitted, all counted': async ({
    store,
    clock,
  }) => {
    await create(store, newConnection(clock, 'flood'))
    const now = clock.now()
    const rule = { limit: 10, windowMs: MINUTE }
    const results = await Promise.all(
      range(1, 40).map(() => store.admitMessage(limited('flood', rule), now)),
    )
    const codes = results.map(codeOf)
    expect(countTrue(codes.map((c) => c === 'ADMITTED'))).toBe(10)
    expect(countTrue(codes.map((c) => c === 'RATE_LIMITED'))).toBe(30)
    const refused = results.flatMap((r) =>
      !r.admitted && r.code === 'RATE_LIMITED' ? [r.limit.count] : [],
    )
    expect(refused.sort((a, b) => a - b)).toEqual(range(11, 40))
    const touches = results.flatMap((r) => (r.admitted ? [r.connection.requestCount] : []))
    expect(new Set(touches).size, 'each admitted message saw its own count').toBe(10)
    const record = await store.connections.get('flood')
    expect(record?.requestCount).toBe(40)
    expect(await hitsOf(store, 'message.connection:flood', now)).toBe(40)
  },
})
