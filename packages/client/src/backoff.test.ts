import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { backoffDelay } from './backoff.js'

describe('backoffDelay', () => {
  test.prop([
    fc.integer({ min: 0, max: 10_000 }),
    fc.integer({ min: 1, max: 60_000 }),
    fc.integer({ min: 1, max: 600_000 }),
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  ])('stays within [0, min(max, initial·2^attempt))', (attempt, initialMs, maxMs, r) => {
    const delay = backoffDelay(attempt, { initialMs, maxMs }, () => r)
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30))
    expect(Number.isInteger(delay)).toBe(true)
    expect(delay).toBeGreaterThanOrEqual(0)
    expect(delay).toBeLessThan(Math.max(ceiling, 1))
  })

  it('uses the whole range (full jitter), doubling up to the cap', () => {
    expect(backoffDelay(0, {}, () => 0)).toBe(0)
    expect([0, 1, 2, 6, 7, 50].map((n) => backoffDelay(n, {}, () => 0.9999))).toEqual([
      499, 999, 1999, 29997, 29997, 29997,
    ])
  })
})
