/**
 * `tokenRoute` beyond the conformance suite: the user comes from the app's auth middleware
 * through typed context variables, the session binds the token, cookies set with Hono's cookie
 * helper survive, and the options are validated at construction.
 */
import { createGateway } from '@apigw-ws/core'
import { fakeClock, httpRequests } from '@apigw-ws/core/testing'
import { memoryStore } from '@apigw-ws/store-memory'
import { Hono } from 'hono'
import { setCookie } from 'hono/cookie'
import { describe, expect, it } from 'vitest'
import { tokenRoute } from './index.js'

const SECRET = 'hono-token-secret-0123456789'
const ORIGIN = 'https://app.example.com'

type AppEnv = { Variables: { user: { id: string; sessionId: string } | null } }

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

function appWith(gateway: ReturnType<typeof sessionGateway>) {
  const app = new Hono<AppEnv>()
  app.use('*', async (c, next) => {
    const sid = c.req.header('x-session')
    c.set('user', sid === undefined ? null : { id: 'user-8', sessionId: sid })
    setCookie(c, 'seen', '1', { path: '/' })
    setCookie(c, 'theme', 'dark', { path: '/' })
    await next()
  })
  app.post(
    '/ws-token',
    tokenRoute<AppEnv>(gateway, {
      identify: async (c) => {
        const user = c.get('user')
        return user === null ? null : { userId: user.id, sessionId: user.sessionId }
      },
    }),
  )
  return app
}

describe('tokenRoute', () => {
  it("binds the token to the session from the app's middleware and keeps its cookies", async () => {
    const gateway = sessionGateway()
    const app = appWith(gateway)
    const response = await app.request('/ws-token', {
      method: 'POST',
      headers: { origin: ORIGIN, 'x-session': 's-9' },
    })
    expect(response.status).toBe(200)
    expect(response.headers.getSetCookie()).toEqual(['seen=1; Path=/', 'theme=dark; Path=/'])
    const { token } = (await response.json()) as { token: string }
    const http = httpRequests({ secret: SECRET })
    expect((await gateway.handle(http.connect({ token, cookie: 'sid=other' }))).status).toBe(401)
    const again = (await (
      await app.request('/ws-token', {
        method: 'POST',
        headers: { origin: ORIGIN, 'x-session': 's-9' },
      })
    ).json()) as { token: string }
    expect(
      (await gateway.handle(http.connect({ token: again.token, cookie: 'sid=s-9' }))).status,
    ).toBe(200)
  })

  it('answers 401 when identify finds nobody', async () => {
    const response = await appWith(sessionGateway()).request('/ws-token', {
      method: 'POST',
      headers: { origin: ORIGIN },
    })
    expect(response.status).toBe(401)
  })

  it("passes an identify failure to the app's error handler", async () => {
    const app = new Hono()
    app.post(
      '/ws-token',
      tokenRoute(sessionGateway(), {
        identify: () => {
          throw new Error('session store down')
        },
      }),
    )
    const errors: Error[] = []
    app.onError((error, c) => {
      errors.push(error)
      return c.text('unavailable', 503)
    })
    const response = await app.request('/ws-token', { method: 'POST', headers: { origin: ORIGIN } })
    expect(response.status).toBe(503)
    expect(errors.map((e) => e.message)).toEqual(['session store down'])
  })

  it('refuses a missing identify or gateway at construction', () => {
    expect(() => tokenRoute(sessionGateway(), {} as never)).toThrow(TypeError)
    expect(() => tokenRoute({} as never, { identify: () => null })).toThrow(TypeError)
  })
})
