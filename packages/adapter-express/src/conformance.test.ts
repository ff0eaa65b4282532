/**
 * Express against the adapter conformance suite, over a real socket: the app listens on
 * 127.0.0.1 with an ephemeral port for each test and the suite talks to it with `fetch`.
 */
import type { AdapterHarness } from '@apigw-ws/core/testing'
import { testAdapter } from '@apigw-ws/core/testing'
import { memoryStore } from '@apigw-ws/store-memory'
import express from 'express'
import { tokenHandler, websocketRouter } from './index.js'
import { listenOnLoopback } from './test-server.js'

async function serve(app: express.Express): Promise<AdapterHarness> {
  const { url, close } = await listenOnLoopback(app)
  return { request: (path, init) => fetch(`${url}${path}`, init), close }
}

testAdapter({
  name: 'express',
  store: () => memoryStore(),
  mount({ gateway, basePath, tokenPath, identify, cookies, sibling }) {
    const app = express()
    app.use(basePath, websocketRouter(gateway))
    app.all(
      tokenPath,
      (_req, res, next) => {
        for (const cookie of cookies) res.append('Set-Cookie', cookie)
        next()
      },
      tokenHandler(gateway, { identify: (req) => identify((name) => req.get(name)) }),
    )
    app.use(express.text({ type: () => true, limit: '1mb' }), (req, res) => {
      res.send(sibling(req.method, req.path, typeof req.body === 'string' ? req.body : ''))
    })
    return serve(app)
  },
})
