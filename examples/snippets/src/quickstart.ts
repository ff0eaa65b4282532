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

// Your own session lookup: the signed-in user of a request, or null.
declare function signedIn(req: Request): Promise<{ userId: string } | null>

export default {
  async fetch(req: Request): Promise<Response> {
    const { pathname } = new URL(req.url)
    // The page, signed-in users only: POST /ws-token → { token, expiresIn } (CSRF-checked)
    if (pathname === '/ws-token') return gateway.fetchToken(req, await signedIn(req))
    // API Gateway's HTTP integration: POST /ws/connect | /ws/disconnect | /ws/default | /ws/<route>
    if (pathname.startsWith('/ws/')) return gateway.fetch(req)
    return new Response('Not Found', { status: 404 })
  },
}
