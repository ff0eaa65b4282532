/**
 * The chat demo's backend: a Hono app with a demo login (name + session cookie), the
 * CSRF-protected token route, the API Gateway integration routes, chat handlers (join, leave,
 * chat, who), a notification route that sends to a user, and a security log fed by `onEvent`.
 * Everything security-relevant is apigw-ws's; this file is the app a user would write.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { tokenRoute, websocketRoutes } from '@apigw-ws/adapter-hono'
import {
  createGateway,
  defineHandler,
  type Gateway,
  type GatewayEvent,
  logEvents,
  RejectionError,
  type Store,
} from '@apigw-ws/core'
import { awsConnections } from '@apigw-ws/core/aws'
import { Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import * as v from 'valibot'
import { WebSocket } from 'ws'

/** What the chat app needs from its surroundings. */
export interface ChatAppOptions {
  readonly store: Store
  /** The integration secret the local gateway adds to every call. */
  readonly secret: string
  /** Origins the page is served from. */
  readonly allowedOrigins: readonly string[]
  /** The WebSocket URL the page connects to (read on every `/config` request). */
  readonly webSocketUrl: () => string
  /** The `@connections` endpoint (read on every send). */
  readonly managementEndpoint: () => string
}

/** One line of the security log panel. */
export interface SecurityLogEntry {
  readonly at: number
  readonly kind: string
  readonly code: string
  readonly route: string | null
}

const NAME = /^[A-Za-z0-9_-]{1,32}$/
const SESSION_COOKIE = 'sid'
const LOG_SIZE = 50
const publicDir = fileURLToPath(new URL('../public/', import.meta.url))

function randomId(): string {
  const bytes = new Uint8Array(24)
  crypto.getRandomValues(bytes)
  return Buffer.from(bytes).toString('base64url')
}

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return rest.join('=')
  }
  return null
}

