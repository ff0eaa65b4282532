import { memoryStore } from '@apigw-ws/store-memory'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import type { GatewayEvent } from './events.js'
import { createGateway } from './gateway.js'
import { defineHandler } from './handlers.js'
import { RejectionError } from './rejections.js'
import { capturingConnections } from './testing/capturing-connections.js'
import { fakeClock } from './testing/fake-clock.js'
import { httpRequests } from './testing/requests.js'

const SECRET = 'integration-secret-0123456789'
const ORIGIN = 'https://app.example.com'
const ID = 'conn-AAAAAAAAAAA='

async function setup(clientProtocol: boolean) {
  const events: GatewayEvent[] = []
  const connections = capturingConnections()
  const gateway = createGateway({
    store: memoryStore(),
    clock: fakeClock(),
    connections,
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    clientProtocol,
    rateLimits: { messagePerConnection: { limit: 5, windowMs: 60_000 } },
    onEvent: (e) => events.push(e),
    handlers: {
      echo: defineHandler({
        schema: v.object({ text: v.string() }),
        handle: (_ctx, input) => ({ text: input.text }),
      }),
      quiet: defineHandler({ handle: () => undefined }),
      secret: defineHandler({
        handle: () => {
          throw new RejectionError('CHANNEL_FORBIDDEN', 'staff only')
        },
      }),
      broken: defineHandler({
        handle: () => {
          throw new Error('database password is hunter2')
        },
      }),
      push: defineHandler({
        handle: async (ctx) => {
          await ctx.reply({ hello: 'you' })
          await ctx.reply('plain text')
          await ctx.reply(new Uint8Array([1, 2, 3]))
        },
      }),
    },
  })
  const http = httpRequests({ secret: SECRET })
  const grant = await gateway.issueToken({
    method: 'POST',
    headers: { origin: ORIGIN },
    userId: 'u1',
  })
  const { token } = JSON.parse(grant.body ?? '') as { token: string }
  expect((await gateway.handle(http.connect({ connectionId: ID, token }))).status).toBe(200)
  const send = async (body: Record<string, unknown>) => {
    const res = await gateway.handle(http.message({ connectionId: ID, body }))
    return { status: res.status, body: res.body === null ? null : JSON.parse(res.body) }
  }
  return { send, events, connections }
}

describe('clientProtocol', () => {
  it('wraps a reply in an envelope carrying the request id', async () => {
    const { send } = await setup(true)
    expect(await send({ action: 'echo', $id: 'r1', text: 'hi' })).toEqual({
      status: 200,
      body: { $id: 'r1', ok: true, data: { text: 'hi' } },
    })
    expect(await send({ action: 'quiet', $id: 'r2' })).toEqual({
      status: 200,
      body: { $id: 'r2', ok: true },
    })
  })

  it('answers refusals with the status and generic message only, and reports the code', async () => {
    const { send, events } = await setup(true)
    const refused = await send({ action: 'secret', $id: 'r3' })
    expect(refused).toEqual({
      status: 200,
      body: { $id: 'r3', ok: false, error: { status: 403, message: 'Forbidden' } },
    })
    expect(JSON.stringify(refused)).not.toContain('CHANNEL_FORBIDDEN')
    expect(JSON.stringify(refused)).not.toContain('staff')
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'request.rejected', code: 'CHANNEL_FORBIDDEN' }),
    )
    expect(await send({ action: 'echo', $id: 'r4', text: 42 })).toEqual({
      status: 200,
      body: { $id: 'r4', ok: false, error: { status: 400, message: 'Bad Request' } },
    })
    expect(await send({ action: 'nope', $id: 'r5' })).toMatchObject({
      body: { ok: false, error: { status: 400 } },
    })
  })

  it('turns a throwing handler into a 500 envelope without its message', async () => {
    const { send } = await setup(true)
    const failed = await send({ action: 'broken', $id: 'r6' })
    expect(failed.body).toEqual({
      $id: 'r6',
      ok: false,
      error: { status: 500, message: 'Internal Server Error' },
    })
    expect(JSON.stringify(failed)).not.toContain('hunter2')
  })

  it('carries retryAfter for rate-limited requests', async () => {
    const { send } = await setup(true)
    for (let i = 0; i < 5; i += 1) await send({ action: 'quiet', $id: `q${i}` })
    const limited = await send({ action: 'quiet', $id: 'q5' })
    expect(limited.body).toMatchObject({
      $id: 'q5',
      ok: false,
      error: { status: 429, message: 'Too Many Requests' },
    })
    expect((limited.body as { error: { retryAfter: number } }).error.retryAfter).toBeGreaterThan(0)
  })

  it('leaves messages without an id, or with a malformed one, unchanged', async () => {
    const { send } = await setup(true)
    expect(await send({ action: 'echo', text: 'x' })).toEqual({ status: 200, body: { text: 'x' } })
    expect((await send({ action: 'secret', $id: 'bad id!' })).status).toBe(403)
    expect((await send({ action: 'secret', $id: 7 })).status).toBe(403)
  })

  it('answers $heartbeat with the built-in no-op only when enabled', async () => {
    const on = await setup(true)
    expect(await on.send({ action: '$heartbeat', $id: 'h1' })).toEqual({
      status: 200,
      body: { $id: 'h1', ok: true },
    })
    const off = await setup(false)
    expect((await off.send({ action: '$heartbeat', $id: 'h1' })).status).toBe(400)
    expect((await off.send({ action: 'echo', $id: 'r1', text: 'hi' })).body).toEqual({
      text: 'hi',
    })
  })

  it('gives every JSON push a unique message id and leaves bytes unchanged', async () => {
    const { send, connections } = await setup(true)
    await send({ action: 'push' })
    await send({ action: 'push' })
    const texts = connections.messages(ID)
    expect(texts).toHaveLength(6)
    const first = JSON.parse(texts[0] ?? '') as { $mid: string; data: unknown }
    expect(first.data).toEqual({ hello: 'you' })
    expect(JSON.parse(texts[1] ?? '')).toMatchObject({ data: 'plain text' })
    expect(texts[2]).toBe('\u0001\u0002\u0003')
    const ids = [texts[0], texts[1], texts[3], texts[4]].map(
      (t) => (JSON.parse(t ?? '') as { $mid: string }).$mid,
    )
    expect(new Set(ids).size).toBe(4)
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]{8,64}$/)
  })

  it('sends payloads unchanged when the protocol is off', async () => {
    const { send, connections } = await setup(false)
    await send({ action: 'push' })
    expect(connections.messages(ID).slice(0, 2)).toEqual(['{"hello":"you"}', 'plain text'])
  })
})
