/**
 * A synchronous SHA-256 (FIPS 180-4) over UTF-8 strings and bytes. Core hashes tokens, session
 * ids and integration secrets on the request path; WebCrypto's `subtle.digest` is asynchronous
 * and costs tens of microseconds per call on Node, which would dominate the pipeline, and Node's
 * `crypto` module is off limits in a runtime-neutral core. Inputs here are short (a few hundred
 * bytes at most), where this implementation takes about a microsecond. Tested against WebCrypto.
 */

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
])

const encoder = new TextEncoder()
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

// Scratch space reused by every call (the function never yields, so calls cannot interleave):
// the message schedule, and a buffer for short inputs with their padding.
const W = new Uint32Array(64)
const H = new Uint32Array(8)
let scratch = new Uint8Array(256)

/** Pads `length` message bytes already in `buffer` and returns the padded length. */
function pad(buffer: Uint8Array, length: number): number {
  const blocks = ((length + 9 + 63) >>> 6) << 6
  buffer.fill(0, length, blocks)
  buffer[length] = 0x80
  const bits = length * 8
  const hi = Math.floor(bits / 0x100000000)
  const lo = bits >>> 0
  buffer[blocks - 8] = hi >>> 24
  buffer[blocks - 7] = (hi >>> 16) & 0xff
  buffer[blocks - 6] = (hi >>> 8) & 0xff
  buffer[blocks - 5] = hi & 0xff
  buffer[blocks - 4] = lo >>> 24
  buffer[blocks - 3] = (lo >>> 16) & 0xff
  buffer[blocks - 2] = (lo >>> 8) & 0xff
  buffer[blocks - 1] = lo & 0xff
  return blocks
}

function compress(data: Uint8Array, blocks: number): void {
  let h0 = 0x6a09e667
  let h1 = 0xbb67ae85
  let h2 = 0x3c6ef372
  let h3 = 0xa54ff53a
  let h4 = 0x510e527f
  let h5 = 0x9b05688c
  let h6 = 0x1f83d9ab
  let h7 = 0x5be0cd19
  const w = W
  for (let offset = 0; offset < blocks; offset += 64) {
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4
      w[i] =
        ((data[j] as number) << 24) |
        ((data[j + 1] as number) << 16) |
        ((data[j + 2] as number) << 8) |
        (data[j + 3] as number)
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15] as number
      const b = w[i - 2] as number
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3)
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10)
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0
    }
    let a = h0
    let b = h1
    let c = h2
    let d = h3
    let e = h4
    let f = h5
    let g = h6
    let h = h7
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
      const ch = (e & f) ^ (~e & g)
      const t1 = (h + s1 + ch + (K[i] as number) + (w[i] as number)) | 0
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
      const maj = (a & b) ^ (a & c) ^ (b & c)
      const t2 = (s0 + maj) | 0
      h = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    h0 = (h0 + a) | 0
    h1 = (h1 + b) | 0
    h2 = (h2 + c) | 0
    h3 = (h3 + d) | 0
    h4 = (h4 + e) | 0
    h5 = (h5 + f) | 0
    h6 = (h6 + g) | 0
    h7 = (h7 + h) | 0
  }
  H[0] = h0
  H[1] = h1
  H[2] = h2
  H[3] = h3
  H[4] = h4
  H[5] = h5
  H[6] = h6
  H[7] = h7
}

/** Hashes `input` into `H`. Short strings are encoded straight into the scratch buffer. */
function hashInto(input: string | Uint8Array): void {
  if (typeof input === 'string') {
    // UTF-8 needs at most 3 bytes per UTF-16 unit; grow the scratch buffer when it may not fit.
    const needed = input.length * 3 + 72
    if (scratch.length < needed) scratch = new Uint8Array(needed)
    const { written } = encoder.encodeInto(input, scratch)
    compressAndWipe(pad(scratch, written))
    return
  }
  const needed = input.length + 72
  if (scratch.length < needed) scratch = new Uint8Array(needed)
  scratch.set(input)
  compressAndWipe(pad(scratch, input.length))
}

/** Compresses the scratch buffer, then wipes it and the schedule: secrets pass through here. */
function compressAndWipe(blocks: number): void {
  compress(scratch, blocks)
  scratch.fill(0, 0, blocks)
  W.fill(0)
}

/** The SHA-256 digest (32 bytes) of `input`; strings are hashed as UTF-8. */
export function sha256(input: string | Uint8Array): Uint8Array {
  hashInto(input)
  const out = new Uint8Array(32)
  for (let i = 0; i < 8; i++) {
    const v = H[i] as number
    out[i * 4] = v >>> 24
    out[i * 4 + 1] = (v >>> 16) & 0xff
    out[i * 4 + 2] = (v >>> 8) & 0xff
    out[i * 4 + 3] = v & 0xff
  }
  return out
}

/** Lower-case hex SHA-256 of `input` (UTF-8 for strings). */
export function sha256Hex(input: string | Uint8Array): string {
  hashInto(input)
  let out = ''
  for (let i = 0; i < 8; i++) {
    const v = H[i] as number
    out += HEX[v >>> 24]
    out += HEX[(v >>> 16) & 0xff]
    out += HEX[(v >>> 8) & 0xff]
    out += HEX[v & 0xff]
  }
  return out
}

/**
 * Compares two SHA-256 digests in time independent of where they differ (a branch-free
 * accumulator over all 32 bytes).
 */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length
  for (let i = 0; i < 32; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}
