/**
 * `websocketRoutes` beyond the conformance suite: Hono's own middleware before it, unrelated
 * routes that read their own bodies, the `peer` option under `@hono/node-server`, and
 * validation at construction.
 */
import type { AddressInfo } from 'node:net'
import { createGateway, defineHandler, type GatewayRequest } from '@apigw-ws/core'
import { fakeClock, httpRequests } from '@apigw-ws/core/testing'
import { memoryStore } from '@apigw-ws/store-memory'
import { type HttpBindings, serve } from '@hono/node-server'
import { Hono } from 'hono'
import { logger } from 'hono/logger'
import { afterEach, describe, expect, it } from 'vitest'
import { websocketRoutes } from './index.js'

const SECRET = 'hono-test-secret-0123456789'
const ORIGIN = 'https://app.example.com'

function setup() {
  const seen: GatewayRequest[] = []
  const gateway = createGateway({
    store: memoryStore(),
    clock: fakeClock(),
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    checks: {
      connect: [
        ({ request }) => {
          seen.push(request)
          return undefined
        },
      ],
    },
    handlers: { echo: defineHandler({ handle: (ctx) => ({ echo: ctx.message.text }) }) },
  })
  const http = httpRequests({ secret: SECRET })
  async function token(): Promise<string> {
    const response = await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId: 'user-1',
    })
    return (JSON.parse(response.body ?? '{}') as { token: string }).token
  }
  return { gateway, seen, http, token }
}

function init(request: GatewayRequest): RequestInit {
  return {
    method: 'POST',
    headers: { ...request.headers },
    ...(request.body === null ? {} : { body: request.body as BodyInit }),
  }
}

function path(segment: string, request: GatewayRequest): string {
  const query = new URLSearchParams(Object.entries(request.query)).toString()
  return `/ws/${segment}${query === '' ? '' : `?${query}`}`
}

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

describe('websocketRoutes in a Hono app', () => {
  it("runs after Hono's logger and leaves other routes' bodies to them", async () => {
    const { gateway, http, token } = setup()
    const lines: string[] = []
    const app = new Hono()
    app.use(
      '*',
      logger((line) => lines.push(line)),
    )
    app.route('/ws', websocketRoutes(gateway))
    app.post('/api/notify', async (c) => {
      const { userId } = await c.req.json<{ userId: string }>()
      return c.json({ notified: userId })
    })

    const connect = http.connect({ token: await token() })
    const accepted = await app.request(path('connect', connect), init(connect))
    expect(accepted.status).toBe(200)
    const notify = await app.request('/api/notify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'user-1' }),
    })
    expect(await notify.json()).toEqual({ notified: 'user-1' })
    // Hono colours the status when the terminal allows it; compare the plain text.
    const colour = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g')
    const plain = lines.map((line) => line.replace(colour, ''))
    const connectLine = `POST ${path('connect', connect)}`
    expect(plain).toContain(`<-- ${connectLine}`)
    expect(plain.some((line) => line.startsWith(`--> ${connectLine} 200 `))).toBe(true)
    expect(plain).toContain('<-- POST /api/notify')
  })

  it('passes the socket peer from the peer option under @hono/node-server', async () => {
    const { gateway, seen, http, token } = setup()
    const app = new Hono<{ Bindings: HttpBindings }>()
    app.route(
      '/ws',
      websocketRoutes<{ Bindings: HttpBindings }>(gateway, {
        peer: (c) => c.env.incoming.socket.remoteAddress,
      }),
    )
    const base = await new Promise<string>((resolve) => {
      const server = serve(
        { fetch: app.fetch, hostname: '127.0.0.1', port: 0 },
        (info: AddressInfo) => resolve(`http://127.0.0.1:${info.port}`),
      )
      closers.push(
        () =>
          new Promise<void>((done) => {
            server.close(() => done())
            if ('closeAllConnections' in server) server.closeAllConnections()
          }),
      )
    })
    const connect = http.connect({ token: await token() })
    expect((await fetch(`${base}${path('connect', connect)}`, init(connect))).status).toBe(200)
    expect(seen[0]?.peer).toBe('127.0.0.1')
  })

  it('passes no peer by default', async () => {
    const { gateway, seen, http, token } = setup()
    const app = new Hono()
    app.route('/ws', websocketRoutes(gateway))
    const connect = http.connect({ token: await token() })
    expect((await app.request(path('connect', connect), init(connect))).status).toBe(200)
    expect(seen[0]).toBeDefined()
    expect(seen[0]?.peer).toBeUndefined()
  })

  it('refuses what is not a gateway or a peer function at construction', () => {
    const { gateway } = setup()
    expect(() => websocketRoutes({} as never)).toThrow(TypeError)
    expect(() => websocketRoutes(gateway, { peer: 'x' as never })).toThrow(TypeError)
  })
})
