// server/gateway.ts: the handlers the browser calls, and the type it imports.
import { createGateway, defineHandler } from '@apigw-ws/core'
import { awsConnections } from '@apigw-ws/core/aws'
import { memoryStore } from '@apigw-ws/store-memory'
import * as v from 'valibot'

export const handlers = {
  chat: defineHandler({
    schema: v.object({ room: v.string(), text: v.pipe(v.string(), v.maxLength(500)) }),
    handle: async (ctx, input) => {
      await ctx.send.toChannel(input.room, { room: input.room, from: ctx.userId, text: input.text })
      return { sent: true }
    },
  }),
  // `client.join(channel)` and `client.leave(channel)` call these two.
  join: defineHandler({
    schema: v.object({ channel: v.string() }),
    handle: (ctx, input) => ctx.join(input.channel),
  }),
  leave: defineHandler({
    schema: v.object({ channel: v.string() }),
    handle: (ctx, input) => ctx.leave(input.channel),
  }),
}

/** What the browser imports with `import type`: no server code reaches the bundle. */
export type AppHandlers = typeof handlers

export const gateway = createGateway({
  store: memoryStore(),
  connections: awsConnections({ region: 'eu-west-1' }),
  integrationSecret: process.env.APIGW_SECRET,
  allowedOrigins: ['https://app.example.com'],
  clientProtocol: true, // reply envelopes, $heartbeat, push ids
  handlers,
})
