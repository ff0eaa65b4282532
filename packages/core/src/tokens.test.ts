import { afterEach, describe, expect, it, vi } from 'vitest'
import { oracleSha256Hex } from '../test/sha256-oracle.js'
import { generateToken, hashToken, isTokenFormat, TOKEN_PREFIX } from './tokens.js'

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('generateToken', () => {
  it('is the prefix followed by 43 base64url characters', () => {
    const token = generateToken()
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true)
    expect(token).toMatch(/^awst_[A-Za-z0-9_-]{43}$/)
    expect(isTokenFormat(token)).toBe(true)
  })

  it('draws 32 bytes (256 bits) from crypto.getRandomValues and encodes all of them', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 251) & 255)
    const spy = vi.spyOn(crypto, 'getRandomValues').mockImplementation((array) => {
      ;(array as Uint8Array).set(bytes)
      return array
    })
    const token = generateToken()
    expect(spy).toHaveBeenCalledTimes(1)
    expect((spy.mock.calls[0]?.[0] as Uint8Array | undefined)?.byteLength).toBe(32)
    expect(token).toBe(`${TOKEN_PREFIX}${base64url(bytes)}`)
  })

  it('encodes the extreme byte values correctly', () => {
    for (const fill of [0x00, 0xff, 0xfb]) {
      const bytes = new Uint8Array(32).fill(fill)
      vi.spyOn(crypto, 'getRandomValues').mockImplementation((array) => {
        ;(array as Uint8Array).set(bytes)
        return array
      })
      expect(generateToken()).toBe(`${TOKEN_PREFIX}${base64url(bytes)}`)
      vi.restoreAllMocks()
    }
  })

  it('does not repeat over 2,000 draws', () => {
    const seen = new Set(Array.from({ length: 2_000 }, generateToken))
    expect(seen.size).toBe(2_000)
  })
})

describe('isTokenFormat', () => {
  const valid = `${TOKEN_PREFIX}${'A'.repeat(43)}`

  it('accepts exactly the token format', () => {
    expect(isTokenFormat(valid)).toBe(true)
    expect(isTokenFormat(`${TOKEN_PREFIX}${'-_'.repeat(21)}z`)).toBe(true)
  })

  it.each([
    ['a missing prefix', 'A'.repeat(48)],
    ['another prefix', `awsx_${'A'.repeat(43)}`],
    ['an upper-case prefix', `AWST_${'A'.repeat(43)}`],
    ['42 characters of data', `${TOKEN_PREFIX}${'A'.repeat(42)}`],
    ['44 characters of data', `${TOKEN_PREFIX}${'A'.repeat(44)}`],
    ['standard base64 characters', `${TOKEN_PREFIX}${'+/'.repeat(21)}A`],
    ['padding', `${TOKEN_PREFIX}${'A'.repeat(42)}=`],
    ['trailing whitespace', `${valid} `],
    ['a megabyte', `${TOKEN_PREFIX}${'A'.repeat(1_000_000)}`],
    ['empty', ''],
  ])('refuses %s', (_name, value) => {
    expect(isTokenFormat(value)).toBe(false)
  })

  it.each([undefined, null, 1, [valid], { toString: () => valid }])(
    'refuses the non-string %j',
    (value) => {
      expect(isTokenFormat(value)).toBe(false)
    },
  )
})

describe('hashToken', () => {
  it('is the lower-case hex SHA-256 of the token', async () => {
    const token = generateToken()
    const digest = new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)),
    )
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
    expect(hashToken(token)).toBe(hex)
    expect(hashToken(token)).toBe(oracleSha256Hex(token))
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/)
    expect(hashToken(token)).not.toContain(token.slice(TOKEN_PREFIX.length))
  })
})
