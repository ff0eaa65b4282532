import { createGateway, defineHandler, logEvents } from '@apigw-ws/core'
import { memoryStore } from '@apigw-ws/store-memory'
import * as v from 'valibot'

interface User {
  readonly id: string
  readonly roles: readonly string[]
}
const users = new Map<string, User>([['u1', { id: 'u1', roles: ['member'] }]])

export const gateway = createGateway<User>({
  store: memoryStore(),
  integrationSecret: ['current-secret-0123456789', 'previous-secret-0123456789'],
  allowedOrigins: ['https://app.example.com'],
  auth: {
    resolveSession: (req) => /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? null,
    loadUser: (id) => users.get(id) ?? null,
    hasPermission: ({ user }, permission) => user?.roles.includes(permission) ?? false,
    authorizeChannel: ({ user, channel }) =>
      channel !== 'admins' || user?.roles.includes('admin') === true,
  },
  permissions: { anyOf: ['member', 'admin'] },
  handlers: {
    join: defineHandler<User, { room: string }>({
      schema: v.object({ room: v.string() }),
      handle: async (ctx, input) => {
        await ctx.join(input.room) // validated and authorized; refusals answer 400/403
        return { joined: input.room }
      },
    }),
    ban: defineHandler<User>({
      permissions: { allOf: ['admin'] },
      handle: () => ({ ok: true }),
    }),
  },
  // One line per refusal and lifecycle step (code, route, detail; never tokens, cookies,
  // secrets or bodies). Pass your own function to ship the typed events elsewhere.
  onEvent: logEvents(),
})
