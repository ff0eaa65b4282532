import { afterEach, describe, expect, it } from 'vitest'
import {
  type ConnectionsServer,
  type ConnectionsServerOptions,
  replies,
  startConnectionsServer,
} from '../../test/connections-server.js'
import { fakeStore } from '../../test/fake-store.js'
import { fastRetry, testCredentials } from '../../test/sdk-retry.js'
import type { GatewayEvent } from '../events.js'
import { PayloadTooLargeError } from '../send/payload.js'
import { createSender, type SenderOptions } from '../send/sender.js'
import { fakeClock } from '../testing/fake-clock.js'
import { type AwsConnections, awsConnections } from './aws-connections.js'

const servers: ConnectionsServer[] = []
const transports: AwsConnections[] = []

afterEach(async () => {
  for (const t of transports.splice(0)) t.destroy()
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function setup(
  serverOptions: ConnectionsServerOptions = {},
  senderOptions: Partial<SenderOptions> = {},
) {
  const server = await startConnectionsServer(serverOptions)
  servers.push(server)
  const connections = awsConnections({
    region: 'us-east-1',
    credentials: testCredentials,
    endpoint: server.endpoint('prod'),
    retryStrategy: fastRetry(3),
  })
  transports.push(connections)
  const store = fakeStore()
  const clock = fakeClock()
  const events: GatewayEvent[] = []
  const send = createSender({
    store,
    connections,
    clock,
    onEvent: (e) => events.push(e),
    ...senderOptions,
  })
  return { server, connections, store, clock, events, send }
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `conn${String(i).padStart(3, '0')}=`)

describe('sender over the AWS transport', () => {
  it('broadcasts to 100 recipients, attempting all and reporting each failure', async () => {
    const outcome: Record<string, (typeof replies)[keyof typeof replies]> = {
      'conn007=': replies.gone,
      'conn042=': replies.bareGone,
      'conn099=': replies.gone,
      'conn013=': replies.forbidden,
      'conn014=': replies.forbidden,
      'conn050=': replies.tooLarge,
    }
    const { server, store, send, events } = await setup(
      { respond: (r) => outcome[r.connectionId] },
      { pageSize: 30, concurrency: 8 },
    )
    const all = ids(100)
    store.seed(all)
    const report = await send.broadcast({ type: 'news', n: 1 })

    expect(server.requests.map((r) => r.connectionId).sort()).toEqual(all)
    expect(new Set(server.requests.map((r) => new TextDecoder().decode(r.body)))).toEqual(
      new Set(['{"type":"news","n":1}']),
    )
    expect(report.attempted).toBe(100)
    expect(report.delivered).toBe(94)
    expect([...report.gone].sort()).toEqual(['conn007=', 'conn042=', 'conn099='])
    expect([...report.failed].sort((a, b) => a.connectionId.localeCompare(b.connectionId))).toEqual(
      [
        { connectionId: 'conn013=', code: 'ForbiddenException', retryable: false },
        { connectionId: 'conn014=', code: 'ForbiddenException', retryable: false },
        { connectionId: 'conn050=', code: 'PayloadTooLargeException', retryable: false },
      ],
    )
    expect(store.transitions.map((t) => t.connectionId).sort()).toEqual(report.gone.slice().sort())
    expect(events.filter((e) => e.type === 'send.completed')).toEqual([
      expect.objectContaining({
        attempted: 100,
        delivered: 94,
        gone: 3,
        failed: 3,
        failures: { ForbiddenException: 2, PayloadTooLargeException: 1 },
        retries: 0,
      }),
    ])
  })

  it('counts SDK retries of throttled and failing sends in the event', async () => {
    const { store, send, events } = await setup({
      respond: (r) =>
        r.attempt === 1 && r.connectionId === 'conn001='
          ? replies.throttled
          : r.attempt === 1 && r.connectionId === 'conn002='
            ? replies.serverError
            : undefined,
    })
    store.seed(ids(5))
    expect(await send.broadcast('x')).toMatchObject({ attempted: 5, delivered: 5 })
    expect(events.find((e) => e.type === 'send.completed')).toMatchObject({ retries: 2 })
  })

  it.each([1, 4, 16])('keeps at most %i requests in flight', async (concurrency) => {
    const { server, store, send } = await setup({ latencyMs: 5 }, { concurrency, pageSize: 25 })
    store.seed(ids(80))
    expect((await send.broadcast('x')).delivered).toBe(80)
    expect(server.maxInFlight).toBeLessThanOrEqual(concurrency)
    expect(server.maxInFlight).toBeGreaterThanOrEqual(Math.min(concurrency, 2))
  })

  it('sends each connection to the endpoint of its stored API id and stage', async () => {
    const a = await startConnectionsServer()
    const b = await startConnectionsServer()
    servers.push(a, b)
    const origins: Record<string, string> = { apia: a.origin, apib: b.origin }
    const connections = awsConnections({
      region: 'us-east-1',
      credentials: testCredentials,
      endpoint: (t) => `${origins[t.apiId ?? '']}/${t.stage}`,
    })
    transports.push(connections)
    const store = fakeStore()
    store.seed(['a1', 'a2'], { apiId: 'apia', stage: 'prod' })
    store.seed(['b1'], { apiId: 'apib', stage: 'beta' })
    const send = createSender({ store, connections, clock: fakeClock() })
    expect((await send.broadcast('x')).delivered).toBe(3)
    expect(a.requests.map((r) => `${r.basePath}:${r.connectionId}`).sort()).toEqual([
      'prod:a1',
      'prod:a2',
    ])
    expect(b.requests.map((r) => `${r.basePath}:${r.connectionId}`)).toEqual(['beta:b1'])
    expect(connections.endpoints()).toHaveLength(2)
  })

  it('passes 131,072 bytes through the real SDK and refuses 131,073 before any request', async () => {
    const { server, store, send } = await setup()
    store.seed(['a='])
    const exact = `${'€'.repeat(43_690)}ab`
    expect((await send.toConnection('a=', exact)).delivered).toBe(1)
    expect(server.requests[0]?.body.byteLength).toBe(131_072)
    expect(new TextDecoder().decode(server.requests[0]?.body)).toBe(exact)
    expect((await send.broadcast(new Uint8Array(131_072))).delivered).toBe(1)

    const before = server.count
    await expect(send.toConnection('a=', '€'.repeat(43_691))).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    )
    await expect(send.broadcast('a'.repeat(131_073))).rejects.toMatchObject({ bytes: 131_073 })
    expect(server.count).toBe(before)
  })

  it('stops starting requests when the signal fires and accounts for every listed recipient', async () => {
    const controller = new AbortController()
    const { server, store, send } = await setup(
      {
        latencyMs: 2,
        respond: (r) => {
          if (r.connectionId === 'conn010=') controller.abort()
          return undefined
        },
      },
      { concurrency: 3, pageSize: 40 },
    )
    store.seed(ids(100))
    const report = await send.broadcast('x', { signal: controller.signal })
    expect(report.aborted).toBe(true)
    expect(report.attempted).toBe(report.delivered + report.gone.length + report.failed.length)
    expect(report.failed.every((f) => f.code === 'ABORTED' && f.retryable)).toBe(true)
    // Requests in flight when the signal fired are cancelled; none starts afterwards.
    expect(server.count).toBeLessThanOrEqual(11 + 3)
    expect(report.delivered).toBeLessThan(server.count)
    expect(report.attempted).toBe(40)
  })

  it('stops starting requests after the deadline', async () => {
    const { server, store, send, clock } = await setup(
      {
        respond: () => {
          clock.advance(100)
          return undefined
        },
      },
      { concurrency: 1, pageSize: 50 },
    )
    store.seed(ids(20))
    const report = await send.broadcast('x', { deadline: clock.now() + 500 })
    expect(server.count).toBe(5)
    expect(report).toMatchObject({ attempted: 20, delivered: 5, aborted: true })
    expect(report.failed).toHaveLength(15)
  })

  it('verifyConnections prunes connections API Gateway reports gone', async () => {
    const { server, store, send, clock } = await setup({
      respond: (r) => (r.connectionId === 'conn001=' ? replies.gone : undefined),
    })
    store.seed(ids(3), { connectedAt: clock.now() - 3_600_000 })
    const report = await send.verifyConnections({ idleMs: 600_000 })
    expect(report).toMatchObject({ attempted: 3, delivered: 2, gone: ['conn001='] })
    expect(server.requests.every((r) => r.method === 'GET')).toBe(true)
    expect((await store.connections.get('conn001='))?.disconnectedAt).toBe(clock.now())
  })
})

describe('payload size through the sender', () => {
  it('reports PayloadTooLargeError with bytes and limit', async () => {
    const { send, store } = await setup()
    store.seed(['a='])
    await expect(send.toConnection('a=', { t: 'x'.repeat(131_070) })).rejects.toMatchObject({
      name: 'PayloadTooLargeError',
      bytes: 131_078,
      limit: 131_072,
    })
  })
})
