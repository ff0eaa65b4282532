/**
 * The raw Fetch adapter (`gateway.fetch`, `gateway.fetchToken`) against the adapter conformance
 * suite, twice: in process (a `Request` handed to the app, as on workers) and over a real socket
 * under `@hono/node-server`'s plain Fetch server, where stalled uploads come from the network.
 * The app is a plain `(Request) => Promise<Response>` dispatcher, the way a Bun, Deno or worker
 * app mounts the gateway: integration routes go to `gateway.fetch`, the token route to
 * `gateway.fetchToken`, everything else to the app's own handler.
 */
import { memoryStore } from '@apigw-ws/store-memory'
import { serve } from '@hono/node-server'
import { type AdapterApp, type AdapterHarness, testAdapter } from '../testing/test-adapter.js'

function fetchApp({ gateway, basePath, tokenPath, identify, cookies, sibling }: AdapterApp) {
  const integration = new RegExp(`^${basePath}/[^/]+/?$`)
  return async function app(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url)
    if (request.method === 'POST' && integration.test(pathname)) return gateway.fetch(request)
    if (pathname === tokenPath) {
      const response = await gateway.fetchToken(
        request,
        identify((name) => request.headers.get(name)),
      )
      for (const cookie of cookies) response.headers.append('set-cookie', cookie)
      return response
    }
    return new Response(sibling(request.method, pathname, await request.text()))
  }
}

testAdapter({
  name: 'fetch (in process)',
  store: () => memoryStore(),
  mount(context) {
    const app = fetchApp(context)
    return {
      request: (path, init) => app(new Request(new URL(path, 'http://localhost'), init)),
      close() {},
    }
  },
})

testAdapter({
  name: 'fetch (node server on loopback)',
  store: () => memoryStore(),
  mount(context): Promise<AdapterHarness> {
    const app = fetchApp(context)
    return new Promise((resolve) => {
      const server = serve({ fetch: app, hostname: '127.0.0.1', port: 0 }, (info) => {
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
