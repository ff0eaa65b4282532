/**
 * Core pipeline throughput: `$connect`, message and `$disconnect` events per second through
 * `gateway.handle` on the memory store, each next to a bare baseline measured in the same run.
 * The baseline does only what any implementation must: read the request, parse the JSON body and
 * look the handler up in a `Map` (messages), hash the token to find it, and make exactly the
 * store calls the pipeline makes — the per-address `limits.hit`, `tokens.consume`, the per-user
 * `limits.hit` and `connections.create` for connect, `connections.touch` + the handler for a
 * message, `connections.disconnect` for disconnect — with no checks. Requests are built before
 * timing; every variant gets a fresh store per round. Each round times every event of its kind
 * (GC included) and measures this process's CPU per event; rounds alternate between the variants
 * and the median round is reported (`support/rounds.ts`). The pipeline does strictly more work
 * than its baseline, so a pipeline row measured faster is flagged. Target: the full pipeline
 * reaches at least 0.5× the baseline's throughput.
 */

import { defineHandler } from '../packages/core/src/handlers.js'
import { createGateway, type Gateway, type GatewayRequest } from '../packages/core/src/index.js'
import type { Store } from '../packages/core/src/store.js'
import { fakeClock } from '../packages/core/src/testing/fake-clock.js'
import { httpRequests } from '../packages/core/src/testing/requests.js'
import { generateToken, hashToken } from '../packages/core/src/tokens.js'
import { memoryStore } from '../packages/store-memory/src/index.js'
import {
  alternate,
  printRounds,
  ratiosTo,
  type Sample,
  type Variant,
  verdict,
} from './support/rounds.js'

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

/** Times `total` events one after another: throughput and this process's CPU per event. */
async function timed(total: number, fn: (i: number) => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage()
  const start = performance.now()
  for (let i = 0; i < total; i++) await fn(i)
  const ms = performance.now() - start
  const { user, system } = process.cpuUsage(cpu)
  return { perSecond: (total * 1000) / ms, cpuUs: (user + system) / total }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`benchmark invariant broken: ${what}`)
}

/** `n` connected records, created straight in the store (setup, not measured). */
async function seedConnections(store: Store, n: number, prefix: string): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`)
  for (const connectionId of ids) {
    await store.connections.create(
      {
        connectionId,
        userId: `user-${connectionId}`,
        channels: [],
        apiId: 'testapi123',
        stage: 'bench',
        domainName: null,
      },
      clock.now(),
    )
  }
  return ids
}

function connectRequests(tokens: readonly string[]): GatewayRequest[] {
  return tokens.map((token, i) =>
    http.connect({ connectionId: `conn${i}`, token, clientIp: address(i) }),
  )
}

async function connectFull(): Promise<Sample> {
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
  return timed(CONNECTS, async (i) => {
    const response = await g.handle(requests[i] as GatewayRequest)
    check(response.status === 200, `connect answered ${response.status}`)
  })
}

async function connectBaseline(): Promise<Sample> {
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
  return timed(CONNECTS, async (i) => {
    const request = requests[i] as GatewayRequest
    const now = clock.now()
    const hit = await store.limits.hit(
      `connect.ip:${request.headers['x-forwarded-for']}`,
      RULE,
      now,
    )
    check(hit.allowed, 'limit')
    const token = await store.tokens.consume(hashToken(request.query.token as string), null, now)
    check(token !== null, 'token')
    const userHit = await store.limits.hit(`connect.user:${token?.userId}`, RULE, now)
    check(userHit.allowed, 'user limit')
    const created = await store.connections.create(
      {
        connectionId: request.headers.connectionid as string,
        userId: token?.userId ?? null,
        channels: [],
        apiId: request.headers['x-amzn-apigateway-api-id'] ?? null,
        stage: null,
        domainName: null,
      },
      now,
    )
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

async function messageFull(): Promise<Sample> {
  const store = memoryStore()
  const g = gateway(store)
  const requests = await messageRequests(store)
  return timed(MESSAGES, async (i) => {
    const response = await g.handle(requests[i] as GatewayRequest)
    check(response.status === 200, `message answered ${response.status}`)
  })
}

async function messageBaseline(): Promise<Sample> {
  const store = memoryStore()
  const requests = await messageRequests(store)
  const handlers = new Map([['echo', echo]])
  return timed(MESSAGES, async (i) => {
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

async function disconnectFull(): Promise<Sample> {
  const store = memoryStore()
  const g = gateway(store)
  const ids = await seedConnections(store, DISCONNECTS, 'gone')
  const requests = ids.map((connectionId) => http.disconnect({ connectionId }))
  return timed(DISCONNECTS, async (i) => {
    const response = await g.handle(requests[i] as GatewayRequest)
    check(response.status === 200, `disconnect answered ${response.status}`)
  })
}

async function disconnectBaseline(): Promise<Sample> {
  const store = memoryStore()
  const ids = await seedConnections(store, DISCONNECTS, 'gone')
  const requests = ids.map((connectionId) => http.disconnect({ connectionId }))
  return timed(DISCONNECTS, async (i) => {
    const request = requests[i] as GatewayRequest
    const changed = await store.connections.disconnect(
      request.headers.connectionid as string,
      clock.now(),
    )
    check(changed, 'disconnect')
  })
}

export default async function run(): Promise<void> {
  const kinds: [string, () => Promise<Sample>, () => Promise<Sample>][] = [
    ['connect', connectBaseline, connectFull],
    ['message', messageBaseline, messageFull],
    ['disconnect', disconnectBaseline, disconnectFull],
  ]
  const verdicts: [string, { median: number }][] = []
  for (const [kind, baseline, full] of kinds) {
    const base: Variant = { name: `${kind}: bare baseline (same store calls)`, run: baseline }
    const pipeline: Variant = {
      name: `${kind}: gateway.handle`,
      run: full,
      moreWorkThan: [base.name],
    }
    const result = await alternate(ROUNDS, [base, pipeline])
    printRounds(`core pipeline: ${kind} events (memory store)`, result, { unit: 'events' })
    verdicts.push([`${kind} throughput vs the bare baseline`, ratiosTo(result, 1, 0).throughput])
  }
  console.log('')
  for (const [label, ratio] of verdicts) verdict(label, ratio, TARGET)
}
