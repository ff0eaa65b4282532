/**
 * Adapter overhead over real HTTP on loopback: message events per second through
 * `@apigw-ws/adapter-hono` (under `@hono/node-server`) and `@apigw-ws/adapter-express`, each next
 * to a bare route in the same framework doing the same work without apigw-ws (parse the JSON
 * body, `store.connections.touch` in the same kind of store, call the same handler function).
 * The servers run in a child process (this file, forked with `APIGW_BENCH_ROLE=server`) so the
 * load generator (`http-load.ts`, node:http) does not share their event loop; variants are
 * measured alternately in the same run and reported as ratios to their bare route.
 */
import { type ChildProcess, fork } from 'node:child_process'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { websocketRouter } from '@apigw-ws/adapter-express'
import { websocketRoutes } from '@apigw-ws/adapter-hono'
import { createGateway, defineHandler, type Store } from '@apigw-ws/core'
import { memoryStore } from '@apigw-ws/store-memory'
import { serve } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import { type RequestTemplate, runLoad } from './http-load.js'

const SECRET = 'bench-secret-0123456789abcdef'
const API_ID = 'benchapi01'
const CONNECTIONS = 256
const TARGET_RATIO = 0.8
const DURATION_MS = Number(process.env.APIGW_BENCH_MS ?? 3_000)
const CONCURRENCY = Number(process.env.APIGW_BENCH_CONCURRENCY ?? 32)
const ROUNDS = Number(process.env.APIGW_BENCH_ROUNDS ?? 3)
const WARM_UP_MS = 1_000

/** The work every variant does for a message, apigw-ws or not. */
function work(message: Readonly<Record<string, unknown>>): { readonly echo: unknown } {
  return { echo: message.text }
}

function connectionId(i: number): string {
  return `benchConn${String(i).padStart(6, '0')}=`
}

async function seededStore(): Promise<Store> {
  const store = memoryStore()
  const now = Date.now()
  for (let i = 0; i < CONNECTIONS; i++) {
    await store.connections.create({
      connectionId: connectionId(i),
      userId: `user-${i}`,
      channels: [],
      apiId: API_ID,
      stage: 'bench',
      domainName: null,
      connectedAt: now,
    })
  }
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

interface Ports {
  readonly honoApigw: number
  readonly honoBare: number
  readonly expressApigw: number
  readonly expressBareJson: number
  readonly expressBareRaw: number
}

function listenExpress(app: express.Express): Promise<number> {
  return new Promise((resolve) => {
    const server: Server = app.listen(0, '127.0.0.1', () =>
      resolve((server.address() as AddressInfo).port),
    )
  })
}

function listenHono(app: Hono): Promise<number> {
  return new Promise((resolve) => {
    serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve(info.port))
  })
}

async function serveAll(): Promise<Ports> {
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

  return {
    honoApigw: await listenHono(honoApigw),
    honoBare: await listenHono(honoBare),
    expressApigw: await listenExpress(expressApigw),
    expressBareJson: await listenExpress(expressBareJson),
    expressBareRaw: await listenExpress(expressBareRaw),
  }
}

if (process.env.APIGW_BENCH_ROLE === 'server') {
  const ports = await serveAll()
  // The parent asks for this process's CPU time around each run: CPU per event is far less
  // sensitive to a busy machine than wall-clock throughput.
  process.on('message', () => {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpuUs: user + system })
  })
  process.send?.({ ports })
}

// ---------------------------------------------------------------------------------------------
// Load role (the `pnpm bench` process)

/** Message events as API Gateway's HTTP integration delivers them, one per seeded connection. */
function messageTemplates(): RequestTemplate[] {
  return Array.from({ length: CONNECTIONS }, (_, i) => ({
    path: '/ws/default',
    headers: {
      connectionid: connectionId(i),
      'x-amzn-apigateway-api-id': API_ID,
      'x-amzn-trace-id': `Root=1-67890abc-${String(i).padStart(24, '0')}`,
      'x-forwarded-for': '203.0.113.10',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      'user-agent': `AmazonAPIGateway_${API_ID}`,
      'content-type': 'application/json',
      'x-apigw-secret': SECRET,
    },
    body: Buffer.from(JSON.stringify({ action: 'echo', text: `hello from ${i}` })),
  }))
}

function startServers(): Promise<{ readonly child: ChildProcess; readonly ports: Ports }> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, APIGW_BENCH_ROLE: 'server' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    child.once('message', (message) =>
      resolve({ child, ports: (message as { ports: Ports }).ports }),
    )
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`bench server exited with code ${code}`)))
  })
}

/** CPU time (user + system, µs) the server process has used so far. */
function serverCpuUs(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve((message as { cpuUs: number }).cpuUs))
    child.send('cpu')
  })
}

