import { tokenRoute, websocketRoutes } from '@apigw-ws/adapter-hono'
import { createGateway, defineHandler, logEvents } from '@apigw-ws/core'
import { awsConnections } from '@apigw-ws/core/aws'
import { memoryStore } from '@apigw-ws/store-memory'
import { type HttpBindings, serve } from '@hono/node-server'
import { Hono } from 'hono'
import { getCookie } from 'hono/cookie'
import * as v from 'valibot'

// Your session store: session id → user id.
const sessions = new Map<string, string>()

const gateway = createGateway({
  store: memoryStore(),
  connections: awsConnections({ region: 'eu-west-1' }),
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

type AppEnv = { Bindings: HttpBindings; Variables: { userId: string | null } }
const app = new Hono<AppEnv>()

// Your auth middleware decides who is signed in.
app.use('*', async (c, next) => {
  c.set('userId', sessions.get(getCookie(c, 'sid') ?? '') ?? null)
  await next()
})

// API Gateway's HTTP integration: POST /ws/connect | /ws/disconnect | /ws/default | /ws/<route>
app.route(
  '/ws',
  websocketRoutes<AppEnv>(gateway, { peer: (c) => c.env.incoming.socket.remoteAddress }),
)

// The signed-in browser: POST /ws-token → { token, expiresIn }, then wss://…?token=…
app.post(
  '/ws-token',
  tokenRoute<AppEnv>(gateway, {
    identify: (c) => {
      const userId = c.get('userId')
      return userId === null ? null : { userId }
    },
  }),
)

// Any ordinary route can push to a user's open sockets.
app.post('/notify/:userId', async (c) => {
  if (c.get('userId') === null) return c.text('Unauthorized', 401)
  const report = await gateway.send.toUser(c.req.param('userId'), {
    type: 'notice',
    text: await c.req.text(),
  })
  return c.json({ delivered: report.delivered, gone: report.gone.length })
})

serve({ fetch: app.fetch, port: 3000 })
