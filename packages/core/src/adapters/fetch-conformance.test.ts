/**
 * The raw Fetch adapter (`gateway.fetch`) against the adapter conformance suite. The app is a
 * plain `(Request) => Promise<Response>` dispatcher, the way a Bun, Deno or worker app would
 * mount the gateway: integration routes go to `gateway.fetch`, the token route to
 * `gateway.issueToken`, everything else to the app's own handler.
 */
import { memoryStore } from '@apigw-ws/store-memory'
import { testAdapter } from '../testing/test-adapter.js'

testAdapter({
  name: 'fetch',
  store: () => memoryStore(),
  mount({ gateway, basePath, tokenPath, identify, cookies, sibling }) {
    const integration = new RegExp(`^${basePath}/[^/]+/?$`)
    async function app(request: Request): Promise<Response> {
      const { pathname } = new URL(request.url)
      if (request.method === 'POST' && integration.test(pathname)) return gateway.fetch(request)
      if (pathname === tokenPath) {
        const user = identify((name) => request.headers.get(name))
        const result = await gateway.issueToken({
          method: request.method,
          headers: request.headers,
          userId: user?.userId ?? null,
        })
        const headers = new Headers(result.headers)
        for (const cookie of cookies) headers.append('set-cookie', cookie)
        return new Response(result.body, { status: result.status, headers })
      }
      return new Response(sibling(request.method, pathname, await request.text()))
    }
    return {
      request: (path, init) => app(new Request(new URL(path, 'http://localhost'), init)),
      close() {},
    }
  },
})
