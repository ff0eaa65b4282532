/**
 * The chat demo's backend: a Hono app with a demo login (a display name; each sign-in is its own
 * session and user id; admin only with the code printed at startup), the CSRF-protected token
 * route, the API Gateway integration routes with the client protocol on (so `@apigw-ws/client`
 * gets typed replies and refusals), chat handlers (join, leave, chat, who), a notification route,
 * and a per-user security log fed by `onEvent`. State-changing POSTs require a JSON content type
 * and an allowed `Origin`. Everything security-relevant is apigw-ws's; this file is the app a
 * user would write.
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
import { build } from 'esbuild'
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
  /** Signing in with this code makes the user an admin (the only way into `staff`). */
  readonly adminCode: string
  /** The page's rollover period (short in tests; the client's default otherwise). */
  readonly rolloverMs?: number
}

/** A signed-in person: one per sign-in, even when two pick the same name. */
interface Person {
  readonly userId: string
  readonly name: string
  readonly isAdmin: boolean
}

/** One line of the security log panel. */
export interface SecurityLogEntry {
  readonly at: number
  readonly kind: string
  readonly code: string
  readonly route: string | null
}

interface StoredLogEntry extends SecurityLogEntry {
  readonly userId: string | null
  readonly connectionId: string | null
}

const NAME = /^[A-Za-z0-9_-]{1,32}$/
const SESSION_COOKIE = 'sid'
const LOG_SIZE = 50
const publicDir = fileURLToPath(new URL('../public/', import.meta.url))

