import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { API_ID, bodyOf, rejectionCodes, setup } from '../test/gateway-kit.js'
import { buildRegistry, defineHandler, type HandlerContext } from './handlers.js'
import { RejectionError } from './rejections.js'
import { capturingConnections } from './testing/capturing-connections.js'

describe('defineHandler', () => {
  it('returns the definition unchanged (it exists for type inference)', () => {
    const definition = { handle: () => 1 }
    expect(defineHandler(definition)).toBe(definition)
  })
})

describe('buildRegistry', () => {
  it('is a Map of exactly the registered names, from a record or a Map', () => {
    const handle = () => undefined
    const fromRecord = buildRegistry({ chat: { handle }, ping: { handle } })
    expect(fromRecord).toBeInstanceOf(Map)
    expect([...fromRecord.keys()]).toEqual(['chat', 'ping'])
    const fromMap = buildRegistry(new Map([['chat', { handle }]]))
    expect([...fromMap.keys()]).toEqual(['chat'])
    expect(buildRegistry(undefined).size).toBe(0)
  })

  it('never reaches Object.prototype or inherited properties', () => {
    const registry = buildRegistry(
      Object.assign(Object.create({ inherited: { handle: () => undefined } }), {
        chat: { handle: () => undefined },
      }),
    )
    for (const name of [
      'constructor',
      'toString',
      'hasOwnProperty',
      '__proto__',
      'inherited',
      'valueOf',
    ]) {
      expect(registry.get(name)).toBeUndefined()
    }
  })

  it.each(['_private', '123', '__proto__', 'a b', '', 'h'.repeat(65)])(
    'refuses to register %j (TypeError naming it)',
    (name) => {
      const handlers = new Map([[name, { handle: () => undefined }]])
      expect(() => buildRegistry(handlers)).toThrow(TypeError)
      expect(() => buildRegistry(handlers)).toThrow(JSON.stringify(name))
    },
  )

  it('normalizes each handler’s permissions and keeps its schema', () => {
    const schema = v.object({})
    const registry = buildRegistry({
      chat: { schema, permissions: { anyOf: ['a'] }, handle: () => undefined },
    })
    expect(registry.get('chat')).toMatchObject({
      name: 'chat',
      schema,
      permissions: { anyOf: ['a'], allOf: [] },
    })
  })
})

describe('the handler context', () => {
  it('describes the connection, the user and the event', async () => {
    let seen: HandlerContext | undefined
    const { gateway, http, connect, clock } = setup({
      apiIds: [API_ID],
      auth: { loadUser: (id) => ({ id, role: 'member' }) },
      handlers: {
        look: defineHandler({
          handle: (ctx) => {
            seen = ctx
          },
        }),
      },
    })
    const { connectionId } = await connect({ userId: 'dave', channel: 'lobby' })
    clock.advance(500)
    const request = http.message({ connectionId, body: { action: 'look', n: 1 } })
    const response = await gateway.handle(request)
    expect(response).toEqual({ status: 200, headers: {}, body: null })
    expect(seen).toMatchObject({
      connectionId,
      userId: 'dave',
      user: { id: 'dave', role: 'member' },
      message: { action: 'look', n: 1 },
      event: {
        route: '$default',
        requestId: request.headers['x-amzn-trace-id'],
        apiId: API_ID,
        receivedAt: clock.now(),
      },
    })
  })

  it('serializes a returned value as the JSON reply body', async () => {
    const { gateway, http, connect } = setup({
      handlers: {
        sum: defineHandler({ handle: (_ctx, input) => ({ n: (input as { n: number }).n + 1 }) }),
      },
    })
    const { connectionId } = await connect()
    const response = await gateway.handle(
      http.message({ connectionId, body: { action: 'sum', n: 41 } }),
    )
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(bodyOf(response)).toEqual({ n: 42 })
  })

  it('replies through the connections transport', async () => {
    const connections = capturingConnections()
    const { gateway, http, connect } = setup({
      connections,
      handlers: {
        ping: defineHandler({
          handle: async (ctx) => {
            const report = await ctx.reply({ pong: true })
            return { delivered: report.delivered }
          },
        }),
      },
    })
    const { connectionId } = await connect()
    const response = await gateway.handle(http.message({ connectionId, body: { action: 'ping' } }))
    expect(bodyOf(response)).toEqual({ delivered: 1 })
    expect(connections.json(connectionId)).toEqual([{ pong: true }])
  })

  it('fails closed (500) when a handler sends without a configured transport', async () => {
    const { gateway, http, connect, events } = setup({
      handlers: { ping: defineHandler({ handle: (ctx) => ctx.reply('x') }) },
    })
    const { connectionId } = await connect()
    const response = await gateway.handle(http.message({ connectionId, body: { action: 'ping' } }))
    expect(response.status).toBe(500)
    expect(events.find((e) => e.type === 'internal.error')).toMatchObject({ source: 'handler' })
  })

  it('lets a handler refuse with a code (RejectionError)', async () => {
    const { gateway, http, connect, events } = setup({
      handlers: {
        deny: defineHandler({
          handle: () => {
            throw new RejectionError('PERMISSION_DENIED', 'deny')
          },
        }),
      },
    })
    const { connectionId } = await connect()
    const response = await gateway.handle(http.message({ connectionId, body: { action: 'deny' } }))
    expect(response.status).toBe(403)
    expect(rejectionCodes(events)).toEqual(['PERMISSION_DENIED'])
  })
})

