/**
 * Body deadlines of one gateway, kept with one timer instead of one per request. Every read in
 * flight gets the same timeout, so deadlines come in the order reads start: a read is a set
 * entry (insertion order is deadline order), and a single timer, armed for the oldest entry,
 * expires every entry whose deadline passed and re-arms for the next. Watching and finishing a
 * read cost a set insertion and a deletion. The timer is unreferenced where the runtime allows
 * it, so a timer left armed after the last read never keeps a process alive.
 */

/** A read being watched: `done` stops watching it (idempotent). */
export interface Watch {
  done(): void
}

/** The deadline keeper of one gateway. */
export interface Deadlines {
  /** Calls `expire` once `timeoutMs` passed, unless `done` was called first. */
  watch(expire: () => void): Watch
}

interface Entry {
  readonly at: number
  readonly expire: () => void
}

/**
 * Creates the keeper for reads that may take `timeoutMs` each; `now` is a monotonic clock in
 * milliseconds.
 */
export function createDeadlines(
  timeoutMs: number,
  now: () => number = () => performance.now(),
): Deadlines {
  const entries = new Set<Entry>()
  let timer: ReturnType<typeof setTimeout> | null = null

  function arm(): void {
    if (timer !== null) return
    const first = entries.values().next()
    if (first.done) return
    timer = setTimeout(sweep, Math.max(0, first.value.at - now()))
    ;(timer as { unref?: () => void }).unref?.()
  }

  function sweep(): void {
    timer = null
    const t = now()
    for (const entry of entries) {
      if (entry.at > t) break
      entries.delete(entry)
      entry.expire()
    }
    arm()
  }

  return {
    watch(expire) {
      const entry: Entry = { at: now() + timeoutMs, expire }
      entries.add(entry)
      arm()
      return { done: () => void entries.delete(entry) }
    },
  }
}
