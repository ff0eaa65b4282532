/**
 * The fake clock for tests: a `Clock` whose time moves only when the test says so. Core reads
 * time only through a `Clock` and stores receive time as an argument, so a test that owns the
 * clock can step across TTL and rate-limit boundaries to the millisecond without sleeping.
 */
import type { Clock } from '../clock.js'

/** A `Clock` moved by hand. Times are integer milliseconds since the epoch. */
export interface FakeClock extends Clock {
  /** The current fake time. Never changes on its own. */
  now(): number
  /**
   * Jumps to `ms` (or the `Date`'s time). Going backwards is allowed, to test clock skew.
   * Throws `TypeError` unless the time is a non-negative safe integer.
   */
  set(ms: number | Date): void
  /**
   * Moves time forward by `ms`. Throws `TypeError` for negative, fractional, non-finite or
   * non-number steps, and when the result would leave the safe-integer range; the time is then
   * unchanged.
   */
  advance(ms: number): void
}

/** Where a `fakeClock()` starts by default: 2026-01-01T00:00:00.000Z. */
export const FAKE_CLOCK_START: number = Date.UTC(2026, 0, 1)

function toTime(name: string, value: unknown): number {
  const ms = value instanceof Date ? value.getTime() : value
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
    throw new TypeError(`fakeClock: ${name} must be a non-negative integer number of ms or a Date`)
  }
  return ms
}

/**
 * Creates a fake clock starting at `start` (default {@link FAKE_CLOCK_START}). Each call returns
 * an independent clock; there is no shared state. Throws `TypeError` for an invalid start.
 *
 * @example
 * ```ts
 * const clock = fakeClock()
 * const gateway = createGateway({ store, clock, … })
 * clock.advance(61_000) // the token issued above has now expired
 * ```
 */
export function fakeClock(start: number | Date = FAKE_CLOCK_START): FakeClock {
  let current = toTime('start', start)
  return Object.freeze({
    now(): number {
      return current
    },
    set(ms: number | Date): void {
      current = toTime('set(ms)', ms)
    },
    advance(ms: number): void {
      if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
        throw new TypeError('fakeClock: advance(ms) needs a non-negative integer number of ms')
      }
      current = toTime('advance(ms) result', current + ms)
    },
  })
}
