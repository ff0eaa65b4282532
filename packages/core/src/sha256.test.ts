import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { digestEquals, sha256Hex } from './sha256.js'

async function webCryptoHex(input: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(input)))
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
}

describe('sha256', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    )
  })

  it('hashes strings as UTF-8', async () => {
    expect(sha256Hex('€')).toBe(await webCryptoHex(new TextEncoder().encode('€')))
  })

  test.prop([fc.uint8Array({ maxLength: 300 })])(
    'agrees with WebCrypto on any bytes',
    async (bytes) => {
      expect(sha256Hex(bytes)).toBe(await webCryptoHex(bytes))
    },
  )

  it('covers every padding boundary (55, 56, 63, 64, 65 bytes)', async () => {
    for (const n of [55, 56, 63, 64, 65, 119, 120, 128]) {
      const bytes = new Uint8Array(n).fill(0x61)
      expect(sha256Hex(bytes)).toBe(await webCryptoHex(bytes))
    }
  })
})

describe('digestEquals', () => {
  test.prop([fc.string(), fc.string()])('is string equality', (a, b) => {
    expect(digestEquals(a, b)).toBe(a === b)
    expect(digestEquals(a, a)).toBe(true)
  })
})
