/**
 * `tokenHandler` beyond the conformance suite: session binding through `identify`, channel
 * binding, an `identify` that throws, and validation at construction.
 */
import { createGateway } from '@apigw-ws/core'
import { fakeClock, httpRequests } from '@apigw-ws/core/testing'
import { memoryStore } from '@apigw-ws/store-memory'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { tokenHandler } from './index.js'
import { type ListeningApp, listenOnLoopback } from './test-server.js'

const SECRET = 'express-token-secret-0123456789'
const ORIGIN = 'https://app.example.com'

const running: ListeningApp[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()))
})

async function listen(app: express.Express): Promise<string> {
  const listening = await listenOnLoopback(app)
  running.push(listening)
  return listening.url
}

/** A gateway with session-bound tokens: the session is the `sid` cookie. */
function sessionGateway() {
  return createGateway({
    store: memoryStore(),
    clock: fakeClock(),
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    auth: {
      resolveSession: (request) =>
        /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.cookie ?? '')?.[1] ?? null,
    },
  })
}

async function grant(response: Response): Promise<string> {
  expect(response.status).toBe(200)
  return ((await response.json()) as { token: string }).token
}

describe('tokenHandler', () => {
  it('binds the token to the session and channel identify returns', async () => {
    const gateway = sessionGateway()
    const app = express()
    app.post(
      '/ws-token',
      tokenHandler(gateway, {
        identify: async (req) => ({
          userId: 'user-5',
          sessionId: req.get('x-session') ?? null,
          channel: 'room-5',
        }),
      }),
    )
    const base = await listen(app)
    const token = await grant(
      await fetch(`${base}/ws-token`, {
        method: 'POST',
        headers: { origin: ORIGIN, 'x-session': 's-1' },
      }),
    )
    const http = httpRequests({ secret: SECRET })
    const wrongSession = await gateway.handle(
      http.connect({ token, channel: 'room-5', cookie: 'sid=s-2' }),
    )
    expect(wrongSession.status).toBe(401)
    const other = await grant(
      await fetch(`${base}/ws-token`, {
        method: 'POST',
        headers: { origin: ORIGIN, 'x-session': 's-1' },
      }),
    )
    expect(
      (await gateway.handle(http.connect({ token: other, channel: 'room-6', cookie: 'sid=s-1' })))
        .status,
    ).toBe(403)
    const third = await grant(
      await fetch(`${base}/ws-token`, {
        method: 'POST',
        headers: { origin: ORIGIN, 'x-session': 's-1' },
      }),
    )
    expect(
      (await gateway.handle(http.connect({ token: third, channel: 'room-5', cookie: 'sid=s-1' })))
        .status,
    ).toBe(200)
  })

  it('refuses a session-bound request without a session (401)', async () => {
    const app = express()
    app.post(
      '/ws-token',
      tokenHandler(sessionGateway(), { identify: () => ({ userId: 'user-5' }) }),
    )
    const base = await listen(app)
    const response = await fetch(`${base}/ws-token`, {
      method: 'POST',
      headers: { origin: ORIGIN },
    })
    expect(response.status).toBe(401)
  })

  it("passes an identify failure to the app's error handler", async () => {
    const app = express()
    app.post(
      '/ws-token',
      tokenHandler(sessionGateway(), {
        identify: () => {
          throw new Error('session store down')
        },
      }),
    )
    const errors: unknown[] = []
    app.use(
      (
        error: unknown,
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        errors.push(error)
        res.status(503).end()
      },
    )
    const base = await listen(app)
    const response = await fetch(`${base}/ws-token`, {
      method: 'POST',
      headers: { origin: ORIGIN },
    })
    expect(response.status).toBe(503)
    expect((errors[0] as Error).message).toBe('session store down')
  })

  it('refuses a missing identify or gateway at construction', () => {
    expect(() => tokenHandler(sessionGateway(), {} as never)).toThrow(TypeError)
    expect(() => tokenHandler({} as never, { identify: () => null })).toThrow(TypeError)
  })
})
