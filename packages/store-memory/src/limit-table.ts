/**
 * The memory store's rate-limit table: one fixed window per key. `hit` counts and decides in one
 * synchronous step, so concurrent hits in a process can never read the same count (the
 * count-then-insert race the reference implementation had). A live window is never dropped to
 * make room: when the table is full, only ended windows are removed, and if none has ended a new
 * key is refused (fails closed) rather than freeing the counter of a limited client.
 */
import type { LimitResult } from '@apigw-ws/core'

interface LimitWindow {
  count: number
  resetAt: number
}

/** Fixed windows by key, bounded by `maxRows` live ones. */
export class LimitTable {
  readonly #maxRows: number
  readonly #onFull: () => void
  readonly #rows = new Map<string, LimitWindow>()
  /**
   * No window in the table ends before this time (a lower bound, kept on every insert). While
   * `now` is below it a full table certainly holds only live windows, so a flood of new keys
   * costs O(1) each instead of a scan each.
   */
  #earliestEnd = Number.POSITIVE_INFINITY

  constructor(maxRows: number, onFull: () => void) {
    this.#maxRows = maxRows
    this.#onFull = onFull
  }

  get size(): number {
    return this.#rows.size
  }

  hit(key: string, limit: number, windowMs: number, now: number): LimitResult {
    const current = this.#rows.get(key)
    if (current !== undefined) {
      if (now >= current.resetAt) {
        current.count = 0
        current.resetAt = now + windowMs
        this.#earliestEnd = Math.min(this.#earliestEnd, current.resetAt)
      }
      current.count += 1
      return { allowed: current.count <= limit, count: current.count, resetAt: current.resetAt }
    }
    if (this.#rows.size >= this.#maxRows && !this.#freeEnded(now)) {
      // Full of live windows: the new key is treated as over its limit, nothing is stored.
      this.#onFull()
      return { allowed: false, count: limit + 1, resetAt: now + windowMs }
    }
    const fresh: LimitWindow = { count: 1, resetAt: now + windowMs }
    this.#rows.set(key, fresh)
    this.#earliestEnd = Math.min(this.#earliestEnd, fresh.resetAt)
    return { allowed: fresh.count <= limit, count: fresh.count, resetAt: fresh.resetAt }
  }

  /** Deletes up to `batchSize` windows that ended at or before `now`. */
  sweep(now: number, batchSize: number): number {
    let deleted = 0
    for (const [key, window] of this.#rows) {
      if (deleted >= batchSize) break
      if (window.resetAt <= now) {
        this.#rows.delete(key)
        deleted += 1
      }
    }
    return deleted
  }

  /** Everything the table holds, as plain data. */
  dump(): unknown {
    return [...this.#rows].map(([key, window]) => ({ key, ...window }))
  }

  /** Deletes every window that ended by `now`; `true` when that freed room. */
  #freeEnded(now: number): boolean {
    if (now < this.#earliestEnd) return false
    let earliest = Number.POSITIVE_INFINITY
    for (const [key, window] of this.#rows) {
      if (window.resetAt <= now) this.#rows.delete(key)
      else earliest = Math.min(earliest, window.resetAt)
    }
    this.#earliestEnd = earliest
    return this.#rows.size < this.#maxRows
  }
}