let bundled: Promise<string> | null = null
/** `@apigw-ws/client` bundled for the page once (the demo has no build step). */
function clientBundle(): Promise<string> {
  bundled ??= build({
    entryPoints: [fileURLToPath(import.meta.resolve('@apigw-ws/client'))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    conditions: ['@apigw-ws/source'],
    logLevel: 'silent',
  }).then((result) => result.outputFiles[0]?.text ?? '')
  return bundled
}

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
  const sessions = new Map<string, Person>()
  const people = new Map<string, Person>()
  const securityLog: StoredLogEntry[] = []
  const record = (entry: StoredLogEntry): void => {
    securityLog.push(entry)
    if (securityLog.length > LOG_SIZE) securityLog.shift()
  }
  // The terminal gets every event as a line (never a secret); the page's panel gets refusals.
  const printEvent = logEvents()
  const onEvent = (event: GatewayEvent): void => {
    printEvent(event)
    if (event.type === 'request.rejected') {
      const { at, code, route, connectionId } = event
      record({ at, kind: 'rejected', code, route, userId: null, connectionId })
    } else if (event.type === 'token.rejected') {
      const { at, code, userId } = event
      record({ at, kind: 'token refused', code, route: null, userId, connectionId: null })
    }
  }

  const announced = new Set<string>()
  const nameOf = (userId: string | null): string =>
    (userId === null ? undefined : people.get(userId)?.name) ?? 'someone'
  const gateway = createGateway<Person>({
    store: options.store,
    connections: awsConnections({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      endpoint: () => options.managementEndpoint(),
    }),
    integrationSecret: options.secret,
    allowedOrigins: options.allowedOrigins,
    clientProtocol: true,
    auth: {
      // Session-bound tokens: the page and the local gateway share the host, so the cookie
      // reaches `$connect` and a leaked token is useless without it.
      resolveSession: (request) => cookieValue(request.headers.cookie, SESSION_COOKIE),
      loadUser: (userId) => people.get(userId) ?? null,
      authorizeChannel: ({ user, channel }) => channel !== 'staff' || user?.isAdmin === true,
    },
    handlers: {
      join: defineHandler<Person, { channel: string }>({
        schema: v.object({ channel: v.string() }),
        handle: async (ctx, input) => {
          await ctx.join(input.channel)
          // Announce a person once per room, not on every re-join after a reconnect or rollover.
          const key = `${ctx.userId} ${input.channel}`
          if (!announced.has(key)) {
            announced.add(key)
            await ctx.send.toChannel(
              input.channel,
              { type: 'system', room: input.channel, text: `${nameOf(ctx.userId)} joined` },
              { except: ctx.connectionId },
            )
          }
          return { type: 'joined', room: input.channel }
        },
      }),
      leave: defineHandler<Person, { channel: string }>({
        schema: v.object({ channel: v.string() }),
        handle: async (ctx, input) => {
          await ctx.leave(input.channel)
          return { type: 'left', room: input.channel }
        },
      }),
      chat: defineHandler<Person, { room: string; text: string }>({
        schema: v.object({
          room: v.string(),
          text: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(500)),
        }),
        handle: async (ctx, input) => {
          if (!(await ctx.channels()).includes(input.room)) {
            throw new RejectionError('CHANNEL_FORBIDDEN')
          }
          await ctx.send.toChannel(input.room, {
            type: 'chat',
            room: input.room,
            from: nameOf(ctx.userId),
            text: input.text,
          })
          return undefined
        },
      }),
      who: defineHandler<Person>({
        handle: async () => ({ type: 'who', users: await online() }),
      }),
    },
    onEvent,
  })

  const online = async (): Promise<string[]> =>
    [...new Set((await onlineUsers(options.store)).map((id) => nameOf(id)))].sort()

  const app = new Hono()
  const currentUser = (sid: string | undefined): Person | null =>
    sid === undefined ? null : (sessions.get(sid) ?? null)

  // Every state-changing POST: a JSON body from one of our own pages, or nothing happens. A
  // cross-site form cannot send JSON, and a cross-site fetch carries its own Origin.
  const allowed = new Set(options.allowedOrigins)
  app.use('*', async (c, next) => {
    if (c.req.method !== 'POST' || c.req.path.startsWith('/ws/')) return next()
    const type = c.req.header('content-type') ?? ''
    if (!/^application\/json\s*(;|$)/i.test(type)) return c.json({ error: 'JSON only' }, 415)
    if (!allowed.has(c.req.header('origin') ?? '')) return c.json({ error: 'bad origin' }, 403)
    return next()
  })

  app.get('/', async (c) => c.html(await readFile(`${publicDir}index.html`, 'utf8')))
  app.get('/app.js', async (c) =>
    c.body(await readFile(`${publicDir}app.js`, 'utf8'), 200, {
      'content-type': 'text/javascript; charset=utf-8',
    }),
  )
  app.get('/client.js', async (c) =>
    c.body(await clientBundle(), 200, { 'content-type': 'text/javascript; charset=utf-8' }),
  )
  app.get('/config', (c) =>
    c.json({ webSocketUrl: options.webSocketUrl(), rolloverMs: options.rolloverMs ?? null }),
  )

  app.post('/login', async (c) => {
    const body = (await c.req.json().catch(() => null)) as {
      name?: unknown
      adminCode?: unknown
    } | null
    const name = body?.name
    if (typeof name !== 'string' || !NAME.test(name)) {
      return c.json({ error: 'Pick a name of 1–32 letters, digits, - or _.' }, 400)
    }
    const wantsAdmin = typeof body?.adminCode === 'string' && body.adminCode !== ''
    const isAdmin = wantsAdmin && body.adminCode === options.adminCode
    if (wantsAdmin && !isAdmin) return c.json({ error: 'That admin code is wrong.' }, 403)
    const sid = randomId()
    const person: Person = { userId: `u-${randomId().slice(0, 16)}`, name, isAdmin }
    sessions.set(sid, person)
    people.set(person.userId, person)
    setCookie(c, SESSION_COOKIE, sid, { httpOnly: true, sameSite: 'Strict', path: '/' })
    return c.json({ name, isAdmin })
  })
  app.get('/me', (c) => {
    const me = currentUser(getCookie(c, SESSION_COOKIE))
    return c.json({ name: me?.name ?? null, isAdmin: me?.isAdmin ?? false })
  })
  app.post('/logout', async (c) => {
    const sid = getCookie(c, SESSION_COOKIE)
    const me = currentUser(sid)
    if (sid !== undefined) sessions.delete(sid)
    deleteCookie(c, SESSION_COOKIE, { path: '/' })
    if (me !== null) {
      // This sign-in's sockets only: another person with the same name stays connected.
      await gateway.send.disconnectUser(me.userId)
      await gateway.send.broadcast({ type: 'presence', users: await online() })
    }
    return c.json({ ok: true })
  })

  app.all(
    '/ws-token',
    tokenRoute(gateway, {
      identify: (c) => {
        const sid = getCookie(c, SESSION_COOKIE)
        const me = currentUser(sid)
        return me === null || sid === undefined ? null : { userId: me.userId, sessionId: sid }
      },
    }),
  )
  // Who opened each `$connect` (by cookie), so a refused handshake lands in its person's log.
  const connectOwners = new Map<string, string>()
  app.use('/ws/connect', async (c, next) => {
    const me = currentUser(getCookie(c, SESSION_COOKIE))
    const id = c.req.header('connectionid')
    if (me !== null && id !== undefined) {
      connectOwners.set(id, me.userId)
      if (connectOwners.size > 1_000) connectOwners.delete(connectOwners.keys().next().value ?? '')
    }
    await next()
  })
  app.route('/ws', websocketRoutes(gateway))

  // An ordinary HTTP route that pushes to every tab of a user.
  app.post('/notify', async (c) => {
    const from = currentUser(getCookie(c, SESSION_COOKIE))
    if (from === null) return c.json({ error: 'sign in first' }, 401)
    const body = (await c.req.json().catch(() => null)) as { to?: unknown; text?: unknown } | null
    if (typeof body?.to !== 'string' || typeof body.text !== 'string' || body.text.length > 200) {
      return c.json({ error: 'to and text (≤ 200 characters) are required' }, 400)
    }
    const targets = [...people.values()].filter((p) => p.name === body.to)
    const report = { delivered: 0, gone: [] as string[], failed: [] as unknown[] }
    for (const target of targets) {
      const sent = await gateway.send.toUser(target.userId, {
        type: 'notify',
        from: from.name,
        text: body.text,
      })
      report.delivered += sent.delivered
      report.gone.push(...sent.gone)
      report.failed.push(...sent.failed)
    }
    return c.json({
      delivered: report.delivered,
      gone: report.gone.length,
      failed: report.failed.length,
    })
  })

  // Each person sees only their own refusals: by user id, or by a connection that was theirs.
  app.get('/security-log', async (c) => {
    const me = currentUser(getCookie(c, SESSION_COOKIE))
    if (me === null) return c.json({ entries: [] })
    const mine: SecurityLogEntry[] = []
    for (const entry of [...securityLog].reverse()) {
      const id = entry.connectionId
      const owner =
        entry.userId ??
        (id === null
          ? null
          : (connectOwners.get(id) ?? (await options.store.connections.get(id))?.userId ?? null))
      if (owner === me.userId) {
        mine.push({ at: entry.at, kind: entry.kind, code: entry.code, route: entry.route })
      }
    }
    return c.json({ entries: mine })
  })

  // Demonstrates the origin check: a script on another site cannot open a socket as this user.
  // The server itself plays the attacker, with a valid token and a forged Origin.
  app.post('/demo/forged-origin', async (c) => {
    const sid = getCookie(c, SESSION_COOKIE)
    const me = currentUser(sid)
    if (me === null || sid === undefined) return c.json({ error: 'sign in first' }, 401)
    const issued = await gateway.issueToken({
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin' },
      userId: me.userId,
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