/** One variant's best round. */
interface Row {
  readonly name: string
  /** Highest throughput seen (events per wall-clock second). */
  readonly perSecond: number
  /** Lowest server CPU time per event seen, in µs. */
  readonly cpuUs: number
  readonly p50Ms: number
  readonly p99Ms: number
}

function printRows(title: string, rows: readonly Row[]): void {
  const base = rows[0]
  if (base === undefined) return
  console.log(`\n## ${title}`)
  console.log(
    `${'variant'.padEnd(56)} ${'events/s'.padStart(9)} ${'ratio'.padStart(6)} ${'CPU µs/event'.padStart(13)} ${'ratio'.padStart(6)}   p50 / p99 ms`,
  )
  for (const row of rows) {
    console.log(
      `${row.name.padEnd(56)} ${Math.round(row.perSecond).toLocaleString('en-US').padStart(9)} ` +
        `${(row.perSecond / base.perSecond).toFixed(2).padStart(5)}× ${row.cpuUs.toFixed(1).padStart(13)} ` +
        `${(base.cpuUs / row.cpuUs).toFixed(2).padStart(5)}×   ${row.p50Ms.toFixed(2)} / ${row.p99Ms.toFixed(2)}`,
    )
  }
}

export default async function adapters(): Promise<void> {
  const { child, ports } = await startServers()
  const templates = messageTemplates()
  const run = async (port: number, durationMs: number) => {
    const before = await serverCpuUs(child)
    const result = await runLoad({ port, templates, concurrency: CONCURRENCY, durationMs })
    const cpuUs = (await serverCpuUs(child)) - before
    if (result.failed > 0) {
      throw new Error(
        `port ${port}: ${result.failed} failed requests (first: ${result.firstFailure})`,
      )
    }
    return { result, cpuUs }
  }
  const groups: readonly (readonly (readonly [string, number])[])[] = [
    [
      ['hono bare route (c.req.json + touch + handler)', ports.honoBare],
      ['hono websocketRoutes (apigw-ws)', ports.honoApigw],
    ],
    [
      ['express bare route (express.json + touch + handler)', ports.expressBareJson],
      ['express websocketRouter (apigw-ws)', ports.expressApigw],
      ['express bare route (raw read + JSON.parse + touch + handler)', ports.expressBareRaw],
    ],
  ]
  try {
    console.log(
      `loopback HTTP, ${CONCURRENCY} requests in flight, ${DURATION_MS} ms per run, best of ${ROUNDS} alternating rounds;` +
        '\nratios: events/s against the first row (higher is better), CPU against the first row (first / this)',
    )
    for (const port of Object.values(ports)) await run(port, WARM_UP_MS)
    const best = new Map<string, Row>()
    for (let round = 0; round < ROUNDS; round++) {
      for (const group of groups) {
        for (const [name, port] of group) {
          const { result, cpuUs } = await run(port, DURATION_MS)
          const row: Row = {
            name,
            perSecond: (result.ok * 1000) / result.ms,
            cpuUs: cpuUs / result.ok,
            p50Ms: result.p50Ms,
            p99Ms: result.p99Ms,
          }
          const previous = best.get(name)
          best.set(name, {
            ...row,
            perSecond: Math.max(row.perSecond, previous?.perSecond ?? 0),
            cpuUs: Math.min(row.cpuUs, previous?.cpuUs ?? Number.POSITIVE_INFINITY),
          })
        }
      }
    }
    const rows = groups.map((group) => group.map(([name]) => best.get(name) as Row))
    printRows('Hono 4 (@hono/node-server): message events', rows[0] ?? [])
    printRows('Express 5: message events', rows[1] ?? [])
    const verdicts: (readonly [string, Row | undefined, Row | undefined])[] = [
      ['hono', rows[0]?.[0], rows[0]?.[1]],
      ['express (vs express.json)', rows[1]?.[0], rows[1]?.[1]],
      ['express (vs raw read)', rows[1]?.[2], rows[1]?.[1]],
    ]
    console.log('')
    for (const [label, bare, apigw] of verdicts) {
      if (bare === undefined || apigw === undefined) continue
      const throughput = apigw.perSecond / bare.perSecond
      const cpu = bare.cpuUs / apigw.cpuUs
      const verdict = (ratio: number) => (ratio >= TARGET_RATIO ? 'meets' : 'BELOW')
      console.log(
        `${label}: ${throughput.toFixed(2)}× events/s (${verdict(throughput)} ${TARGET_RATIO}×), ` +
          `${cpu.toFixed(2)}× by CPU per event (${verdict(cpu)} ${TARGET_RATIO}×)`,
      )
    }
  } finally {
    child.kill()
  }
}
