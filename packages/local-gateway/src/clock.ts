/**
 * Time and timers for the local gateway. Every timestamp (`connectedAt`, `requestTimeEpoch`,
 * `lastActiveAt`) and every timer that API Gateway would run (idle timeout, maximum connection
 * duration, integration timeout) goes through a `GatewayClock`, so tests drive time by hand with
 * `createManualClock` instead of sleeping.
 */

/** An opaque handle returned by `GatewayClock.setTimeout`. */
export type TimerHandle = unknown

/**
 * The source of time and timers the gateway uses. Implementations must call a callback at most
 * once, never synchronously from `setTimeout` itself, and never after `clearTimeout`.
 */
export interface GatewayClock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Schedules `callback` after `ms` milliseconds of this clock's time. */
  setTimeout(callback: () => void, ms: number): TimerHandle
  /** Cancels a timer; unknown or already fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void
}

/**
 * The wall clock with Node timers. Timers are `unref`'d: an open gateway keeps the process alive
 * through its listening socket, not through pending timeouts.
 */
export const systemClock: GatewayClock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (callback: () => void, ms: number): TimerHandle => {
    const timer = setTimeout(callback, ms)
    timer.unref()
    return timer
  },
  clearTimeout: (handle: TimerHandle): void => {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  },
})

/** A clock whose time only moves when `advance` is called. */
export interface ManualClock extends GatewayClock {
  /**
   * Moves time forward by `ms` and runs every timer that falls due, in due order (timers
   * scheduled by a callback run too when they fall within the advanced span). Synchronous.
   */
  advance(ms: number): void
  /** How many timers are scheduled and not yet fired or cancelled. */
  pending(): number
}

/**
 * Creates a manual clock starting at `startMs` (default: a fixed instant in 2024, so timestamps
 * in tests are reproducible). Single-threaded by nature: callbacks run inside `advance`.
 */
export function createManualClock(startMs = 1_708_326_702_789): ManualClock {
  let now = startMs
  let nextId = 1
  const timers = new Map<number, { due: number; callback: () => void }>()

  return {
    now: () => now,
    setTimeout(callback, ms) {
      const id = nextId++
      timers.set(id, { due: now + Math.max(0, ms), callback })
      return id
    },
    clearTimeout(handle) {
      if (typeof handle === 'number') timers.delete(handle)
    },
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError('advance(ms) needs a non-negative number')
      const target = now + ms
      for (;;) {
        let nextKey: number | undefined
        let nextDue = Number.POSITIVE_INFINITY
        for (const [key, timer] of timers) {
          if (timer.due <= target && timer.due < nextDue) {
            nextDue = timer.due
            nextKey = key
          }
        }
        if (nextKey === undefined) break
        const timer = timers.get(nextKey)
        timers.delete(nextKey)
        now = Math.max(now, nextDue)
        timer?.callback()
      }
      now = target
    },
    pending: () => timers.size,
  }
}
