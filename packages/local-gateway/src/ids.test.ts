import { describe, expect, it } from 'vitest'
import { newGatewayId, newTraceId } from './ids.js'
import { formatRequestTime } from './request-time.js'

describe('newGatewayId', () => {
  it('makes 16-character URL-safe base64 ids ending in = that do not repeat', () => {
    const ids = new Set<string>()
    for (let i = 0; i < 2_000; i++) {
      const id = newGatewayId()
      expect(id).toMatch(/^[A-Za-z0-9_-]{15}=$/)
      ids.add(id)
    }
    expect(ids.size).toBe(2_000)
  })
})

describe('newTraceId', () => {
  it('puts the epoch seconds in hex, then 24 random hex digits', () => {
    const id = newTraceId(Date.UTC(2024, 1, 19, 7, 11, 42))
    expect(id).toMatch(/^Root=1-65d2ff2e-[0-9a-f]{24}$/)
    expect(newTraceId(0)).toMatch(/^Root=1-00000000-[0-9a-f]{24}$/)
    expect(newTraceId(5_000)).not.toBe(newTraceId(5_000))
  })
})

describe('formatRequestTime', () => {
  it('matches the fixtures', () => {
    expect(formatRequestTime(1708326702790)).toBe('19/Feb/2024:07:11:42 +0000')
    expect(formatRequestTime(1731324924561)).toBe('11/Nov/2024:11:35:24 +0000')
    expect(formatRequestTime(1547557767850)).toBe('15/Jan/2019:13:09:27 +0000')
  })

  it('pads single digits and uses UTC', () => {
    expect(formatRequestTime(Date.UTC(2025, 0, 2, 3, 4, 5))).toBe('02/Jan/2025:03:04:05 +0000')
  })
})
