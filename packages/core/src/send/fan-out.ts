/**
 * The fan-out engine: streams recipients from a paged source into a fixed pool of workers. At
 * most two pages are held at once (the one being sent and the next, fetched ahead so workers do
 * not stall at page boundaries), so a broadcast to 100,000 connections uses the memory of 1,000
 * records at the default page size. Knows nothing about messages or transports.
 */
import type { Page } from '../store.js'

/** What one fan-out needs. */
export interface FanOutSpec<T> {
  /** Fetches the page after `cursor` (`null` for the first). */
  readonly list: (cursor: string | null) => Promise<Page<T>>
  /** Number of workers, hence the maximum of `run` calls in flight at once. */
  readonly concurrency: number
  /** Checked before each page is fetched and before each item starts. */
  readonly isStopped: () => boolean
  /** Handles one item. Must not throw: failures are the caller's to record. */
  readonly run: (item: T) => Promise<void>
  /** Called instead of `run` for an item already listed when the fan-out stopped. */
  readonly skip: (item: T) => void
}

type Fetched<T> =
  | { readonly ok: true; readonly page: Page<T> }
  | { readonly ok: false; readonly error: unknown }

/**
 * Runs `spec.run` for every listed item with at most `spec.concurrency` in flight. Resolves
 * `{ stoppedEarly }` once every started item has settled; `stoppedEarly` is `true` when
 * `isStopped` cut the fan-out short (items skipped or pages left unread). If `list` rejects, no
 * further item starts, the ones in flight settle, and the call rejects with that error.
 */
export async function fanOut<T>(spec: FanOutSpec<T>): Promise<{ stoppedEarly: boolean }> {
  if (spec.isStopped()) return { stoppedEarly: true }

  const fetchPage = (cursor: string | null): Promise<Fetched<T>> =>
    spec.list(cursor).then(
      (page) => ({ ok: true, page }),
      (error: unknown) => ({ ok: false, error }),
    )

  let items: readonly T[] = []
  let index = 0
  let upcoming: Promise<Fetched<T>> | null = fetchPage(null)
  let failure: { readonly error: unknown } | null = null
  let stoppedEarly = false

  // Workers share one reader. JavaScript runs one continuation at a time, so the worker that
  // resumes first after a page arrives installs it and the others see it already installed.
  async function next(): Promise<T | undefined> {
    for (;;) {
      if (failure !== null) return undefined
      if (index < items.length) return items[index++]
      if (upcoming === null) return undefined
      if (spec.isStopped()) {
        stoppedEarly = true
        return undefined
      }
      const pending: Promise<Fetched<T>> = upcoming
      const fetched = await pending
      if (upcoming !== pending) continue
      if (!fetched.ok) {
        failure = fetched
        upcoming = null
        return undefined
      }
      items = fetched.page.items
      index = 0
      upcoming = fetched.page.nextCursor === null ? null : fetchPage(fetched.page.nextCursor)
    }
  }

  async function worker(): Promise<void> {
    for (let item = await next(); item !== undefined; item = await next()) {
      if (spec.isStopped()) {
        stoppedEarly = true
        spec.skip(item)
      } else {
        await spec.run(item)
      }
    }
  }

  await Promise.all(Array.from({ length: spec.concurrency }, worker))
  // A page fetched ahead but never read is awaited so no store call outlives the send.
  const leftover: Promise<Fetched<T>> | null = upcoming
  if (leftover !== null) {
    stoppedEarly = true
    await leftover
  }
  if (failure !== null) throw (failure as { readonly error: unknown }).error
  return { stoppedEarly }
}
