import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createDeadlines } from './deadlines.js'

describe('createDeadlines', () => {
  let clock = 0
  const now = () => clock
  const advance = async (ms: number) => {
    clock += ms
    await vi.advanceTimersByTimeAsync(ms)
  }

  beforeEach(() => {
    clock = 0
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('expires a read once its timeout passed, not before', async () => {
    const deadlines = createDeadlines(100, now)
    const expire = vi.fn()
    deadlines.watch(expire)
    await advance(99)
    expect(expire).not.toHaveBeenCalled()
    await advance(1)
    expect(expire).toHaveBeenCalledOnce()
    await advance(1_000)
    expect(expire).toHaveBeenCalledOnce()
  })

  it('never expires a read that finished first', async () => {
    const deadlines = createDeadlines(100, now)
    const expire = vi.fn()
    const watch = deadlines.watch(expire)
    await advance(50)
    watch.done()
    watch.done()
    await advance(500)
    expect(expire).not.toHaveBeenCalled()
  })

  it('expires reads in the order they started, each at its own deadline, with one timer', async () => {
    const deadlines = createDeadlines(100, now)
    const expired: string[] = []
    deadlines.watch(() => expired.push('a'))
    await advance(30)
    const b = deadlines.watch(() => expired.push('b'))
    await advance(30)
    deadlines.watch(() => expired.push('c'))
    expect(vi.getTimerCount()).toBe(1)
    b.done()
    await advance(40) // t = 100: a's deadline
    expect(expired).toEqual(['a'])
    await advance(59) // t = 159
    expect(expired).toEqual(['a'])
    await advance(1) // t = 160: c's deadline (b finished)
    expect(expired).toEqual(['a', 'c'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('expires every read whose deadline passed in one sweep', async () => {
    const deadlines = createDeadlines(10, now)
    const expired: number[] = []
    for (let i = 0; i < 5; i++) deadlines.watch(() => expired.push(i))
    await advance(10)
    expect(expired).toEqual([0, 1, 2, 3, 4])
  })

  it('re-arms after the keeper went idle', async () => {
    const deadlines = createDeadlines(20, now)
    const first = vi.fn()
    deadlines.watch(first).done()
    await advance(100)
    const second = vi.fn()
    deadlines.watch(second)
    await advance(20)
    expect(first).not.toHaveBeenCalled()
    expect(second).toHaveBeenCalledOnce()
  })
})