describe('join and leave', () => {
  function channelKit(authorize?: (channel: string, action: string) => boolean) {
    return setup({
      ...(authorize === undefined
        ? {}
        : {
            auth: {
              authorizeChannel: (r: { channel: string; action: string }) =>
                authorize(r.channel, r.action),
            },
          }),
      handlers: {
        join: defineHandler({
          handle: async (ctx, input) => {
            await ctx.join((input as { channel: string }).channel)
            return ctx.channels()
          },
        }),
        leave: defineHandler({
          handle: async (ctx, input) => {
            await ctx.leave((input as { channel: string }).channel)
            return ctx.channels()
          },
        }),
      },
    })
  }

  it('subscribes and unsubscribes; ctx.channels() reads the store', async () => {
    const { gateway, http, connect, store } = channelKit()
    const { connectionId } = await connect({ channel: 'lobby' })
    const joined = await gateway.handle(
      http.message({ connectionId, body: { action: 'join', channel: 'room-2' } }),
    )
    expect(bodyOf(joined)).toEqual(['lobby', 'room-2'])
    const again = await gateway.handle(
      http.message({ connectionId, body: { action: 'join', channel: 'room-2' } }),
    )
    expect(bodyOf(again)).toEqual(['lobby', 'room-2'])
    expect([...(await store.connections.channels(connectionId))]).toEqual(['lobby', 'room-2'])
    const left = await gateway.handle(
      http.message({ connectionId, body: { action: 'leave', channel: 'lobby' } }),
    )
    expect(bodyOf(left)).toEqual(['room-2'])
    expect([...(await store.connections.channels(connectionId))]).toEqual(['room-2'])
  })

  it.each(['bad channel', '', 'c'.repeat(129), 'room=1'])(
    'refuses to join or leave the invalid channel %j (400)',
    async (channel) => {
      const { gateway, http, connect, store } = channelKit()
      const { connectionId } = await connect()
      for (const action of ['join', 'leave']) {
        const response = await gateway.handle(
          http.message({ connectionId, body: { action, channel } }),
        )
        expect(response.status).toBe(400)
      }
      expect([...(await store.connections.channels(connectionId))]).toEqual([])
    },
  )

  it('joins a 128-character channel', async () => {
    const { gateway, http, connect } = channelKit()
    const { connectionId } = await connect()
    const channel = 'c'.repeat(128)
    const response = await gateway.handle(
      http.message({ connectionId, body: { action: 'join', channel } }),
    )
    expect(bodyOf(response)).toEqual([channel])
  })

  it('asks authorizeChannel with action "join" and refuses when it says no (403)', async () => {
    const asked: string[] = []
    const { gateway, http, connect, store } = channelKit((channel, action) => {
      asked.push(`${action}:${channel}`)
      return channel === 'public'
    })
    const { connectionId } = await connect()
    const denied = await gateway.handle(
      http.message({ connectionId, body: { action: 'join', channel: 'private' } }),
    )
    expect(denied.status).toBe(403)
    const allowed = await gateway.handle(
      http.message({ connectionId, body: { action: 'join', channel: 'public' } }),
    )
    expect(allowed.status).toBe(200)
    expect(asked).toEqual(['join:private', 'join:public'])
    expect([...(await store.connections.channels(connectionId))]).toEqual(['public'])
  })
})
