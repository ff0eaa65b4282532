/**
 * The memory store's rate-limit table: one fixed window per key. `hit` counts and decides in one
 * synchronous step, so concurrent hits in a process can never read the same count (the
 * count-then-insert race the reference implementation had).
 */
import type { LimitResult } from '@apigw-ws/core'

interface LimitWindow {
  count: number
  readonly resetAt: number
}

/** Windows in the order they started (the eviction order). */
export class LimitTable {
  readonly #maxRows: number
  readonly #onEvict: () => void
  readonly #rows = new Map<string, LimitWindow>()

  constructor(maxRows: number, onEvict: () => void) {
    this.#maxRows = maxRows
    this.#onEvict = onEvict
  }

  get size(): number {
    return this.#rows.size
  }

  hit(key: string, limit: number, windowMs: number, now: number): LimitResult {
    const current = this.#rows.get(key)
    if (current !== undefined && now < current.resetAt) {
      current.count += 1
      return { allowed: current.count <= limit, count: current.count, resetAt: current.resetAt }
    }
    if (current !== undefined) {
      // Re-inserting moves the key to the end, keeping the map ordered by window start.
      this.#rows.delete(key)
    } else if (this.#rows.size >= this.#maxRows) {
      this.#evictOne()
    }
    const fresh: LimitWindow = { count: 1, resetAt: now + windowMs }
    this.#rows.set(key, fresh)
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

  /** Frees the window that started longest ago (with one rule per key, the first to end). */
  #evictOne(): void {
    const key = this.#rows.keys().next().value
    if (key === undefined) return
    this.#rows.delete(key)
    this.#onEvict()
  }
}
