/**
 * Reconnect delays: exponential backoff with full jitter. Attempt `n` waits a uniformly random
 * time in `[0, min(maxMs, initialMs · 2ⁿ))`, so clients cut off together do not come back
 * together. The random source is injectable for tests.
 */

/** Backoff settings. */
export interface BackoffOptions {
  /** Upper bound of the first delay; default 500 ms. */
  readonly initialMs?: number
  /** Cap on every delay's upper bound; default 30 000 ms. */
  readonly maxMs?: number
}

/** The delay before reconnect attempt `attempt` (0-based), given `random()` in `[0, 1)`. */
export function backoffDelay(
  attempt: number,
  { initialMs = 500, maxMs = 30_000 }: BackoffOptions,
  random: () => number,
): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * ceiling)
}
