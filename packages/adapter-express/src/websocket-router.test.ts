/**
 * Express-specific behaviour beyond the conformance suite: `trust proxy` cannot change the client
 * address core derives, the socket peer reaches core, repeated headers keep Fetch semantics, and
 * body parsers before the router are either reused (raw bytes kept) or refused loudly.
 */
import { request as httpRequest } from 'node:http'
import {
  createGateway,
  defineHandler,
  type GatewayEvent,
  type GatewayOptions,
  type GatewayRequest,
} from '@apigw-ws/core'
import { adapterOf } from '@apigw-ws/core/adapter'
import { fakeClock, httpRequests } from '@apigw-ws/core/testing'
import { memoryStore } from '@apigw-ws/store-memory'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { BodyAlreadyConsumedError, websocketRouter } from './index.js'
import { type ListeningApp, listenOnLoopback } from './test-server.js'

const SECRET = 'express-test-secret-0123456789'
const ORIGIN = 'https://app.example.com'
const CLIENT_IP = '203.0.113.10'

const running: ListeningApp[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()))
})

async function listen(app: express.Express): Promise<string> {
  const listening = await listenOnLoopback(app)
  running.push(listening)
  return listening.url
}

function setup(overrides: Partial<GatewayOptions> = {}) {
  const events: GatewayEvent[] = []
  const seen: GatewayRequest[] = []
  const gateway = createGateway({
    store: memoryStore(),
    clock: fakeClock(),
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    onEvent: (event) => events.push(event),
    checks: {
      connect: [
        ({ request }) => {
          seen.push(request)
          return undefined
        },
      ],
    },
    handlers: {
      echo: defineHandler({ handle: (ctx) => ({ echo: ctx.message.text }) }),
    },
    ...overrides,
  })
  const http = httpRequests({ secret: SECRET, clientIp: CLIENT_IP })
  async function token(): Promise<string> {
    const response = await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId: 'user-1',
    })
    return (JSON.parse(response.body ?? '{}') as { token: string }).token
  }
  async function connected(): Promise<string> {
    const request = http.connect({ token: await token() })
    expect((await gateway.handle(request)).status).toBe(200)
    return request.headers.connectionid as string
  }
  return { gateway, events, seen, http, token, connected }
}

function post(base: string, request: GatewayRequest, path?: string): Promise<Response> {
  const query = new URLSearchParams(Object.entries(request.query)).toString()
  const route =
    request.route === '$connect'
      ? 'connect'
      : request.route === '$default'
        ? 'default'
        : 'disconnect'
  return fetch(`${base}${path ?? `/ws/${route}`}${query === '' ? '' : `?${query}`}`, {
    method: 'POST',
    headers: { ...request.headers },
    ...(request.body === null ? {} : { body: request.body as BodyInit }),
  })
}

describe('client address', () => {
  it("keeps core's right-most X-Forwarded-For entry when the app trusts proxies", async () => {
    const { gateway, events, seen, http, token } = setup({
      rateLimits: { connectPerIp: { limit: 1, windowMs: 60_000 } },
    })
    const app = express()
    app.set('trust proxy', true)
    let expressIp: string | undefined
    app.use((req, _res, next) => {
      expressIp = req.ip
      next()
    })
    app.use('/ws', websocketRouter(gateway))
    const base = await listen(app)

    const first = await post(
      base,
      http.connect({ token: await token(), clientForwardedFor: '198.51.100.1' }),
    )
    expect(first.status).toBe(200)
    // Express, trusting every hop, believes the spoofed left-most entry; core must not.
    expect(expressIp).toBe('198.51.100.1')
    expect(events.find((e) => e.type === 'connect.accepted')).toMatchObject({ ip: CLIENT_IP })
    expect(seen[0]?.headers['x-forwarded-for']).toBe(`198.51.100.1, ${CLIENT_IP}`)
    expect(seen[0]?.peer).toBe('127.0.0.1')

    // A different spoofed entry does not buy a fresh rate-limit bucket: the key is the real client.
    const second = await post(
      base,
      http.connect({ token: await token(), clientForwardedFor: '198.51.100.2' }),
    )
    expect(second.status).toBe(429)
    expect(events.find((e) => e.type === 'rate.limited')).toMatchObject({ scope: 'connect.ip' })
  })
})

