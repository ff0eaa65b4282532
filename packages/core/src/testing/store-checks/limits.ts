/**
 * Checks of fixed-window rate limits: the window opens at the first hit, every hit counts, a new
 * window starts once `now >= resetAt`, and keys never share counters.
 */
import { expect } from 'vitest'
import { group, MINUTE, range } from './helpers.js'

export const limitChecks = group('limits', {
  'the first hit opens a window of windowMs starting at now': async ({ store, clock }) => {
    const result = await store.limits.hit('first', { limit: 5, windowMs: MINUTE }, clock.now())
    expect(result).toEqual({ allowed: true, count: 1, resetAt: clock.now() + MINUTE })
  },

  'every hit in the window is counted, allowed or not; resetAt stays fixed': async ({
    store,
    clock,
  }) => {
    const rule = { limit: 3, windowMs: MINUTE }
    const resetAt = clock.now() + MINUTE
    const results = []
    for (let i = 0; i < 6; i += 1) {
      results.push(await store.limits.hit('counted', rule, clock.now()))
      clock.advance(1_000)
    }
    expect(results).toEqual(range(1, 6).map((count) => ({ allowed: count <= 3, count, resetAt })))
  },

  'a new window starts with count 1 once now >= resetAt': async ({ store, clock }) => {
    const rule = { limit: 2, windowMs: 10_000 }
    const start = clock.now()
    await store.limits.hit('window', rule, start)
    await store.limits.hit('window', rule, start)
    expect(await store.limits.hit('window', rule, start + 9_999)).toEqual({
      allowed: false,
      count: 3,
      resetAt: start + 10_000,
    })
    expect(await store.limits.hit('window', rule, start + 10_000)).toEqual({
      allowed: true,
      count: 1,
      resetAt: start + 20_000,
    })
    expect((await store.limits.hit('window', rule, start + 19_999)).count).toBe(2)
    // After a gap, the window starts at the hit, not on a grid of earlier windows.
    const late = start + 20_000 + 12_345
    expect(await store.limits.hit('window', rule, late)).toEqual({
      allowed: true,
      count: 1,
      resetAt: late + 10_000,
    })
  },

  'keys are isolated, even when one is a prefix of another': async ({ store, clock }) => {
    const rule = { limit: 2, windowMs: MINUTE }
    const now = clock.now()
    for (let i = 0; i < 5; i += 1) await store.limits.hit('connect:ip:203.0.113.1', rule, now)
    clock.advance(1_000)
    for (const key of ['connect:ip:203.0.113.10', 'connect:user:203.0.113.1', 'connect:ip:']) {
      expect(await store.limits.hit(key, rule, clock.now()), key).toEqual({
        allowed: true,
        count: 1,
        resetAt: clock.now() + MINUTE,
      })
    }
    expect(await store.limits.hit('connect:ip:203.0.113.1', rule, clock.now())).toEqual({
      allowed: false,
      count: 6,
      resetAt: now + MINUTE,
    })
  },
})