/** Builds the Hono app and the apigw-ws gateway behind it. */
export function createChatApp(options: ChatAppOptions): { app: Hono; gateway: Gateway } {
  const sessions = new Map<string, string>()
  const securityLog: SecurityLogEntry[] = []
  const record = (entry: SecurityLogEntry): void => {
    securityLog.push(entry)
    if (securityLog.length > LOG_SIZE) securityLog.shift()
  }
  // The terminal gets every event as a line (never a secret); the page's panel gets refusals.
  const printEvent = logEvents()
  const onEvent = (event: GatewayEvent): void => {
    printEvent(event)
    if (event.type === 'request.rejected') {
      record({ at: event.at, kind: 'rejected', code: event.code, route: event.route })
    } else if (event.type === 'token.rejected') {
      record({ at: event.at, kind: 'token refused', code: event.code, route: null })
    }
  }

  const gateway = createGateway<string>({
    store: options.store,
    connections: awsConnections({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      endpoint: () => options.managementEndpoint(),
    }),
    integrationSecret: options.secret,
    allowedOrigins: options.allowedOrigins,
    auth: {
      // Session-bound tokens: the page and the local gateway share the host, so the cookie
      // reaches `$connect` and a leaked token is useless without it.
      resolveSession: (request) => cookieValue(request.headers.cookie, SESSION_COOKIE),
      loadUser: (userId) => userId,
      authorizeChannel: ({ userId, channel }) => channel !== 'staff' || userId === 'admin',
    },
    handlers: {
      join: defineHandler<string, { room: string }>({
        schema: v.object({ room: v.string() }),
        handle: async (ctx, input) => {
          await ctx.join(input.room)
          await ctx.send.toChannel(
            input.room,
            { type: 'system', room: input.room, text: `${ctx.userId} joined` },
            { except: ctx.connectionId },
          )
          return { type: 'joined', room: input.room }
        },
      }),
      leave: defineHandler<string, { room: string }>({
        schema: v.object({ room: v.string() }),
        handle: async (ctx, input) => {
          await ctx.leave(input.room)
          return { type: 'left', room: input.room }
        },
      }),
      chat: defineHandler<string, { room: string; text: string }>({
        schema: v.object({
          room: v.string(),
          text: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(500)),
        }),
        handle: async (ctx, input) => {
          if (!ctx.channels.includes(input.room)) throw new RejectionError('CHANNEL_FORBIDDEN')
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
        handle: async () => ({ type: 'who', users: await onlineUsers(options.store) }),
      }),
    },
    onEvent,
  })

  const app = new Hono()
  const currentUser = (sid: string | undefined): string | null =>
    sid === undefined ? null : (sessions.get(sid) ?? null)

  app.get('/', async (c) => c.html(await readFile(`${publicDir}index.html`, 'utf8')))
  app.get('/app.js', async (c) =>
    c.body(await readFile(`${publicDir}app.js`, 'utf8'), 200, {
      'content-type': 'text/javascript; charset=utf-8',
    }),
  )
  app.get('/config', (c) => c.json({ webSocketUrl: options.webSocketUrl() }))

  app.post('/login', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { name?: unknown } | null
    const name = body?.name
    if (typeof name !== 'string' || !NAME.test(name)) {
      return c.json({ error: 'Pick a name of 1–32 letters, digits, - or _.' }, 400)
    }
    const sid = randomId()
    sessions.set(sid, name)
    setCookie(c, SESSION_COOKIE, sid, { httpOnly: true, sameSite: 'Lax', path: '/' })
    return c.json({ name })
  })
  app.get('/me', (c) => c.json({ name: currentUser(getCookie(c, SESSION_COOKIE)) }))
  app.post('/logout', async (c) => {
    const sid = getCookie(c, SESSION_COOKIE)
    const name = currentUser(sid)
    if (sid !== undefined) sessions.delete(sid)
    deleteCookie(c, SESSION_COOKIE, { path: '/' })
    if (name !== null) await gateway.send.disconnectUser(name)
    return c.json({ ok: true })
  })

  app.all(
    '/ws-token',
    tokenRoute(gateway, {
      identify: (c) => {
        const sid = getCookie(c, SESSION_COOKIE)
        const name = currentUser(sid)
        return name === null || sid === undefined ? null : { userId: name, sessionId: sid }
      },
    }),
  )
  app.route('/ws', websocketRoutes(gateway))

  // An ordinary HTTP route that pushes to every tab of a user.
  app.post('/notify', async (c) => {
    const from = currentUser(getCookie(c, SESSION_COOKIE))
    if (from === null) return c.json({ error: 'sign in first' }, 401)
    const body = (await c.req.json().catch(() => null)) as { to?: unknown; text?: unknown } | null
    if (typeof body?.to !== 'string' || typeof body.text !== 'string' || body.text.length > 200) {
      return c.json({ error: 'to and text (≤ 200 characters) are required' }, 400)
    }
    const report = await gateway.send.toUser(body.to, { type: 'notify', from, text: body.text })
    return c.json({
      delivered: report.delivered,
      gone: report.gone.length,
      failed: report.failed.length,
    })
  })

  app.get('/security-log', (c) => c.json({ entries: [...securityLog].reverse() }))

  // Demonstrates the origin check: a script on another site cannot open a socket as this user.
  // The server itself plays the attacker, with a valid token and a forged Origin.
  app.post('/demo/forged-origin', async (c) => {
    const sid = getCookie(c, SESSION_COOKIE)
    const name = currentUser(sid)
    if (name === null || sid === undefined) return c.json({ error: 'sign in first' }, 401)
    const issued = await gateway.issueToken({
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin' },
      userId: name,
      sessionId: sid,
    })
    const { token } = JSON.parse(issued.body ?? '{}') as { token?: string }
    const status = await tryConnect(`${options.webSocketUrl()}?token=${token ?? ''}`, {
      origin: 'https://evil.example',
      cookie: `${SESSION_COOKIE}=${sid}`,
    })
    return c.json({ status })
  })

  return { app, gateway }
}

/** Opens a socket with the given headers; resolves the handshake status (101 on success). */
function tryConnect(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers, handshakeTimeout: 5_000 })
    socket.on('open', () => {
      socket.close()
      resolve(101)
    })
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0)
      socket.terminate()
    })
    socket.on('error', () => resolve(0))
  })
}

/** Distinct users with at least one open connection, read page by page. */
async function onlineUsers(store: Store): Promise<string[]> {
  const users = new Set<string>()
  let cursor: string | null = null
  do {
    const page = await store.connections.list({ all: true }, { cursor, limit: 500 })
    for (const connection of page.items) {
      if (connection.userId !== null) users.add(connection.userId)
    }
    cursor = page.nextCursor
  } while (cursor !== null)
  return [...users].sort()
}
