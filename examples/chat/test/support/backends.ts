/**
 * The HTTP backends the end-to-end tests put behind the local gateway, one per adapter: Hono
 * (`websocketRoutes` + `tokenRoute` under `@hono/node-server`), Express (`websocketRouter` +
 * `tokenHandler`) and the bare Fetch adapter (`gateway.fetch` + `gateway.issueToken` behind a
 * plain fetch handler). Each serves the same app on 127.0.0.1 with a free port: the integration
 * at `/ws/<route>` and the token route at `POST /ws-token` (the signed-in user comes from the
 * `x-e2e-user` header). Every server records each integration call it answered, so tests can
 * wait for `$disconnect` to have been served instead of sleeping.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tokenHandler, websocketRouter } from '@apigw-ws/adapter-express'
import { tokenRoute, websocketRoutes } from '@apigw-ws/adapter-hono'
import type { Gateway } from '@apigw-ws/core'
import { getRequestListener, type HttpBindings } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import { APP_ORIGIN, USER_HEADER } from './e2e-app.js'
import { createRecorder } from './recorder.js'

/** The adapters a backend can be built with. */
export type BackendKind = 'hono' | 'express' | 'fetch'

/** One integration call the backend answered. */
export interface ServedCall {
  /** Last path segment: `connect`, `disconnect`, `default` or a custom route. */
  readonly route: string
  /** The `connectionId` header API Gateway mapped. */
  readonly connectionId: string | null
  readonly status: number
}

/** A running backend. */
export interface RunningBackend {
  /** Which adapter serves it. */
  readonly kind: string
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string
  /** The integration mount the local gateway calls: `<origin>/ws`. */
  readonly baseUrl: string
  /** Integration calls answered so far, in order of completion. */
  readonly calls: readonly ServedCall[]
  /** Resolves the first call (past or future) matching `predicate`; bounded wait. */
  waitForCall(predicate: (call: ServedCall) => boolean, timeoutMs?: number): Promise<ServedCall>
  /** Asks the token route for a connect token as `userId`; resolves the token. */
  token(userId: string): Promise<string>
  close(): Promise<void>
}

/** Builds a request listener serving the app with one adapter. */
export type ListenerFactory = (gateway: Gateway) => RequestListener

function identify(header: string | null | undefined): { userId: string } | null {
  return header ? { userId: header } : null
}

/** Hono: the adapter's integration routes and token route under `@hono/node-server`. */
export function honoListener(gateway: Gateway): RequestListener {
  const app = new Hono<{ Bindings: HttpBindings }>()
  app.post(
    '/ws-token',
    tokenRoute(gateway, { identify: (c) => identify(c.req.header(USER_HEADER)) }),
  )
  app.route(
    '/ws',
    websocketRoutes<{ Bindings: HttpBindings }>(gateway, {
      peer: (c) => c.env.incoming.socket.remoteAddress,
    }),
  )
  return getRequestListener(app.fetch) as RequestListener
}

/** Express 5: the adapter's integration router and token handler, no body parser. */
export function expressListener(gateway: Gateway): RequestListener {
  const app = express()
  app.use('/ws', websocketRouter(gateway))
  app.post(
    '/ws-token',
    tokenHandler(gateway, { identify: (req) => identify(req.get(USER_HEADER)) }),
  )
  return app
}

/** Fetch: a bare fetch handler over `gateway.fetch` and `gateway.issueToken`, no framework. */
export function fetchListener(gateway: Gateway): RequestListener {
  return getRequestListener(async (request, env) => {
    const { pathname } = new URL(request.url)
    if (pathname === '/ws-token') {
      const issued = await gateway.issueToken({
        method: request.method,
        headers: request.headers,
        userId: request.headers.get(USER_HEADER),
      })
      return new Response(issued.body, { status: issued.status, headers: issued.headers })
    }
    if (pathname.startsWith('/ws/')) {
      const peer = (env as { incoming?: IncomingMessage }).incoming?.socket.remoteAddress
      return gateway.fetch(request, peer === undefined ? {} : { peer })
    }
    return new Response('not found', { status: 404 })
  }) as RequestListener
}

const LISTENERS: Readonly<Record<BackendKind, ListenerFactory>> = {
  hono: honoListener,
  express: expressListener,
  fetch: fetchListener,
}

/** Starts `kind`'s backend for `gateway` on 127.0.0.1 with a free port. */
export function startBackend(kind: BackendKind, gateway: Gateway): Promise<RunningBackend> {
  return startListener(kind, LISTENERS[kind](gateway))
}

/** Serves `listener` on 127.0.0.1 with a free port, recording integration calls. */
export async function startListener(
  kind: string,
  listener: RequestListener,
): Promise<RunningBackend> {
  const calls = createRecorder<ServedCall>('an integration call')
  // The recorder is registered before the app: frameworks rewrite `req.url` while routing
  // (Express strips the mount path), so it must read the path first.
  const server: Server = createServer()
  server.on('request', (req: IncomingMessage, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    if (!path.startsWith('/ws/')) return
    res.once('finish', () => {
      const header = req.headers.connectionid
      calls.push({
        route: path.slice(path.lastIndexOf('/') + 1),
        connectionId: typeof header === 'string' ? header : null,
        status: res.statusCode,
      })
    })
  })
  server.on('request', listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`
  return {
    kind,
    origin,
    baseUrl: `${origin}/ws`,
    calls: calls.items,
    waitForCall: (predicate, timeoutMs) => calls.waitFor(predicate, timeoutMs),
    async token(userId) {
      const response = await fetch(`${origin}/ws-token`, {
        method: 'POST',
        headers: { origin: APP_ORIGIN, [USER_HEADER]: userId },
      })
      const body = (await response.json()) as { token?: unknown }
      if (response.status !== 200 || typeof body.token !== 'string') {
        throw new Error(`token route answered ${response.status}`)
      }
      return body.token
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
