import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { encodePayload, MAX_PAYLOAD_BYTES, PayloadTooLargeError } from './payload.js'

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe('encodePayload', () => {
  it('sends strings as their UTF-8 bytes, not JSON-quoted', () => {
    expect(decode(encodePayload('héllo'))).toBe('héllo')
    expect(encodePayload('€')).toEqual(new Uint8Array([0xe2, 0x82, 0xac]))
  })

  it('serializes objects, arrays, numbers, booleans and null as JSON', () => {
    expect(decode(encodePayload({ type: 'chat', text: 'hi' }))).toBe('{"type":"chat","text":"hi"}')
    expect(decode(encodePayload([1, 'a']))).toBe('[1,"a"]')
    expect(decode(encodePayload(42))).toBe('42')
    expect(decode(encodePayload(false))).toBe('false')
    expect(decode(encodePayload(null))).toBe('null')
  })

  it('copies byte inputs so later mutation cannot change what is sent', () => {
    const input = new Uint8Array([1, 2, 3])
    const bytes = encodePayload(input)
    input[0] = 9
    expect(bytes).toEqual(new Uint8Array([1, 2, 3]))
    const view = new DataView(new Uint8Array([0, 7, 8, 0]).buffer, 1, 2)
    expect(encodePayload(view)).toEqual(new Uint8Array([7, 8]))
    expect(encodePayload(new Uint8Array([5, 6]).buffer)).toEqual(new Uint8Array([5, 6]))
  })

  it('rejects values JSON cannot represent with TypeError', () => {
    expect(() => encodePayload(undefined as unknown as null)).toThrow(TypeError)
    expect(() => encodePayload((() => 1) as unknown as object)).toThrow(TypeError)
    expect(() => encodePayload({ n: 1n })).toThrow(TypeError)
    const cyclic: { self?: unknown } = {}
    cyclic.self = cyclic
    expect(() => encodePayload(cyclic)).toThrow(TypeError)
  })

  it('accepts exactly 131,072 bytes and refuses 131,073', () => {
    expect(MAX_PAYLOAD_BYTES).toBe(131_072)
    expect(encodePayload('a'.repeat(131_072)).byteLength).toBe(131_072)
    expect(encodePayload(new Uint8Array(131_072)).byteLength).toBe(131_072)
    expect(() => encodePayload('a'.repeat(131_073))).toThrow(PayloadTooLargeError)
    expect(() => encodePayload(new Uint8Array(131_073))).toThrow(PayloadTooLargeError)
  })

  it('measures multi-byte characters in UTF-8 bytes, not UTF-16 units', () => {
    // 43,691 × "€" is 43,691 UTF-16 units but 131,073 UTF-8 bytes.
    const error = catchError(() => encodePayload('€'.repeat(43_691)))
    expect(error).toBeInstanceOf(PayloadTooLargeError)
    expect(error).toMatchObject({ bytes: 131_073, limit: 131_072, name: 'PayloadTooLargeError' })
    expect(error).toBeInstanceOf(RangeError)
    expect(encodePayload(`${'€'.repeat(43_690)}ab`).byteLength).toBe(131_072)
    // JSON adds two quote bytes around a string value.
    expect(() => encodePayload(['€'.repeat(43_690)])).toThrow(PayloadTooLargeError)
  })

  test.prop([fc.string({ unit: 'binary', maxLength: 300 })])(
    'a string encodes to exactly its UTF-8 bytes',
    (text) => {
      expect(encodePayload(text)).toEqual(new TextEncoder().encode(text))
    },
  )
})

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}
