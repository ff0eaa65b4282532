/**
 * Hono against the adapter conformance suite, twice: in process through `app.request()` (no
 * socket, as on workers), and over a real socket under `@hono/node-server`, where the body cap
 * must hold against a network upload.
 */
import type { AdapterApp, AdapterHarness } from '@apigw-ws/core/testing'
import { testAdapter } from '@apigw-ws/core/testing'
import { memoryStore } from '@apigw-ws/store-memory'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { tokenRoute, websocketRoutes } from './index.js'

function buildApp({ gateway, basePath, tokenPath, identify, cookies, sibling }: AdapterApp): Hono {
  const app = new Hono()
  app.route(basePath, websocketRoutes(gateway))
  app.use(tokenPath, async (c, next) => {
    for (const cookie of cookies) c.header('set-cookie', cookie, { append: true })
    await next()
  })
  app.all(
    tokenPath,
    tokenRoute(gateway, { identify: (c) => identify((name) => c.req.header(name)) }),
  )
  app.all('*', async (c) => c.text(sibling(c.req.method, c.req.path, await c.req.text())))
  return app
}

testAdapter({
  name: 'hono (app.request)',
  store: () => memoryStore(),
  mount(context) {
    const app = buildApp(context)
    return { request: (path, init) => app.request(path, init), close() {} }
  },
})

testAdapter({
  name: 'hono (@hono/node-server)',
  store: () => memoryStore(),
  mount(context): Promise<AdapterHarness> {
    const app = buildApp(context)
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
        resolve({
          request: (path, init) => fetch(`http://127.0.0.1:${info.port}${path}`, init),
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done())
              if ('closeAllConnections' in server) server.closeAllConnections()
            }),
        })
      })
    })
  },
})
