/**
 * Core pipeline throughput: `$connect`, message and `$disconnect` events per second through
 * `gateway.handle` on the memory store, each next to a bare baseline measured in the same run.
 * The baseline does only what any implementation must: read the request, parse the JSON body and
 * look the handler up in a `Map` (messages), hash the token to find it, and make the same store
 * calls — `limits.hit` + `tokens.consume` + `connections.create` for connect,
 * `connections.touch` + the handler for a message, `connections.disconnect` for disconnect —
 * with no checks. Requests are built before timing; every variant gets a fresh store per round.
 * Each round times consecutive chunks of events and keeps the fastest chunk, and the rounds
 * alternate between the variants, so a burst of load from other processes on a shared machine
 * skews neither side. Target: the full pipeline reaches at least 0.5× the baseline's throughput.
 */

import { defineHandler } from '../packages/core/src/handlers.js'
import { createGateway, type Gateway, type GatewayRequest } from '../packages/core/src/index.js'
import type { Store } from '../packages/core/src/store.js'
import { fakeClock } from '../packages/core/src/testing/fake-clock.js'
import { httpRequests } from '../packages/core/src/testing/requests.js'
import { generateToken, hashToken } from '../packages/core/src/tokens.js'
import { memoryStore } from '../packages/store-memory/src/index.js'
import { compare, type Measurement, measure, opsPerSecond, report } from './lib.js'

const SECRET = 'bench-integration-secret-0123'
const ORIGIN = 'https://app.example.com'
const ROUNDS = 5
const CONNECTS = 5_000
const MESSAGES = 20_000
const DISCONNECTS = 10_000
/** Connections the messages are spread over. */
const LIVE = 1_000
const RULE = { limit: 20, windowMs: 60_000 }
const TARGET = 0.5
/** Events per timed chunk. */
const CHUNK = 500

const http = httpRequests({ secret: SECRET })
const clock = fakeClock()

/** A distinct client address per connect, so per-address limits never refuse the benchmark. */
function address(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`
}

/** The handler both variants run: trivial, so the measurement is the pipeline around it. */
const echo = defineHandler({ handle: () => undefined })

function gateway(store: Store): Gateway {
  return createGateway({
    store,
    clock,
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    handlers: { echo },
  })
}

/**
 * Times `total` events in consecutive chunks of `CHUNK` (event `i` of a chunk is event
 * `offset + i` overall, so single-use inputs are used once) and returns the fastest chunk.
 */
async function fastestChunk(
  name: string,
  total: number,
  fn: (i: number) => Promise<unknown>,
): Promise<Measurement> {
  let best: Measurement | undefined
  for (let offset = 0; offset + CHUNK <= total; offset += CHUNK) {
    const m = await measure(name, CHUNK, (i) => fn(offset + i))
    if (best === undefined || m.ms < best.ms) best = m
  }
  return best as Measurement
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`benchmark invariant broken: ${what}`)
}

/** `n` connected records, created straight in the store (setup, not measured). */
async function seedConnections(store: Store, n: number, prefix: string): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`)
  for (const connectionId of ids) {
    await store.connections.create({
      connectionId,
      userId: `user-${connectionId}`,
      channels: [],
      apiId: 'testapi123',
      stage: 'bench',
      domainName: null,
      connectedAt: clock.now(),
    })
  }
  return ids
}

function connectRequests(tokens: readonly string[]): GatewayRequest[] {
  return tokens.map((token, i) =>
    http.connect({ connectionId: `conn${i}`, token, clientIp: address(i) }),
  )
}

async function connectFull(): Promise<Measurement> {
  const store = memoryStore()
  const g = gateway(store)
  const tokens: string[] = []
  for (let i = 0; i < CONNECTS; i++) {
    const grant = await g.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId: `user-${i}`,
    })
    tokens.push((JSON.parse(grant.body ?? '{}') as { token: string }).token)
  }
  const requests = connectRequests(tokens)
  return fastestChunk('connect: gateway.handle', CONNECTS, async (i) => {
    const response = await g.handle(requests[i] as GatewayRequest)
    check(response.status === 200, `connect answered ${response.status}`)
  })
}

