/**
 * Adapter overhead over real HTTP on loopback: message events through `@apigw-ws/adapter-hono`
 * (under `@hono/node-server`) and `@apigw-ws/adapter-express`, each next to a bare route in the
 * same framework doing the same work without apigw-ws (parse the JSON body,
 * `store.connections.touch` in the same kind of store, call the same handler function). The
 * servers run in a process of their own that measures its own CPU per request
 * (`support/server-process.ts`); the load comes from wrk, another process
 * (`support/wrk.ts`); the variants alternate round by round and each row is one round
 * (`support/rounds.ts`). The apigw-ws routes do strictly more work than the bare Hono route and
 * the raw-read Express route (the Express adapter reads the body itself rather than through
 * `express.json()`, so that route is the one it is a superset of), so a row showing one faster
 * than those is flagged as a suspect measurement.
 *
 * Environment: APIGW_BENCH_MS (per run, default 3000), APIGW_BENCH_CONNECTIONS (wrk
 * connections, default 16), APIGW_BENCH_ROUNDS (default 5).
 */
import { createServer, type Server } from 'node:http'
import { websocketRouter } from '@apigw-ws/adapter-express'
import { websocketRoutes } from '@apigw-ws/adapter-hono'
import { createGateway, defineHandler, type Store } from '@apigw-ws/core'
import { memoryStore } from '@apigw-ws/store-memory'
import { getRequestListener } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import { messageRequests, seedConnections } from './support/message-load.js'
import { alternate, printRounds, ratiosTo, verdict } from './support/rounds.js'
import {
  listening,
  serveForBench,
  startServerProcess,
  wrkVariants,
} from './support/server-process.js'
import { ensureWrk } from './support/wrk.js'

const SECRET = 'bench-secret-0123456789abcdef'
const CONNECTIONS = 256
const TARGET_RATIO = 0.8
const DURATION_MS = Number(process.env.APIGW_BENCH_MS ?? 3_000)
const WRK_CONNECTIONS = Number(process.env.APIGW_BENCH_CONNECTIONS ?? 16)
const ROUNDS = Number(process.env.APIGW_BENCH_ROUNDS ?? 5)
const ROLE_FLAG = '--adapters-bench-server'

/** The work every variant does for a message, apigw-ws or not. */
function work(message: Readonly<Record<string, unknown>>): { readonly echo: unknown } {
  return { echo: message.text }
}

async function seededStore(): Promise<Store> {
  const store = memoryStore()
  await seedConnections(store, CONNECTIONS)
  return store
}

function gatewayOver(store: Store) {
  return createGateway({
    store,
    integrationSecret: SECRET,
    allowedOrigins: ['https://app.example.com'],
    handlers: { echo: defineHandler({ handle: (ctx) => work(ctx.message) }) },
  })
}

// ---------------------------------------------------------------------------------------------
// Server role (child process)

async function serveAll(): Promise<Record<string, Server>> {
  const honoApigw = new Hono()
  honoApigw.route('/ws', websocketRoutes(gatewayOver(await seededStore())))

  const honoStore = await seededStore()
  const honoBare = new Hono()
  honoBare.post('/ws/default', async (c) => {
    const message = await c.req.json<Record<string, unknown>>()
    const connection = await honoStore.connections.touch(
      c.req.header('connectionid') ?? '',
      Date.now(),
    )
    if (connection === null) return c.json({ message: 'Not Found' }, 404)
    return c.json(work(message))
  })

  const expressApigw = express()
  expressApigw.use('/ws', websocketRouter(gatewayOver(await seededStore())))

  const jsonStore = await seededStore()
  const expressBareJson = express()
  expressBareJson.post('/ws/default', express.json(), async (req, res) => {
    const connection = await jsonStore.connections.touch(req.get('connectionid') ?? '', Date.now())
    if (connection === null) {
      res.status(404).json({ message: 'Not Found' })
      return
    }
    res.json(work(req.body as Record<string, unknown>))
  })

  const rawStore = await seededStore()
  const expressBareRaw = express()
  expressBareRaw.post('/ws/default', (req, res, next) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
      rawStore.connections.touch(req.get('connectionid') ?? '', Date.now()).then((connection) => {
        if (connection === null) res.status(404).json({ message: 'Not Found' })
        else res.json(work(message))
      }, next)
    })
  })

  // Hono apps are served the way `@hono/node-server`'s `serve()` serves them.
  const hono = (app: Hono) => listening(createServer(getRequestListener(app.fetch)))
  const plain = (app: express.Express) => listening(createServer(app))
  return {
    honoBare: await hono(honoBare),
    honoApigw: await hono(honoApigw),
    expressBareJson: await plain(expressBareJson),
    expressApigw: await plain(expressApigw),
    expressBareRaw: await plain(expressBareRaw),
  }
}

if (process.argv[2] === ROLE_FLAG) serveForBench(await serveAll())

// ---------------------------------------------------------------------------------------------
// Load role (the `pnpm bench` process)

export default async function adapters(): Promise<void> {
  ensureWrk()
  const server = await startServerProcess(import.meta.url, [ROLE_FLAG])
  const variant = wrkVariants(server, messageRequests(CONNECTIONS, SECRET), {
    connections: WRK_CONNECTIONS,
    durationMs: DURATION_MS,
  })
  const honoBare = 'hono bare route (c.req.json + touch + handler)'
  const expressJson = 'express bare route (express.json + touch + handler)'
  const expressRaw = 'express bare route (raw read + JSON.parse + touch + handler)'
  try {
    console.log(
      `wrk -t1 -c${WRK_CONNECTIONS}, ${DURATION_MS} ms per run, server CPU measured in the server process`,
    )
    const hono = await alternate(ROUNDS, [
      variant(honoBare, 'honoBare'),
      variant('hono websocketRoutes (apigw-ws)', 'honoApigw', honoBare),
    ])
    const expressRounds = await alternate(ROUNDS, [
      variant(expressJson, 'expressBareJson'),
      variant('express websocketRouter (apigw-ws)', 'expressApigw', expressRaw),
      variant(expressRaw, 'expressBareRaw'),
    ])
    printRounds('Hono 4 (@hono/node-server): message events, memory store', hono, {
      unit: 'events',
    })
    printRounds('Express 5: message events, memory store', expressRounds, { unit: 'events' })
    console.log('')
    verdict('hono CPU efficiency vs bare route', ratiosTo(hono, 1, 0).cpu, TARGET_RATIO)
    verdict('hono throughput vs bare route', ratiosTo(hono, 1, 0).throughput, TARGET_RATIO)
    verdict(
      'express CPU efficiency vs express.json route',
      ratiosTo(expressRounds, 1, 0).cpu,
      TARGET_RATIO,
    )
    verdict(
      'express CPU efficiency vs raw-read route',
      ratiosTo(expressRounds, 1, 2).cpu,
      TARGET_RATIO,
    )
  } finally {
    await server.stop()
  }
}
