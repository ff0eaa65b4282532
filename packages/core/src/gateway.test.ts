import { memoryStore } from '@apigw-ws/store-memory'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import type { GatewayEvent } from './events.js'
import { createGateway } from './gateway.js'
import { defineHandler } from './handlers.js'
import type { GatewayOptions } from './options.js'
import { fakeClock } from './testing/fake-clock.js'
import { httpRequests, lambdaEvents } from './testing/requests.js'

const SECRET = 'integration-secret-0123456789'
const ORIGIN = 'https://app.example.com'

function setup(overrides: Partial<GatewayOptions> = {}) {
  const clock = fakeClock()
  const store = memoryStore()
  const events: GatewayEvent[] = []
  const gateway = createGateway({
    store,
    clock,
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    onEvent: (e) => events.push(e),
    handlers: {
      echo: defineHandler({
        schema: v.object({ action: v.literal('echo'), text: v.string() }),
        handle: (ctx, input) => ({ text: input.text, userId: ctx.userId }),
      }),
    },
    ...overrides,
  })
  const http = httpRequests({ secret: SECRET })
  async function token(userId = 'user-1', channel?: string): Promise<string> {
    const res = await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId,
      ...(channel === undefined ? {} : { channel }),
    })
    expect(res.status).toBe(200)
    return (JSON.parse(res.body ?? '{}') as { token: string }).token
  }
  return { gateway, store, clock, events, http, token }
}

describe('createGateway', () => {
  it('connects with a token, routes a message to its handler, and disconnects', async () => {
    const { gateway, http, token, store } = setup()
    const connect = await gateway.handle(
      http.connect({ connectionId: 'abcDEF123=', token: await token() }),
    )
    expect(connect.status).toBe(200)
    const message = await gateway.handle(
      http.message({ connectionId: 'abcDEF123=', body: { action: 'echo', text: 'hi' } }),
    )
    expect(message.status).toBe(200)
    expect(JSON.parse(message.body ?? '')).toEqual({ text: 'hi', userId: 'user-1' })
    expect((await store.connections.get('abcDEF123='))?.requestCount).toBe(1)
    expect((await gateway.handle(http.disconnect({ connectionId: 'abcDEF123=' }))).status).toBe(200)
    expect((await store.connections.get('abcDEF123='))?.disconnectedAt).not.toBeNull()
    const after = await gateway.handle(
      http.message({ connectionId: 'abcDEF123=', body: { action: 'echo', text: 'hi' } }),
    )
    expect(after.status).toBe(404)
  })

  it('serves Lambda events end to end', async () => {
    const { gateway, token } = setup({
      integration: 'lambda',
      integrationSecret: undefined,
    } as never)
    const events = lambdaEvents()
    const connect = await gateway.lambda(
      events.connect({ connectionId: 'lambdaConn1=', token: await token() }),
    )
    expect(connect.statusCode).toBe(200)
    const message = await gateway.lambda(
      events.message({ connectionId: 'lambdaConn1=', body: { action: 'echo', text: 'x' } }),
    )
    expect(message).toMatchObject({ statusCode: 200 })
    expect(JSON.parse(message.body ?? '')).toEqual({ text: 'x', userId: 'user-1' })
  })

  it('refuses a reused token', async () => {
    const { gateway, http, token } = setup()
    const t = await token()
    expect((await gateway.handle(http.connect({ token: t }))).status).toBe(200)
    expect((await gateway.handle(http.connect({ token: t }))).status).toBe(401)
  })
})
