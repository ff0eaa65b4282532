import { afterEach, describe, expect, it } from 'vitest'
import type { Backend, ClientConnection } from './backend.js'
import { createManualClock } from './clock.js'
import { createHttpBackend } from './http-backend.js'
import { type BackendAnswer, type RecordingBackend, startRecordingBackend } from './test-helpers.js'

const client: ClientConnection = {
  connectionId: 'conn-1',
  connectedAt: 1_708_326_702_789,
  sourceIp: '127.0.0.1',
  userAgent: undefined,
  forwardedFor: '127.0.0.1',
  domainName: 'localhost',
  headers: [],
  query: '',
}
const call = { requestId: 'req-1', requestTimeEpoch: 1_708_326_702_789 }
const message = (seq: number) => {
  const text = `{"seq":${seq}}`
  return { route: '$default', text, bytes: Buffer.from(text) }
}

let server: RecordingBackend | undefined
let backend: Backend | undefined

afterEach(async () => {
  await backend?.destroy()
  await server?.close()
  backend = server = undefined
})

describe('the HTTP integration pool', () => {
  it('times out a call still waiting for a free connection without ever sending it', async () => {
    const clock = createManualClock()
    let releaseFirst = (): void => {}
    server = await startRecordingBackend(
      () =>
        new Promise<BackendAnswer>((resolve) => {
          releaseFirst = () => resolve({})
        }),
    )
    backend = createHttpBackend({
      baseUrl: new URL(server.baseUrl),
      apiId: 'abc123',
      secret: undefined,
      timeoutMs: 5_000,
      maxSockets: 1,
      maxResponseBytes: 1024,
      clock,
    })
    const first = backend.message(client, call, message(0))
    const second = backend.message(client, call, message(1))
    await server.waitFor((r) => r.route === 'default')
    // Both calls' timeouts started on arrival, so the queued one has used its budget up
    // waiting and ends unsent, at the same moment as the call holding the only connection.
    clock.advance(5_000)
    await expect(second).rejects.toThrow('integration timeout after 5000 ms')
    await expect(first).rejects.toThrow('integration timeout after 5000 ms')
    releaseFirst()
    expect(server.requests.map((r) => r.body)).toEqual(['{"seq":0}'])
  })

  it('rejects calls still waiting when destroyed, and never sends them', async () => {
    server = await startRecordingBackend(() => new Promise<BackendAnswer>(() => undefined))
    backend = createHttpBackend({
      baseUrl: new URL(server.baseUrl),
      apiId: 'abc123',
      secret: undefined,
      timeoutMs: 60_000,
      maxSockets: 1,
      maxResponseBytes: 1024,
      clock: createManualClock(),
    })
    const first = backend.message(client, call, message(0))
    const second = backend.message(client, call, message(1))
    await server.waitFor((r) => r.route === 'default')
    await backend.destroy()
    await expect(second).rejects.toThrow('the gateway is closed')
    await expect(first).rejects.toThrow('the gateway is closed')
    expect(server.requests.map((r) => r.body)).toEqual(['{"seq":0}'])
  })
})
