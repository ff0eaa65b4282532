import { describe, expect, it } from 'vitest'
import { type NodeIncoming, readNodeBody } from './node.js'

const bytes = (text: string) => new TextEncoder().encode(text)

/** A request whose whole body has arrived, buffered as `chunks`; counts `read()` calls. */
function complete(chunks: Uint8Array[], reportsLength: boolean) {
  const buffered = [...chunks]
  const calls = { read: 0 }
  const req = {
    rawHeaders: [],
    complete: true,
    readableEnded: false,
    readableDidRead: false,
    read() {
      calls.read += 1
      return buffered.shift() ?? null
    },
    pause: () => undefined,
    on: () => undefined,
    off: () => undefined,
  } as NodeIncoming
  if (reportsLength) {
    Object.defineProperty(req, 'readableLength', {
      get: () => buffered.reduce((n, c) => n + c.byteLength, 0),
    })
  }
  return { req, calls }
}

describe('readNodeBody on a body that has fully arrived', () => {
  const signal = new AbortController().signal

  it.each([true, false])(
    'takes every buffered chunk at once (readableLength reported: %s)',
    (reports) => {
      const { req, calls } = complete([bytes('{"a":'), bytes('1}')], reports)
      const body = readNodeBody(req, 1_000, signal)
      expect(body).toEqual(bytes('{"a":1}'))
      // With the buffered length known, no read is made once it is empty.
      expect(calls.read).toBe(reports ? 2 : 3)
    },
  )

  it('stops as soon as the cap is passed, keeping nothing', () => {
    const { req } = complete([bytes('12345'), bytes('67890')], true)
    expect(readNodeBody(req, 7, signal)).toBe('too-large')
  })

  it('gives null for an empty body', () => {
    const { req } = complete([], true)
    expect(readNodeBody(req, 10, signal)).toBeNull()
  })
})
