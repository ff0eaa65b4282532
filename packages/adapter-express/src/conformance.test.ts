/**
 * Express against the adapter conformance suite, over a real socket: the app listens on
 * 127.0.0.1 with an ephemeral port for each test and the suite talks to it with `fetch`.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AdapterHarness } from '@apigw-ws/core/testing'
import { testAdapter } from '@apigw-ws/core/testing'
import { memoryStore } from '@apigw-ws/store-memory'
import express from 'express'
import { tokenHandler, websocketRouter } from './index.js'

function serve(app: express.Express): Promise<AdapterHarness> {
  return new Promise((resolve) => {
    const server: Server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        request: (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init),
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
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
