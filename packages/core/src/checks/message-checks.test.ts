import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { bodyOf, rejectionCodes, setup } from '../../test/gateway-kit.js'
import { defineHandler } from '../handlers.js'
import { reject } from '../rejections.js'

const chat = defineHandler({ handle: () => ({ handled: 'chat' }) })
const fallback = defineHandler({ handle: () => ({ handled: 'default' }) })

describe('jsonMessage', () => {
  it.each([
    ['invalid UTF-8 bytes', new Uint8Array([0x7b, 0xff, 0x7d])],
    ['text with a lone surrogate', '{"a":"\ud800"}'],
    ['not JSON', 'hello'],
    ['an array', '[]'],
    ['a number', '1'],
    ['null', 'null'],
    ['an empty body', ''],
  ])('refuses %s with 400', async (_name, body) => {
    const { gateway, http, connect } = setup({ handlers: { chat } })
    const { connectionId } = await connect()
    const response = await gateway.handle(http.message({ connectionId, body }))
    expect(response.status).toBe(400)
  })

  it('refuses a message with no body at all (never treated as {})', async () => {
    const { gateway, http, connect, events } = setup({ handlers: { default: fallback } })
    const { connectionId } = await connect()
    const response = await gateway.handle({
      ...http.message({ connectionId, body: '' }),
      body: null,
    })
    expect(response.status).toBe(400)
    expect(rejectionCodes(events)).toEqual(['JSON_INVALID'])
  })
})

describe('knownConnection', () => {
  it('refuses an unknown connection id with 404 (never 5xx)', async () => {
    const { gateway, http, events } = setup({ handlers: { chat } })
    const response = await gateway.handle(
      http.message({ connectionId: 'neverConnected1', body: { action: 'chat' } }),
    )
    expect(response.status).toBe(404)
    expect(rejectionCodes(events)).toEqual(['CONNECTION_UNKNOWN'])
  })

  it('refuses a disconnected connection with 404', async () => {
    const { gateway, http, connect } = setup({ handlers: { chat } })
    const { connectionId } = await connect()
    await gateway.handle(http.disconnect({ connectionId }))
    const response = await gateway.handle(http.message({ connectionId, body: { action: 'chat' } }))
    expect(response.status).toBe(404)
  })

  it('counts each accepted message and records when it was seen', async () => {
    const { gateway, http, connect, store, clock } = setup({ handlers: { chat } })
    const { connectionId } = await connect()
    clock.advance(1_234)
    await gateway.handle(http.message({ connectionId, body: { action: 'chat' } }))
    await gateway.handle(http.message({ connectionId, body: { action: 'chat' } }))
    const record = await store.connections.get(connectionId)
    expect(record?.requestCount).toBe(2)
    expect(record?.lastSeenAt).toBe(clock.now())
  })

  it('does not count a message refused before the connection is looked up', async () => {
    const { gateway, http, connect, store } = setup({ handlers: { chat } })
    const { connectionId } = await connect()
    await gateway.handle(http.message({ connectionId, body: 'not json' }))
    expect((await store.connections.get(connectionId))?.requestCount).toBe(0)
  })
})

describe('selectHandler', () => {
  async function route(
    body: unknown,
    handlers: Record<string, ReturnType<typeof defineHandler>>,
    extra: { route?: string; handlerKeys?: string[] } = {},
  ) {
    const kit = setup({
      handlers,
      ...(extra.handlerKeys === undefined ? {} : { handlerKeys: extra.handlerKeys }),
    })
    const { connectionId } = await kit.connect()
    const response = await kit.gateway.handle(
      kit.http.message({
        connectionId,
        body,
        ...(extra.route === undefined ? {} : { route: extra.route }),
      }),
    )
    return { status: response.status, body: response.status === 200 ? bodyOf(response) : null }
  }

  it('selects by `handler` first, then `action`', async () => {
    expect(
      await route({ handler: 'chat', action: 'default' }, { chat, default: fallback }),
    ).toEqual({
      status: 200,
      body: { handled: 'chat' },
    })
    expect(await route({ action: 'chat' }, { chat, default: fallback })).toEqual({
      status: 200,
      body: { handled: 'chat' },
    })
  })

  it('uses the configured handlerKeys only', async () => {
    expect(await route({ type: 'chat' }, { chat }, { handlerKeys: ['type'] })).toMatchObject({
      status: 200,
    })
    expect(await route({ action: 'chat' }, { chat }, { handlerKeys: ['type'] })).toMatchObject({
      status: 400,
    })
  })

  it('routes a message without a key to `default`, or refuses it when there is none', async () => {
    expect(await route({ text: 'hi' }, { chat, default: fallback })).toEqual({
      status: 200,
      body: { handled: 'default' },
    })
    expect(await route({ text: 'hi' }, { chat })).toMatchObject({ status: 400 })
  })

  it('routes a custom route without a key to the handler of that name', async () => {
    expect(await route({ text: 'hi' }, { chat, default: fallback }, { route: 'chat' })).toEqual({
      status: 200,
      body: { handled: 'chat' },
    })
    expect(await route({ text: 'hi' }, { default: fallback }, { route: 'other' })).toMatchObject({
      status: 400,
    })
  })

  it.each([1, null, true, ['chat'], { name: 'chat' }])(
    'refuses a non-string handler name %j (400), never falling back',
    async (name) => {
      expect(await route({ action: name }, { chat, default: fallback })).toMatchObject({
        status: 400,
      })
    },
  )

  it('refuses an unknown name even when `default` is registered', async () => {
    expect(await route({ action: 'nope' }, { chat, default: fallback })).toMatchObject({
      status: 400,
    })
  })
})

