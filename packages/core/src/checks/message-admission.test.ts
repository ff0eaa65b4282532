import { memoryStore } from '@apigw-ws/store-memory'
import { describe, expect, it } from 'vitest'
import { recordingStore, rejectionCodes, setup } from '../../test/gateway-kit.js'
import type { AdmitMessageRequest, AdmitMessageResult, Store, StoreParts } from '../store.js'

const RULE = { limit: 2, windowMs: 10_000 }

/**
 * A recording store (every part wrapped) that also has a native `admitMessage`, recorded as one
 * call and answered by `answer` (default: the memory store's own `admitMessage`).
 */
function withAdmitMessage(
  answer?: (request: AdmitMessageRequest, now: number) => Promise<AdmitMessageResult>,
) {
  const inner: Store = memoryStore()
  const recording = recordingStore(inner)
  const store: StoreParts = {
    ...recording,
    async admitMessage(request, now) {
      const result = await (answer ?? inner.admitMessage)(request, now)
      recording.calls.push({ method: 'admitMessage', args: [request, now], result })
      return result
    },
  }
  return { store, calls: recording.calls }
}

describe('message admission', () => {
  it('makes one store call per message when the store provides admitMessage', async () => {
    const { store, calls } = withAdmitMessage()
    const { gateway, http, connect, clock } = setup(
      { rateLimits: { messagePerConnection: RULE } },
      store,
    )
    const { connectionId } = await connect()
    calls.length = 0
    clock.advance(500)
    const response = await gateway.handle(http.message({ connectionId, body: { action: 'echo' } }))
    expect(response.status).toBe(200)
    expect(calls.map((call) => call.method)).toEqual(['admitMessage'])
    expect(calls[0]?.args).toEqual([
      { connectionId, limit: { key: `message.connection:${connectionId}`, rule: RULE } },
      clock.now(),
    ])
  })

  it('composes touch then hit, in that order, when the store has no admitMessage', async () => {
    const store = recordingStore()
    const { gateway, http, connect } = setup({ rateLimits: { messagePerConnection: RULE } }, store)
    const { connectionId } = await connect()
    store.calls.length = 0
    await gateway.handle(http.message({ connectionId, body: { action: 'echo' } }))
    expect(store.calls.map((call) => [call.method, call.args[0]])).toEqual([
      ['connections.touch', connectionId],
      ['limits.hit', `message.connection:${connectionId}`],
    ])
  })

  it('asks for no limit when the message limit is disabled', async () => {
    const { store, calls } = withAdmitMessage()
    const { gateway, http, connect } = setup({}, store)
    const { connectionId } = await connect()
    await gateway.handle(http.message({ connectionId, body: { action: 'echo' } }))
    expect(calls.filter((call) => call.method === 'admitMessage').map((c) => c.args[0])).toEqual([
      { connectionId, limit: null },
    ])
  })

  it('reports each refusal by the limit with its count, limit and window end', async () => {
    const { store } = withAdmitMessage()
    const { gateway, http, connect, events, clock } = setup(
      { rateLimits: { messagePerConnection: RULE } },
      store,
    )
    const { connectionId } = await connect()
    const start = clock.now()
    const send = async () =>
      gateway.handle(http.message({ connectionId, body: { action: 'echo' } }))
    expect((await send()).status).toBe(200)
    expect((await send()).status).toBe(200)
    clock.advance(2_500)
    const refused = await send()
    expect(refused.status).toBe(429)
    expect(refused.headers['retry-after']).toBe('8')
    expect(events.filter((e) => e.type === 'rate.limited')).toEqual([
      {
        type: 'rate.limited',
        at: clock.now(),
        scope: 'message.connection',
        count: 3,
        limit: 2,
        resetAt: start + RULE.windowMs,
      },
    ])
    expect(rejectionCodes(events)).toEqual(['RATE_LIMITED'])
  })

  it.each<[string, AdmitMessageResult, boolean]>([
    ['a limit refusal that allows', rateLimited(true), true],
    ['a limit refusal when no limit was asked for', rateLimited(false), false],
    ['an unknown code', { admitted: false, code: 'TOKEN_INVALID' } as never, true],
  ])('fails closed (503) on %s', async (_name, answer, limited) => {
    const { store } = withAdmitMessage(async () => answer)
    const { gateway, http, connect, events } = setup(
      limited ? { rateLimits: { messagePerConnection: RULE } } : {},
      store,
    )
    const { connectionId } = await connect()
    const response = await gateway.handle(http.message({ connectionId, body: { action: 'echo' } }))
    expect(response.status).toBe(503)
    expect(rejectionCodes(events)).toEqual(['STORE_UNAVAILABLE'])
    expect(events.some((e) => e.type === 'rate.limited')).toBe(false)
  })
})

function rateLimited(allowed: boolean): AdmitMessageResult {
  return { admitted: false, code: 'RATE_LIMITED', limit: { allowed, count: 1, resetAt: 10_000 } }
}
