/**
 * The clock abstraction. Core reads time only through a `Clock` so tests can move time by hand
 * and stores never read a clock of their own (time reaches them as an argument).
 */

/** A source of the current time in milliseconds since the epoch. */
export interface Clock {
  now(): number
}

/** The wall clock (`Date.now`). */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() })
