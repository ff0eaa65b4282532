import { describe, expect, it } from 'vitest'
import { createManualClock } from './clock.js'

describe('createManualClock', () => {
  it('fires due timers in due order, including ones scheduled by a callback', () => {
    const clock = createManualClock(1_000)
    const fired: string[] = []
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20)
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`)
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 15)
    }, 10)
    clock.advance(9)
    expect(fired).toEqual([])
    clock.advance(30)
    expect(fired).toEqual(['a@1010', 'b@1020', 'c@1025'])
    expect(clock.now()).toBe(1_039)
    expect(clock.pending()).toBe(0)
  })

  it('never fires a cleared timer and ignores unknown handles', () => {
    const clock = createManualClock()
    let fired = false
    const handle = clock.setTimeout(() => {
      fired = true
    }, 5)
    clock.clearTimeout(handle)
    clock.clearTimeout('nope')
    clock.advance(10)
    expect(fired).toBe(false)
  })

  it('refuses to go back in time', () => {
    expect(() => createManualClock().advance(-1)).toThrow(RangeError)
  })
})
