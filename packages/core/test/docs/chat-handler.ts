import { defineHandler } from '@apigw-ws/core'
import * as v from 'valibot'

const ChatMessage = v.object({
  action: v.literal('chat'),
  room: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,128}$/)),
  text: v.pipe(v.string(), v.minLength(1), v.maxLength(2_000)),
})

// Relays a message to everyone else in the room. The author learns how many were reached;
// recipients that failed are in the report, and gone ones are already pruned from the store.
export const chat = defineHandler({
  schema: ChatMessage,
  handle: async (ctx, input) => {
    if (!(await ctx.channels()).includes(input.room)) return { ok: false }
    const report = await ctx.send.toChannel(
      input.room,
      { type: 'chat', room: input.room, from: ctx.userId, text: input.text },
      { except: ctx.connectionId },
    )
    return { ok: true, delivered: report.delivered }
  },
})
