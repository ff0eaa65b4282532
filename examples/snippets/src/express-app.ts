import { tokenHandler, websocketRouter } from '@apigw-ws/adapter-express'
import { createGateway, defineHandler, logEvents } from '@apigw-ws/core'
import { awsConnections } from '@apigw-ws/core/aws'
import { memoryStore } from '@apigw-ws/store-memory'
import express from 'express'
import * as v from 'valibot'

// Your session store: session id → user id.
const sessions = new Map<string, string>()
const userOf = (req: express.Request): string | null => {
  const sid = /(?:^|;\s*)sid=([^;]+)/.exec(req.get('cookie') ?? '')?.[1]
  return sid === undefined ? null : (sessions.get(sid) ?? null)
}

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

const app = express()

// API Gateway's HTTP integration: POST /ws/connect | /ws/disconnect | /ws/default | /ws/<route>.
// Mount it before any global body parser: the router reads the raw body itself, under the cap.
app.use('/ws', websocketRouter(gateway))

// The signed-in browser: POST /ws-token → { token, expiresIn }, then wss://…?token=…
app.post(
  '/ws-token',
  tokenHandler(gateway, {
    identify: (req) => {
      const userId = userOf(req)
      return userId === null ? null : { userId }
    },
  }),
)

// Any ordinary route can push to a user's open sockets.
app.post('/notify/:userId', express.json(), async (req, res) => {
  if (userOf(req) === null) {
    res.status(401).end()
    return
  }
  const report = await gateway.send.toUser(req.params.userId, {
    type: 'notice',
    text: String(req.body?.text ?? ''),
  })
  res.json({ delivered: report.delivered, gone: report.gone.length })
})

app.listen(3000)
