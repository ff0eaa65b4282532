/**
 * The chat backend as a Lambda function (AWS_PROXY): the chat example's handlers over a
 * PostgreSQL store, since Lambda instances share no memory. Tokens are issued by the web app
 * that signs users in (`gateway.issueToken` over the same database).
 */
import { gatewayOptions } from '@apigw-ws/cdk/settings'
import { createGateway, defineHandler, type Store, type WebSocketEvent } from '@apigw-ws/core'
import { awsConnections } from '@apigw-ws/core/aws'
import { kyselyStore } from '@apigw-ws/store-kysely'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import * as v from 'valibot'
import { chatSettings } from './settings.js'

const db = new Kysely<unknown>({
  dialect: new PostgresDialect({
    pool: new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 }),
  }),
})
const store = kyselyStore({ db })

async function onlineUsers(source: Store): Promise<string[]> {
  const users = new Set<string>()
  let cursor: string | null = null
  do {
    const page = await source.connections.list({ all: true }, { cursor, limit: 500 })
    for (const connection of page.items) {
      if (connection.userId !== null) users.add(connection.userId)
    }
    cursor = page.nextCursor
  } while (cursor !== null)
  return [...users].sort()
}

const room = v.object({ room: v.string() })

const gateway = createGateway<string>({
  ...gatewayOptions(chatSettings('lambda'), { apiId: process.env.APIGW_WS_API_ID }),
  store,
  connections: awsConnections({ region: process.env.AWS_REGION ?? 'us-east-1' }),
  allowedOrigins: (process.env.ALLOWED_ORIGINS ?? '').split(',').filter(Boolean),
  auth: { loadUser: (userId) => userId },
  handlers: {
    join: defineHandler<string, { room: string }>({
      schema: room,
      handle: async (ctx, input) => {
        await ctx.join(input.room)
        return { type: 'joined', room: input.room }
      },
    }),
    leave: defineHandler<string, { room: string }>({
      schema: room,
      handle: async (ctx, input) => {
        await ctx.leave(input.room)
        return { type: 'left', room: input.room }
      },
    }),
    chat: defineHandler<string, { room: string; text: string }>({
      schema: v.object({
        room: v.string(),
        text: v.pipe(v.string(), v.minLength(1), v.maxLength(500)),
      }),
      handle: async (ctx, input) => {
        if (!(await ctx.channels()).includes(input.room)) return undefined
        await ctx.send.toChannel(input.room, {
          type: 'chat',
          room: input.room,
          from: ctx.userId,
          text: input.text,
        })
        return undefined
      },
    }),
    who: defineHandler<string>({
      handle: async () => ({ type: 'who', users: await onlineUsers(store) }),
    }),
  },
})

/** The function's handler. */
export const handler = (event: WebSocketEvent) => gateway.lambda(event)
