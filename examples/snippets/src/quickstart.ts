import { createGateway, defineHandler, logEvents } from '@apigw-ws/core'
import { memoryStore } from '@apigw-ws/store-memory'
import * as v from 'valibot'

const gateway = createGateway({
  store: memoryStore(),
  integrationSecret: process.env.APIGW_SECRET,
  allowedOrigins: ['https://app.example.com'],
  onEvent: logEvents(), // a line per refusal and step, never a secret
  handlers: {
    chat: defineHandler({
      schema: v.object({ action: v.literal('chat'), text: v.pipe(v.string(), v.maxLength(500)) }),
      handle: (ctx, input) => ({ echo: input.text, from: ctx.userId }),
    }),
  },
})

// Your app, signed-in user only: POST /ws-token → { token, expiresIn }
export const issue = (req: Request, userId: string) =>
  gateway.issueToken({ method: req.method, headers: req.headers, userId })

// API Gateway's HTTP integration: POST /ws/connect | /ws/disconnect | /ws/default | /ws/<route>
export default { fetch: (req: Request) => gateway.fetch(req) }
