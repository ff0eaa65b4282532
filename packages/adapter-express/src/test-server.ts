/**
 * Test support (not published): listens with an Express app on 127.0.0.1 and an ephemeral port,
 * and closes the server, its keep-alive sockets included, when the caller is done.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type express from 'express'

/** A listening app: its base URL and a `close()` that resolves once every socket is closed. */
export interface ListeningApp {
  readonly url: string
  close(): Promise<void>
}

/** Starts `app` on 127.0.0.1:0. */
export function listenOnLoopback(app: express.Express): Promise<ListeningApp> {
  return new Promise((resolve) => {
    const server: Server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}