describe('request translation', () => {
  it('joins repeated headers as Fetch does instead of keeping only the first', async () => {
    const { gateway, http, connected } = setup()
    const app = express()
    app.use('/ws', websocketRouter(gateway))
    const { port } = new URL(await listen(app))
    const message = http.message({
      connectionId: await connected(),
      body: { action: 'echo', text: 'x' },
    })
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: Number(port), method: 'POST', path: '/ws/default' },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      for (const [name, value] of Object.entries(message.headers)) req.setHeader(name, value)
      // Node's `req.headers` would keep only the first User-Agent and pass the shape check.
      req.setHeader('user-agent', [message.headers['user-agent'] as string, 'curl/8.5.0'])
      req.end(message.body)
    })
    expect(status).toBe(403)
  })

  it('closes the connection after refusing a body it did not read', async () => {
    const { gateway, http } = setup()
    const app = express()
    app.use('/ws', websocketRouter(gateway))
    const base = await listen(app)
    const response = await post(
      base,
      http.message({
        connectionId: 'someConn123=',
        body: 'x'.repeat(adapterOf(gateway).maxBodyBytes + 1),
      }),
    )
    expect(response.status).toBe(413)
    expect(response.headers.get('connection')).toBe('close')
  })
})

describe('body parsers before the router', () => {
  it('fails loudly (500, BodyAlreadyConsumedError) when a parser consumed the body', async () => {
    const { gateway, http, connected, token } = setup()
    const app = express()
    app.use(express.json())
    app.use('/ws', websocketRouter(gateway))
    const errors: unknown[] = []
    app.use(
      (
        error: unknown,
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        errors.push(error)
        res.status(500).send('configuration error')
      },
    )
    const base = await listen(app)
    const message = await post(
      base,
      http.message({ connectionId: await connected(), body: { action: 'echo', text: 'x' } }),
    )
    expect(message.status).toBe(500)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(BodyAlreadyConsumedError)
    expect((errors[0] as Error).message).toMatch(/express\.json\(\)/)
    // A request the parser left alone (no body) still goes through.
    expect((await post(base, http.connect({ token: await token() }))).status).toBe(200)
  })

  it('reuses the raw bytes a parser kept on req.rawBody, still under the cap', async () => {
    const { gateway, http, connected } = setup()
    const app = express()
    app.use(
      express.json({
        limit: '1mb',
        verify: (req, _res, buf) => {
          ;(req as unknown as { rawBody: Buffer }).rawBody = buf
        },
      }),
    )
    app.use('/ws', websocketRouter(gateway))
    const base = await listen(app)
    const connectionId = await connected()
    const ok = await post(
      base,
      http.message({ connectionId, body: { action: 'echo', text: 'kept' } }),
    )
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ echo: 'kept' })
    const large = { action: 'echo', text: 'y'.repeat(adapterOf(gateway).maxBodyBytes) }
    expect((await post(base, http.message({ connectionId, body: large }))).status).toBe(413)
  })

  it('reads raw bytes from where the rawBody option says', async () => {
    const { gateway, http, connected } = setup()
    const app = express()
    app.use(express.text({ type: () => true }), (req, _res, next) => {
      ;(req as unknown as { kept: string }).kept = req.body as string
      next()
    })
    app.use(
      '/ws',
      websocketRouter(gateway, { rawBody: (req) => (req as unknown as { kept: string }).kept }),
    )
    const base = await listen(app)
    const response = await post(
      base,
      http.message({ connectionId: await connected(), body: { action: 'echo', text: 'opt' } }),
    )
    expect(await response.json()).toEqual({ echo: 'opt' })
  })
})

describe('construction', () => {
  it('refuses what is not a gateway or a rawBody function', () => {
    const { gateway } = setup()
    expect(() => websocketRouter({} as never)).toThrow(TypeError)
    expect(() => websocketRouter(gateway, { rawBody: 'rawBody' as never })).toThrow(TypeError)
  })
})
