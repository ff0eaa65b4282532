import { defineHandler } from '@apigw-ws/core'
import * as v from 'valibot'
import { describe, expectTypeOf, it } from 'vitest'
import { type Client, createClient } from './client.js'
import type { RequestInput } from './types.js'

// What an app's server module exports; the client only ever sees `typeof handlers`.
const handlers = {
  chat: defineHandler({
    schema: v.object({ action: v.literal('chat'), text: v.string(), room: v.optional(v.string()) }),
    handle: async (_ctx, input) => ({ id: 1, text: input.text, at: Date.now() }),
  }),
  ping: defineHandler({ handle: () => 'pong' as const }),
  join: defineHandler({
    schema: v.object({ channel: v.string() }),
    handle: async (ctx, input) => {
      await ctx.join(input.channel)
    },
  }),
}
type AppHandlers = typeof handlers

declare const client: Client<AppHandlers>

describe('inferred request and reply types', () => {
  it('takes the schema output minus routing keys, and resolves the awaited return value', () => {
    expectTypeOf<RequestInput<AppHandlers['chat']>>().toEqualTypeOf<{
      text: string
      room?: string | undefined
    }>()
    expectTypeOf(client.request('chat', { text: 'hi' })).resolves.toEqualTypeOf<{
      id: number
      text: string
      at: number
    }>()
    expectTypeOf(client.request('ping')).resolves.toEqualTypeOf<'pong'>()
    expectTypeOf(client.request('join', { channel: 'x' })).resolves.toEqualTypeOf<void>()
    void client.request('chat', { text: 'hi' }, { timeoutMs: 5_000 })
    client.send('chat', { text: 'hi', room: 'lobby' })
  })

  it('rejects unknown handlers, missing and mistyped inputs', () => {
    // @ts-expect-error: no handler named `nope`
    void client.request('nope')
    // @ts-expect-error: `text` is required
    void client.request('chat', {})
    // @ts-expect-error: `text` must be a string
    client.send('chat', { text: 1 })
    // @ts-expect-error: input is required for chat
    void client.request('chat')
  })

  it('is untyped (but still checked as objects) without a handler map', () => {
    const loose = createClient({ url: 'wss://x', token: async () => 't' })
    expectTypeOf(loose.request('anything', { a: 1 })).resolves.toEqualTypeOf<unknown>()
    expectTypeOf(loose.request('anything')).resolves.toEqualTypeOf<unknown>()
    loose.close()
  })
})
