// One real flow through the installed packages, run by scripts/consumer-check.mjs inside a scratch
// app that installed our tarballs with npm: the local gateway in front of a Hono app on the SQLite
// store, a `ws` client that fetches a token and connects with it, a message with its two-way
// reply and a push through the `@connections` API (the real AWS SDK), then a disconnect that
// reaches the store. Everything listens on loopback port 0; the whole run has a deadline, and any
// failure exits non-zero with the step that failed.
import { tokenRoute, websocketRoutes } from '@apigw-ws/adapter-hono'
import { createGateway, defineHandler, logEvents } from '@apigw-ws/core'
import { awsConnections } from '@apigw-ws/core/aws'
import { startLocalGateway } from '@apigw-ws/local-gateway'
import { kyselyStore, migrate } from '@apigw-ws/store-kysely'
import { serve } from '@hono/node-server'
import Database from 'better-sqlite3'
import { Hono } from 'hono'
import { Kysely, SqliteDialect } from 'kysely'
import * as v from 'valibot'
import WebSocket from 'ws'

const DEADLINE_MS = 60_000
const STEP_MS = 10_000
const ORIGIN = 'http://app.test'
const SECRET = 'consumer-check-secret-0123456789'

const deadline = setTimeout(() => {
  console.error(`flow: not done within ${DEADLINE_MS} ms`)
  process.exit(1)
}, DEADLINE_MS)
deadline.unref()

let step = 'start'
/** Runs `work` as the named step, failing it when it takes longer than STEP_MS. */
async function run(name, work) {
  step = name
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${STEP_MS} ms`)), STEP_MS)
  })
  try {
    return await Promise.race([work(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

const logged = []
const db = new Kysely({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })
let backend
let localGateway
let socket

try {
  const store = kyselyStore({ db })
  await run('migrate the SQLite store', async () => {
    const ran = await migrate(db)
    if (ran.length === 0) throw new Error('migrate ran nothing on an empty database')
  })

  const gateway = createGateway({
    store,
    connections: awsConnections({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      endpoint: () => localGateway.managementEndpoint,
    }),
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    onEvent: logEvents({ write: (line) => logged.push(line) }),
    handlers: {
      echo: defineHandler({
        schema: v.object({ action: v.literal('echo'), text: v.string() }),
        handle: async (ctx, input) => {
          await ctx.send.toConnection(ctx.connectionId, { type: 'pushed', text: input.text })
          return { type: 'echo', text: input.text, from: ctx.userId }
        },
      }),
    },
  })

  const app = new Hono()
  app.route('/ws', websocketRoutes(gateway))
  app.post('/ws-token', tokenRoute(gateway, { identify: () => ({ userId: 'ann' }) }))

  const backendPort = await run(
    'start the Hono backend',
    () =>
      new Promise((resolve) => {
        backend = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
          resolve(info.port),
        )
      }),
  )

  localGateway = await run('start the local gateway', () =>
    startLocalGateway({
      integration: { type: 'http', baseUrl: `http://127.0.0.1:${backendPort}/ws` },
      routes: ['echo'],
      secret: { value: SECRET },
    }),
  )

  const token = await run('fetch a token', async () => {
    const response = await fetch(`http://127.0.0.1:${backendPort}/ws-token`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: '{}',
    })
    if (response.status !== 200) throw new Error(`token route answered ${response.status}`)
    const grant = await response.json()
    if (typeof grant.token !== 'string') throw new Error('no token in the grant')
    return grant.token
  })

  const frames = []
  const waiters = []
  const nextFrame = () =>
    frames.length > 0 ? Promise.resolve(frames.shift()) : new Promise((r) => waiters.push(r))

  await run('connect with the token', async () => {
    socket = new WebSocket(`${localGateway.url}?token=${encodeURIComponent(token)}`, {
      origin: ORIGIN,
    })
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data))
      const waiter = waiters.shift()
      if (waiter) waiter(frame)
      else frames.push(frame)
    })
    await new Promise((resolve, reject) => {
      socket.once('open', resolve)
      socket.once('error', reject)
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`handshake answered ${res.statusCode}`)),
      )
    })
  })

  const connected = await store.connections.list({ all: true }, { cursor: null, limit: 10 })
  const connectionId = connected.items[0]?.connectionId
  if (connected.items.length !== 1 || connected.items[0].userId !== 'ann') {
    throw new Error(`the store holds ${connected.items.length} connections, expected ann's one`)
  }

  await run('send a message and read the push and the reply', async () => {
    socket.send(JSON.stringify({ action: 'echo', text: 'hello' }))
    const received = [await nextFrame(), await nextFrame()]
    const types = received.map((frame) => frame.type).sort()
    if (types.join() !== 'echo,pushed') throw new Error(`got ${JSON.stringify(received)}`)
    const reply = received.find((frame) => frame.type === 'echo')
    if (reply.text !== 'hello' || reply.from !== 'ann') throw new Error(JSON.stringify(reply))
  })

  await run('disconnect and see it in the store', async () => {
    const closed = new Promise((resolve) => socket.once('close', resolve))
    socket.close(1000)
    await closed
    for (;;) {
      const record = await store.connections.get(connectionId)
      if (record !== null && record.disconnectedAt !== null) return
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

  step = 'check the event log'
  const log = logged.join('\n')
  if (!/connect\.accepted/.test(log) || !/message\.handled/.test(log)) {
    throw new Error(`logEvents() wrote no connect and message lines:\n${log}`)
  }
  if (log.includes(token) || log.includes(SECRET)) throw new Error('logEvents() wrote a secret')
  console.log('flow: token, connect, message, push, reply and disconnect all worked')
} catch (error) {
  console.error(`flow: step "${step}" failed:`, error)
  console.error(logged.join('\n'))
  process.exitCode = 1
} finally {
  socket?.terminate()
  await localGateway?.close()
  await new Promise((resolve) => (backend ? backend.close(() => resolve()) : resolve()))
  await db.destroy()
}