async function connectBaseline(): Promise<Measurement> {
  const store = memoryStore()
  const tokens: string[] = []
  for (let i = 0; i < CONNECTS; i++) {
    const token = generateToken()
    await store.tokens.put({
      hash: hashToken(token),
      userId: `user-${i}`,
      sessionHash: null,
      channel: null,
      expiresAt: clock.now() + 60_000,
    })
    tokens.push(token)
  }
  const requests = connectRequests(tokens)
  return fastestChunk('connect: bare baseline', CONNECTS, async (i) => {
    const request = requests[i] as GatewayRequest
    const now = clock.now()
    const hit = await store.limits.hit(
      `connect.ip:${request.headers['x-forwarded-for']}`,
      RULE,
      now,
    )
    check(hit.allowed, 'limit')
    const token = await store.tokens.consume(hashToken(request.query.token as string), {
      sessionHash: null,
      now,
    })
    check(token !== null, 'token')
    const created = await store.connections.create({
      connectionId: request.headers.connectionid as string,
      userId: token?.userId ?? null,
      channels: [],
      apiId: request.headers['x-amzn-apigateway-api-id'] ?? null,
      stage: null,
      domainName: null,
      connectedAt: now,
    })
    check(created, 'create')
  })
}

async function messageRequests(store: Store): Promise<GatewayRequest[]> {
  const ids = await seedConnections(store, LIVE, 'live')
  return Array.from({ length: MESSAGES }, (_, i) =>
    http.message({
      connectionId: ids[i % LIVE] as string,
      body: { action: 'echo', text: `hello ${i}` },
    }),
  )
}

async function messageFull(): Promise<Measurement> {
  const store = memoryStore()
  const g = gateway(store)
  const requests = await messageRequests(store)
  return fastestChunk('message: gateway.handle', MESSAGES, async (i) => {
    const response = await g.handle(requests[i] as GatewayRequest)
    check(response.status === 200, `message answered ${response.status}`)
  })
}

async function messageBaseline(): Promise<Measurement> {
  const store = memoryStore()
  const requests = await messageRequests(store)
  const handlers = new Map([['echo', echo]])
  return fastestChunk('message: bare baseline', MESSAGES, async (i) => {
    const request = requests[i] as GatewayRequest
    const message = JSON.parse(request.body as string) as { action: string }
    const handler = handlers.get(message.action)
    const connection = await store.connections.touch(
      request.headers.connectionid as string,
      clock.now(),
    )
    check(handler !== undefined && connection !== null, 'message')
    await handler?.handle(undefined as never, message as never)
  })
}

async function disconnectFull(): Promise<Measurement> {
  const store = memoryStore()
  const g = gateway(store)
  const ids = await seedConnections(store, DISCONNECTS, 'gone')
  const requests = ids.map((connectionId) => http.disconnect({ connectionId }))
  return fastestChunk('disconnect: gateway.handle', DISCONNECTS, async (i) => {
    const response = await g.handle(requests[i] as GatewayRequest)
    check(response.status === 200, `disconnect answered ${response.status}`)
  })
}

async function disconnectBaseline(): Promise<Measurement> {
  const store = memoryStore()
  const ids = await seedConnections(store, DISCONNECTS, 'gone')
  const requests = ids.map((connectionId) => http.disconnect({ connectionId }))
  return fastestChunk('disconnect: bare baseline', DISCONNECTS, async (i) => {
    const request = requests[i] as GatewayRequest
    const changed = await store.connections.disconnect(
      request.headers.connectionid as string,
      clock.now(),
    )
    check(changed, 'disconnect')
  })
}

export default async function run(): Promise<void> {
  const kinds: [string, () => Promise<Measurement>, () => Promise<Measurement>][] = [
    ['connect', connectBaseline, connectFull],
    ['message', messageBaseline, messageFull],
    ['disconnect', disconnectBaseline, disconnectFull],
  ]
  const summary: string[] = []
  for (const [kind, baseline, full] of kinds) {
    const [base, pipeline] = await compare(ROUNDS, [baseline, full])
    if (base === undefined || pipeline === undefined) continue
    report(`core pipeline: ${kind} events per second (memory store, best of ${ROUNDS})`, [
      base,
      pipeline,
    ])
    const ratio = opsPerSecond(pipeline) / opsPerSecond(base)
    const micros = (m: Measurement) => ((m.ms * 1000) / m.ops).toFixed(2)
    summary.push(
      `${kind.padEnd(11)} ${ratio.toFixed(2)}× baseline  (${micros(pipeline)} µs vs ${micros(base)} µs per event)  ${ratio >= TARGET ? 'meets' : 'BELOW'} the ${TARGET}× target`,
    )
  }
  console.log('\n## core pipeline: ratio to the bare baseline')
  for (const line of summary) console.log(line)
}
