import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { oracleSha256Hex } from '../test/sha256-oracle.js'
import { digestsEqual, sha256, sha256Hex } from './sha256.js'

async function webCryptoHex(input: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(input)))
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16))
}

describe('sha256', () => {
  // Expected digests are published test vectors: FIPS 180-4's examples (NIST CSRC "Examples with
  // intermediate values") and NIST CAVP SHAVS byte-oriented short messages (SHA256ShortMsg.rsp).
  it('matches the FIPS 180-4 examples', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    )
    expect(
      sha256Hex(
        'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
      ),
    ).toBe('cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1')
  })

  it('matches the NIST one-million-"a" vector (15,625 blocks)', () => {
    expect(sha256Hex(new Uint8Array(1_000_000).fill(0x61))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    )
  })

  it('matches NIST SHAVS short-message vectors', () => {
    expect(sha256Hex(hexBytes('d3'))).toBe(
      '28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1',
    )
    expect(sha256Hex(hexBytes('11af'))).toBe(
      '5ca7133fa735326081558ac312c620eeca9970d1e70a4b95533d956f072d1f98',
    )
  })

  it('hashes strings as UTF-8', async () => {
    expect(sha256Hex('€')).toBe(await webCryptoHex(new TextEncoder().encode('€')))
    expect(sha256Hex('€')).toBe(oracleSha256Hex('€'))
  })

  test.prop([fc.uint8Array({ maxLength: 300 })])(
    'agrees with WebCrypto on any bytes',
    async (bytes) => {
      expect(sha256Hex(bytes)).toBe(await webCryptoHex(bytes))
    },
  )

  test.prop([fc.uint8Array({ minLength: 56, maxLength: 2_000 })])(
    'agrees with node:crypto on multi-block byte inputs',
    (bytes) => {
      expect(sha256Hex(bytes)).toBe(oracleSha256Hex(bytes))
    },
  )

  test.prop([
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme-composite', minLength: 20, maxLength: 300 }),
    ),
  ])('agrees with node:crypto on multibyte strings, one block or many', (text) => {
    expect(sha256Hex(text)).toBe(oracleSha256Hex(text))
  })

  it('covers every padding boundary (55, 56, 63, 64, 65 bytes)', async () => {
    for (const n of [55, 56, 63, 64, 65, 119, 120, 128]) {
      const bytes = new Uint8Array(n).fill(0x61)
      expect(sha256Hex(bytes)).toBe(await webCryptoHex(bytes))
      expect(sha256Hex(bytes)).toBe(oracleSha256Hex(bytes))
    }
  })
})

describe('digestsEqual', () => {
  test.prop([fc.string(), fc.string()])('is equality of the hashed strings', (a, b) => {
    expect(digestsEqual(sha256(a), sha256(b))).toBe(a === b)
    expect(digestsEqual(sha256(a), sha256(a))).toBe(true)
  })
})