describe('messagePermissions', () => {
  const granted = (held: string[]) => ({
    hasPermission: (_subject: unknown, permission: string) => held.includes(permission),
  })

  async function send(held: string[]) {
    const kit = setup({
      auth: granted(held),
      permissions: { allOf: ['ws:use'] },
      handlers: {
        admin: defineHandler({
          permissions: { anyOf: ['admin', 'owner'], allOf: ['mfa'] },
          handle: () => 'ok',
        }),
      },
    })
    const { connectionId } = await kit.connect()
    return (await kit.gateway.handle(kit.http.message({ connectionId, body: { action: 'admin' } })))
      .status
  }

  it('enforces the gateway-level and the handler’s requirements together', async () => {
    expect(await send(['ws:use', 'admin', 'mfa'])).toBe(200)
    expect(await send(['ws:use', 'owner', 'mfa'])).toBe(200)
    expect(await send(['admin', 'mfa'])).toBe(403)
    expect(await send(['ws:use', 'mfa'])).toBe(403)
    expect(await send(['ws:use', 'admin'])).toBe(403)
  })
})

describe('payloadSchema', () => {
  const schema = v.object({
    action: v.literal('add'),
    a: v.number(),
    b: v.pipe(v.string(), v.transform(Number)),
  })
  const add = defineHandler({ schema, handle: (_ctx, input) => ({ sum: input.a + input.b }) })

  it('hands the validated (and transformed) value to the handler', async () => {
    const { gateway, http, connect } = setup({ handlers: { add } })
    const { connectionId } = await connect()
    const response = await gateway.handle(
      http.message({ connectionId, body: { action: 'add', a: 1, b: '2' } }),
    )
    expect(bodyOf(response)).toEqual({ sum: 3 })
  })

  it('refuses a payload the schema rejects (400) without running the handler', async () => {
    let ran = false
    const { gateway, http, connect, events } = setup({
      handlers: {
        add: defineHandler({
          schema,
          handle: () => {
            ran = true
          },
        }),
      },
    })
    const { connectionId } = await connect()
    const response = await gateway.handle(
      http.message({ connectionId, body: { action: 'add', a: 'x', b: '2' } }),
    )
    expect(response.status).toBe(400)
    expect(ran).toBe(false)
    expect(rejectionCodes(events)).toEqual(['PAYLOAD_INVALID'])
  })

  it('hands the whole message to a handler without a schema', async () => {
    const { gateway, http, connect } = setup()
    const { connectionId } = await connect()
    const response = await gateway.handle(
      http.message({ connectionId, body: { action: 'echo', x: [1] } }),
    )
    expect(bodyOf(response)).toEqual({ action: 'echo', x: [1] })
  })

  it('accepts any Standard Schema implementation, including async ones', async () => {
    const evenOnly = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: async (value: unknown) =>
          (value as { n?: unknown }).n === 2
            ? { value: { n: 2 } }
            : { issues: [{ message: 'odd' }] },
      },
    }
    const { gateway, http, connect } = setup({
      handlers: { even: defineHandler({ schema: evenOnly, handle: (_c, input) => input }) },
    })
    const { connectionId } = await connect()
    expect(
      (await gateway.handle(http.message({ connectionId, body: { action: 'even', n: 2 } }))).status,
    ).toBe(200)
    expect(
      (await gateway.handle(http.message({ connectionId, body: { action: 'even', n: 3 } }))).status,
    ).toBe(400)
  })
})

describe('custom message checks', () => {
  it('run after the built-in checks with the parsed message and handler name', async () => {
    const seen: unknown[] = []
    const { gateway, http, connect } = setup({
      checks: {
        message: [
          (input) => {
            seen.push({ handler: input.handler, message: input.message, userId: input.userId })
            return input.message?.blocked === true ? reject('CHECK_FAILED') : undefined
          },
        ],
      },
    })
    const { connectionId } = await connect({ userId: 'carol' })
    expect(
      (await gateway.handle(http.message({ connectionId, body: { action: 'echo' } }))).status,
    ).toBe(200)
    expect(
      (
        await gateway.handle(
          http.message({ connectionId, body: { action: 'echo', blocked: true } }),
        )
      ).status,
    ).toBe(403)
    expect(seen[0]).toEqual({ handler: 'echo', message: { action: 'echo' }, userId: 'carol' })
  })
})
