import { describe, expect, it } from 'vitest'
import { FAKE_CLOCK_START, fakeClock } from './fake-clock.js'

describe('fakeClock', () => {
  it('starts at 2026-01-01T00:00:00Z by default and stands still', () => {
    const clock = fakeClock()
    expect(FAKE_CLOCK_START).toBe(Date.parse('2026-01-01T00:00:00.000Z'))
    expect(clock.now()).toBe(FAKE_CLOCK_START)
    expect(clock.now()).toBe(FAKE_CLOCK_START)
  })

  it('starts at a given number or Date', () => {
    expect(fakeClock(1_000).now()).toBe(1_000)
    expect(fakeClock(new Date('2030-05-06T07:08:09.010Z')).now()).toBe(
      Date.parse('2030-05-06T07:08:09.010Z'),
    )
  })

  it('advances by exact milliseconds, including zero', () => {
    const clock = fakeClock(10)
    clock.advance(0)
    expect(clock.now()).toBe(10)
    clock.advance(59_999)
    expect(clock.now()).toBe(60_009)
    clock.advance(1)
    expect(clock.now()).toBe(60_010)
  })

  it('sets an absolute time, forwards or backwards', () => {
    const clock = fakeClock()
    clock.set(FAKE_CLOCK_START + 5_000)
    expect(clock.now()).toBe(FAKE_CLOCK_START + 5_000)
    clock.set(new Date(FAKE_CLOCK_START - 1))
    expect(clock.now()).toBe(FAKE_CLOCK_START - 1)
  })

  it('keeps clocks independent', () => {
    const a = fakeClock()
    const b = fakeClock()
    a.advance(1_000)
    expect(b.now()).toBe(FAKE_CLOCK_START)
  })

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5, '10', null])(
    'rejects advance(%s) with TypeError and keeps the time',
    (step) => {
      const clock = fakeClock()
      expect(() => clock.advance(step as number)).toThrow(TypeError)
      expect(clock.now()).toBe(FAKE_CLOCK_START)
    },
  )

  it('rejects an advance that leaves the safe-integer range', () => {
    const clock = fakeClock(Number.MAX_SAFE_INTEGER - 1)
    expect(() => clock.advance(2)).toThrow(TypeError)
    expect(clock.now()).toBe(Number.MAX_SAFE_INTEGER - 1)
  })

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, 1.5, new Date('invalid')])(
    'rejects start or set(%s) with TypeError',
    (value) => {
      expect(() => fakeClock(value)).toThrow(TypeError)
      const clock = fakeClock()
      expect(() => clock.set(value)).toThrow(TypeError)
      expect(clock.now()).toBe(FAKE_CLOCK_START)
    },
  )

  it('is frozen', () => {
    const clock = fakeClock()
    expect(Object.isFrozen(clock)).toBe(true)
  })
})
