import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { bodyExceeds, decodeBody, parseJsonObject, utf8Length } from './body.js'

const LIMITS = { maxDepth: 32, maxKeys: 1_000 }
const encoder = new TextEncoder()
/** Any UTF-16 string, lone surrogates included. */
const utf16 = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
})

describe('utf8Length', () => {
  it('counts 1, 2, 3 and 4 byte characters', () => {
    expect(utf8Length('a')).toBe(1)
    expect(utf8Length('é')).toBe(2)
    expect(utf8Length('€')).toBe(3)
    expect(utf8Length('😀')).toBe(4)
    expect(utf8Length('a€😀')).toBe(8)
  })

  it('counts a lone surrogate as the 3-byte replacement character', () => {
    expect(utf8Length('\ud83d')).toBe(3)
    expect(utf8Length('\ude00')).toBe(3)
    expect(utf8Length('\ud83da')).toBe(4)
  })

  test.prop([utf16])('agrees with TextEncoder for any UTF-16 string', (text) => {
    expect(utf8Length(text)).toBe(encoder.encode(text).length)
  })

  it('stops counting past stopAfter with a value above it', () => {
    const huge = 'x'.repeat(1_000_000)
    const counted = utf8Length(huge, 10)
    expect(counted).toBeGreaterThan(10)
    expect(counted).toBeLessThan(20)
  })
})

describe('bodyExceeds', () => {
  it('measures no body as 0, bytes by length and text in UTF-8 bytes', () => {
    expect(bodyExceeds(null, 0)).toBe(false)
    expect(bodyExceeds(new Uint8Array(7), 7)).toBe(false)
    expect(bodyExceeds(new Uint8Array(8), 7)).toBe(true)
    expect(bodyExceeds('€€', 6)).toBe(false)
    expect(bodyExceeds('€€', 5)).toBe(true)
    expect(bodyExceeds('ab', 5)).toBe(false)
  })

  test.prop([fc.string({ unit: 'grapheme', maxLength: 60 }), fc.nat({ max: 200 })])(
    'agrees with the encoded length for any text and bound',
    (text, max) => {
      expect(bodyExceeds(text, max)).toBe(new TextEncoder().encode(text).byteLength > max)
    },
  )
})

describe('decodeBody', () => {
  it('reads no body as empty text and passes well-formed text through', () => {
    expect(decodeBody(null)).toBe('')
    expect(decodeBody('héllo 😀')).toBe('héllo 😀')
    expect(decodeBody(encoder.encode('héllo 😀'))).toBe('héllo 😀')
  })

  it.each([
    ['a lone 0xff', [0xff]],
    ['a truncated two-byte sequence', [0x61, 0xc3]],
    ['an overlong encoding of /', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('refuses bytes with %s', (_name, bytes) => {
    expect(decodeBody(new Uint8Array(bytes))).toBeNull()
  })

  it('refuses text with a lone surrogate', () => {
    expect(decodeBody('a\ud800b')).toBeNull()
    expect(decodeBody('a\udc00')).toBeNull()
    expect(decodeBody('\ud800')).toBeNull()
  })

  it('keeps a byte-order mark rather than silently dropping it', () => {
    expect(decodeBody(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe('\ufeff{}')
  })
})

describe('parseJsonObject', () => {
  it('parses an object', () => {
    expect(parseJsonObject('{"action":"chat","n":[1,{"a":null}]}', LIMITS)).toEqual({
      action: 'chat',
      n: [1, { a: null }],
    })
  })

  it.each(['[]', '1', '"x"', 'null', 'true', '', 'hello', '{', '{"a":1}x', '\ufeff{}'])(
    'refuses %j (not JSON, or not an object at the top level)',
    (text) => {
      expect(parseJsonObject(text, LIMITS)).toBeNull()
    },
  )

  it('bounds the depth, counting only brackets outside strings', () => {
    const limits = { maxDepth: 3, maxKeys: 10 }
    expect(parseJsonObject('{"a":{"b":{"c":1}}}', limits)).not.toBeNull()
    expect(parseJsonObject('{"a":{"b":{"c":[]}}}', limits)).toBeNull()
    expect(parseJsonObject('{"a":"[[[[{{{{"}', limits)).toEqual({ a: '[[[[{{{{' })
    expect(parseJsonObject('{"a":"\\"[[[[[["}', limits)).toEqual({ a: '"[[[[[[' })
  })

  it('refuses 10,000-deep nesting without throwing', () => {
    const deep = `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`
    expect(parseJsonObject(deep, LIMITS)).toBeNull()
    const deepObjects = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`
    expect(parseJsonObject(deepObjects, LIMITS)).toBeNull()
  })

  it('bounds the entries of every object and array', () => {
    const limits = { maxDepth: 8, maxKeys: 2 }
    expect(parseJsonObject('{"a":1,"b":2}', limits)).not.toBeNull()
    expect(parseJsonObject('{"a":1,"b":2,"c":3}', limits)).toBeNull()
    expect(parseJsonObject('{"a":[1,2,3]}', limits)).toBeNull()
    expect(parseJsonObject('{"a":{"x":1,"y":2,"z":3}}', limits)).toBeNull()
    expect(parseJsonObject('{"a":[[1,2],[1,2,3]]}', limits)).toBeNull()
  })

  it.each([
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"a":{"prototype":1}}',
    '{"a":[{"b":{"__proto__":{"polluted":true}}}]}',
  ])('refuses %s and leaves Object.prototype clean', (text) => {
    expect(parseJsonObject(text, LIMITS)).toBeNull()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('accepts the forbidden words as values', () => {
    expect(parseJsonObject('{"a":"__proto__","b":["constructor"]}', LIMITS)).toEqual({
      a: '__proto__',
      b: ['constructor'],
    })
  })

  test.prop([fc.string({ maxLength: 200 })])('never throws on arbitrary text', (text) => {
    const result = parseJsonObject(text, LIMITS)
    expect(result === null || (typeof result === 'object' && !Array.isArray(result))).toBe(true)
  })

  test.prop([fc.json({ maxDepth: 6 })])(
    'returns an object exactly for top-level JSON objects',
    (text) => {
      const value: unknown = JSON.parse(text)
      const isObject = typeof value === 'object' && value !== null && !Array.isArray(value)
      const hasForbidden = /"(__proto__|constructor|prototype)"\s*:/.test(text)
      const result = parseJsonObject(text, LIMITS)
      if (!isObject || hasForbidden) expect(result).toBeNull()
      else expect(result).toEqual(value)
    },
  )
})
