/**
 * A list that tests can wait on: backends record the integration calls they served, the Lambda
 * integration records invocations, `onEvent` records operator events, and a test waits (bounded)
 * for the item it expects, e.g. `$disconnect` having been served after a client closed, instead
 * of sleeping.
 */
import { WAIT_MS, within } from './ws-client.js'

/** Recorded items and a way to wait for one. */
export interface Recorder<T> {
  /** Everything recorded so far, in order. */
  readonly items: readonly T[]
  /** Records an item and wakes the waiters it satisfies. Bound: usable as a callback. */
  readonly push: (item: T) => void
  /** Resolves the first item (past or future) matching `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (item: T) => boolean, timeoutMs?: number): Promise<T>
}

/** Creates an empty recorder; `what` names its items in timeout messages. */
export function createRecorder<T>(what: string): Recorder<T> {
  const items: T[] = []
  const waiters: { predicate: (item: T) => boolean; resolve: (item: T) => void }[] = []
  return {
    items,
    push(item) {
      items.push(item)
      for (const waiter of [...waiters]) {
        if (waiter.predicate(item)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(item)
        }
      }
    },
    waitFor(predicate, timeoutMs = WAIT_MS) {
      const found = items.find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return within(
        new Promise<T>((resolve) => waiters.push({ predicate, resolve })),
        timeoutMs,
        what,
      )
    },
  }
}
