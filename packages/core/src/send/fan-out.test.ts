import { describe, expect, it } from 'vitest'
import type { Page } from '../store.js'
import { fanOut } from './fan-out.js'

/** A source of `total` numbered items in pages of `size`, recording what was listed. */
function pagedSource(total: number, size: number) {
  const cursors: (string | null)[] = []
  const list = async (cursor: string | null): Promise<Page<number>> => {
    cursors.push(cursor)
    const start = cursor === null ? 0 : Number(cursor)
    const end = Math.min(total, start + size)
    const items = Array.from({ length: end - start }, (_, i) => start + i)
    return { items, nextCursor: end < total ? String(end) : null }
  }
  return { list, cursors }
}

/** Yields to the event loop a few times so concurrent workers interleave. */
const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await Promise.resolve()
}

describe('fanOut', () => {
  it('runs every item exactly once, page by page', async () => {
    const { list, cursors } = pagedSource(1_003, 100)
    const seen: number[] = []
    const result = await fanOut({
      list,
      concurrency: 7,
      isStopped: () => false,
      run: async (i) => {
        await ticks(i % 5)
        seen.push(i)
      },
      skip: () => expect.unreachable('nothing is skipped'),
    })
    expect(result).toEqual({ stoppedEarly: false })
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 1_003 }, (_, i) => i))
    expect(cursors).toEqual([null, ...Array.from({ length: 10 }, (_, i) => String((i + 1) * 100))])
  })

  it('never has more than `concurrency` runs in flight, and reaches it', async () => {
    const { list } = pagedSource(200, 30)
    let inFlight = 0
    let max = 0
    await fanOut({
      list,
      concurrency: 5,
      isStopped: () => false,
      run: async () => {
        inFlight++
        max = Math.max(max, inFlight)
        await ticks(3)
        inFlight--
      },
      skip: () => {},
    })
    expect(max).toBe(5)
  })

  it('holds at most two pages: listing never runs more than two pages ahead of sending', async () => {
    const { list } = pagedSource(5_000, 50)
    let listed = 0
    let done = 0
    let maxAhead = 0
    await fanOut({
      list: async (cursor) => {
        const page = await list(cursor)
        listed += page.items.length
        maxAhead = Math.max(maxAhead, listed - done)
        return page
      },
      concurrency: 8,
      isStopped: () => false,
      run: async () => {
        await ticks(2)
        done++
      },
      skip: () => {},
    })
    expect(done).toBe(5_000)
    expect(maxAhead).toBeLessThanOrEqual(2 * 50 + 8)
  })

  it('skips listed items and stops paging once stopped', async () => {
    const { list, cursors } = pagedSource(100, 10)
    let runs = 0
    const skipped: number[] = []
    const result = await fanOut({
      list,
      concurrency: 2,
      isStopped: () => runs >= 15,
      run: async () => {
        runs++
        await ticks(1)
      },
      skip: (i) => skipped.push(i),
    })
    expect(result.stoppedEarly).toBe(true)
    expect(runs).toBe(15)
    // The page being sent is drained as skipped; later pages are never read past the prefetch.
    expect(runs + skipped.length).toBe(20)
    expect(cursors.length).toBeLessThanOrEqual(3)
  })

  it('does not list anything when already stopped', async () => {
    const { list, cursors } = pagedSource(10, 5)
    const result = await fanOut({
      list,
      concurrency: 2,
      isStopped: () => true,
      run: async () => expect.unreachable(),
      skip: () => expect.unreachable(),
    })
    expect(result).toEqual({ stoppedEarly: true })
    expect(cursors).toEqual([])
  })

  it('rejects with the list error after in-flight runs settle, starting no more', async () => {
    const { list } = pagedSource(100, 10)
    const failure = new Error('store down')
    let inFlight = 0
    let started = 0
    const promise = fanOut({
      list: (cursor) => (cursor === '20' ? Promise.reject(failure) : list(cursor)),
      concurrency: 3,
      isStopped: () => false,
      run: async () => {
        started++
        inFlight++
        await ticks(2)
        inFlight--
      },
      skip: () => {},
    })
    await expect(promise).rejects.toBe(failure)
    expect(inFlight).toBe(0)
    expect(started).toBe(20)
  })

  it('continues past pages the caller filtered down to nothing', async () => {
    const seen: string[] = []
    const pages: Record<string, Page<string>> = {
      start: { items: [], nextCursor: 'b' },
      b: { items: [], nextCursor: 'c' },
      c: { items: ['x', 'y'], nextCursor: null },
    }
    await fanOut({
      list: async (cursor) => pages[cursor ?? 'start'] as Page<string>,
      concurrency: 4,
      isStopped: () => false,
      run: async (item) => {
        seen.push(item)
      },
      skip: () => {},
    })
    expect(seen.sort()).toEqual(['x', 'y'])
  })
})
