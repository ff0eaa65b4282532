/**
 * The client end to end: real `ws` sockets through the local gateway to a Hono backend running
 * an apigw-ws gateway with `clientProtocol` on, tokens from the real token route. One manual
 * clock drives the local gateway's idle and max-duration timers, the core's clock and the
 * client's heartbeat and rollover timers; real time is only spent waiting (bounded) for sockets.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tokenRoute, websocketRoutes } from '@apigw-ws/adapter-hono'
import { createGateway, defineHandler, type Gateway } from '@apigw-ws/core'
import { awsConnections } from '@apigw-ws/core/aws'
import {
  createManualClock,
  type LocalGateway,
  type ManualClock,
  startLocalGateway,
} from '@apigw-ws/local-gateway'
import { memoryStore } from '@apigw-ws/store-memory'
import { getRequestListener, type HttpBindings } from '@hono/node-server'
import { Hono } from 'hono'
import * as v from 'valibot'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { type Client, type ClientError, type ClientOptions, createClient } from '../src/index.js'

const ORIGIN = 'https://app.e2e.test'
const SECRET = 'client-e2e-secret-0123456789'

function appHandlers(gateway: () => Gateway) {
  return {
    echo: defineHandler({
      schema: v.object({ text: v.string(), seq: v.optional(v.number()) }),
      handle: (_ctx, input) => ({ text: input.text, seq: input.seq ?? null }),
    }),
    join: defineHandler({
      schema: v.object({ channel: v.string() }),
      handle: async (ctx, input) => {
        await ctx.join(input.channel)
      },
    }),
    leave: defineHandler({
      schema: v.object({ channel: v.string() }),
      handle: async (ctx, input) => {
        await ctx.leave(input.channel)
      },
    }),
    say: defineHandler({
      schema: v.object({ channel: v.string(), seq: v.number() }),
      handle: async (_ctx, input) => {
        await gateway().send.toChannel(input.channel, { seq: input.seq })
      },
    }),
  }
}
type AppHandlers = ReturnType<typeof appHandlers>

interface Stack {
  readonly clock: ManualClock
  readonly tokenUrl: string
  readonly signedIn: Set<string>
  readonly tokenHits: string[]
  readonly gateway: Gateway
  local: LocalGateway
  readonly client: (user: string, options?: Partial<ClientOptions>) => Client<AppHandlers>
  /** Requests sent and not answered yet, over every client's sockets. */
  outstanding: number
  readonly stopBackend: () => Promise<void>
  readonly startBackend: () => Promise<void>
  readonly restartLocal: () => Promise<void>
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

async function startStack(local: { idleTimeoutMs?: number; maxDurationMs?: number } = {}) {
  const clock = createManualClock()
  const signedIn = new Set(['alice', 'bob', 'carol'])
  const tokenHits: string[] = []
  let endpoint = ''
  const gateway: Gateway = createGateway({
    store: memoryStore(),
    clock,
    integrationSecret: SECRET,
    allowedOrigins: [ORIGIN],
    clientProtocol: true,
    rateLimits: { tokenPerUser: { limit: 5, windowMs: 60_000 } },
    connections: awsConnections({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      endpoint: () => endpoint,
      maxAttempts: 1,
    }),
    auth: { authorizeChannel: ({ channel }) => channel !== 'staff' },
    handlers: appHandlers(() => gateway),
  })
  const app = new Hono<{ Bindings: HttpBindings }>()
  app.post(
    '/ws-token',
    tokenRoute(gateway, {
      identify: (c) => {
        const user = c.req.header('x-user') ?? ''
        tokenHits.push(user)
        return signedIn.has(user) ? { userId: user } : null
      },
    }),
  )
  app.route(
    '/ws',
    websocketRoutes<{ Bindings: HttpBindings }>(gateway, {
      peer: (c) => c.env.incoming.socket.remoteAddress,
    }),
  )
  const listener = getRequestListener(app.fetch)
  let server = createServer(listener)
  const backendPort = await listen(server)
  const startLocal = (port = 0) =>
    startLocalGateway({
      integration: { type: 'http', baseUrl: `http://127.0.0.1:${backendPort}/ws` },
      port,
      secret: { value: SECRET },
      clock,
      ...local,
    })
  const tokenUrl = `http://127.0.0.1:${backendPort}/ws-token`
  const stack: Stack = {
    clock,
    tokenUrl,
    outstanding: 0,
    signedIn,
    tokenHits,
    gateway,
    local: await startLocal(),
    client(user, options = {}) {
      const client = createClient<AppHandlers>({
        url: stack.local.url,
        token: { url: tokenUrl, headers: { origin: ORIGIN, 'x-user': user } },
        createSocket: (url) => {
          const ws = new WebSocket(url, { origin: ORIGIN })
          const send = ws.send.bind(ws)
          ;(ws as { send(data: string): void }).send = (data) => {
            if (data.includes('"$id"')) stack.outstanding += 1
            send(data)
          }
          ws.on('message', (data: Buffer) => {
            if (data.toString('utf8').startsWith('{"$id"')) stack.outstanding -= 1
          })
          return ws
        },
        timers: clock,
        random: () => 0.5,
        backoff: { initialMs: 100, maxMs: 1_000 },
        heartbeatMs: false,
        rolloverMs: false,
        lifecycle: null,
        ...options,
      })
      cleanups.push(() => client.close())
      return client
    },
    async stopBackend() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    async startBackend() {
      server = createServer(listener)
      await listen(server, backendPort)
    },
    async restartLocal() {
      const port = new URL(stack.local.url).port
      await stack.local.close()
      stack.local = await startLocal(Number(port))
      endpoint = stack.local.managementEndpoint
    },
  }
  endpoint = stack.local.managementEndpoint
  cleanups.push(async () => {
    await stack.local.close()
    await stack.stopBackend()
  })
  return stack
}

/** Waits (bounded, real time) for `condition`, advancing the manual clock by `stepMs` per poll. */
async function until(condition: () => boolean, clock?: ManualClock, stepMs = 0): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s')
    if (clock !== undefined && stepMs > 0) clock.advance(stepMs)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function record(client: Client<AppHandlers>) {
  const errors: ClientError[] = []
  const messages: unknown[] = []
  client.on('error', (e) => errors.push(e))
  client.on('message', (m) => messages.push(m))
  return { errors, messages }
}

describe('@apigw-ws/client through the local gateway', () => {
  it('connects, answers typed requests, and refuses with typed errors', async () => {
    const stack = await startStack()
    const alice = stack.client('alice')
    expect(await alice.request('echo', { text: 'hi', seq: 1 })).toEqual({ text: 'hi', seq: 1 })
    await alice.join('lobby')
    const staff = (await alice.join('staff').catch((e: unknown) => e)) as ClientError
    expect([staff.code, staff.status, staff.message]).toEqual(['REFUSED', 403, 'Forbidden'])
    const invalid = (await alice
      .request('echo', { text: 42 as unknown as string })
      .catch((e: unknown) => e)) as ClientError
    expect([invalid.code, invalid.status, invalid.message]).toEqual(['REFUSED', 400, 'Bad Request'])
    expect(alice.channels).toEqual(['lobby'])
    expect(alice.state).toBe('open')
  })

  it('keeps a quiet connection past the idle timeout with heartbeats (and loses it without)', async () => {
    const stack = await startStack({ idleTimeoutMs: 60_000 })
    const kept = stack.client('alice', { heartbeatMs: 30_000 })
    const cut = stack.client('bob')
    const keptLog = record(kept)
    await until(() => kept.state === 'open' && cut.state === 'open')
    for (let i = 0; i < 12; i += 1) {
      stack.clock.advance(15_000)
      await new Promise((resolve) => setTimeout(resolve, 10))
      await until(() => stack.outstanding === 0)
    }
    await until(() => kept.state === 'open' && cut.state === 'open')
    expect(stack.tokenHits.filter((u) => u === 'alice')).toHaveLength(1)
    expect(stack.tokenHits.filter((u) => u === 'bob').length).toBeGreaterThan(1)
    expect(keptLog.errors).toEqual([])
    expect(await kept.request('echo', { text: 'still here' })).toMatchObject({ text: 'still here' })
  })

  it('rolls over before the maximum duration with traffic both ways: 0 lost, 0 duplicated', {
    timeout: 20_000,
  }, async () => {
    const stack = await startStack({ maxDurationMs: 120_000 })
    const alice = stack.client('alice', { rolloverMs: 100_000 })
    const bob = stack.client('bob', { rolloverMs: 100_000 })
    const log = record(alice)
    await alice.join('room')
    const replies: Promise<unknown>[] = []
    const said: Promise<unknown>[] = []
    let seq = 0
    const burst = (count: number) => {
      for (let i = 0; i < count; i += 1) {
        seq += 1
        said.push(bob.request('say', { channel: 'room', seq }))
        replies.push(alice.request('echo', { text: 'x', seq }))
      }
    }
    const settled = async () => {
      await until(() => stack.outstanding === 0 && log.messages.length === seq)
    }
    for (let i = 0; i < 10; i += 1) {
      burst(3)
      stack.clock.advance(9_900)
      await settled()
    }
    // 99 s: the next advance starts the rollover while messages are in flight both ways.
    burst(10)
    stack.clock.advance(2_000)
    burst(10)
    await until(() => stack.tokenHits.filter((u) => u === 'alice').length === 2)
    burst(10)
    await settled()
    // Past the 120 s cut of the first connection: the old one must be gone by then.
    for (let i = 0; i < 5; i += 1) {
      burst(3)
      stack.clock.advance(5_000)
      await settled()
    }
    await Promise.all(said)
    const results = (await Promise.all(replies)) as { seq: number }[]
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: seq }, (_, i) => i + 1))
    const pushed = (log.messages as { seq: number }[]).map((m) => m.seq)
    expect(pushed).toHaveLength(seq)
    expect(new Set(pushed).size).toBe(seq)
    expect(log.errors).toEqual([])
    expect(alice.state).toBe('open')
    expect(stack.tokenHits.filter((u) => u === 'alice')).toHaveLength(2)
    expect(stack.tokenHits.filter((u) => u === 'bob')).toHaveLength(2)
  })

  it('comes back after the backend and the gateway restart, re-joining its channels', async () => {
    const stack = await startStack()
    const alice = stack.client('alice')
    const bob = stack.client('bob')
    const log = record(alice)
    await alice.join('room')
    await stack.stopBackend()
    await stack.restartLocal()
    await until(() => alice.state === 'reconnecting')
    await stack.startBackend()
    await until(() => alice.state === 'open' && bob.state === 'open', stack.clock, 200)
    bob.send('say', { channel: 'room', seq: 7 })
    await until(() => log.messages.length === 1)
    expect(log.messages).toEqual([{ seq: 7 }])
    expect(alice.channels).toEqual(['room'])
  })

  it('stops when the token route says the user signed out', async () => {
    const stack = await startStack()
    const alice = stack.client('alice')
    const log = record(alice)
    await until(() => alice.state === 'open')
    stack.signedIn.delete('alice')
    await stack.gateway.send.disconnectUser('alice')
    await until(() => alice.state === 'closed', stack.clock, 200)
    expect(log.errors.map((e) => [e.code, e.status])).toEqual([['SIGNED_OUT', 401]])
    const hits = stack.tokenHits.length
    stack.clock.advance(600_000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(stack.tokenHits).toHaveLength(hits)
  })

  it('waits for Retry-After when the token route answers 429', async () => {
    const stack = await startStack()
    for (let i = 0; i < 5; i += 1) {
      const res = await fetch(stack.tokenUrl, {
        method: 'POST',
        headers: { origin: ORIGIN, 'x-user': 'carol', 'content-type': 'application/json' },
        body: '{}',
      })
      expect(res.status).toBe(200)
    }
    const carol = stack.client('carol')
    const log = record(carol)
    await until(() => log.errors.length === 1)
    expect(log.errors[0]).toMatchObject({ code: 'TOKEN_FAILED', status: 429, retryAfterMs: 60_000 })
    expect(carol.state).toBe('reconnecting')
    stack.clock.advance(59_000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(stack.tokenHits).toHaveLength(6)
    stack.clock.advance(1_000)
    await until(() => carol.state === 'open')
    expect(stack.tokenHits).toHaveLength(7)
  })

  it('refuses an oversized message locally and keeps the connection', async () => {
    const stack = await startStack()
    const alice = stack.client('alice')
    const log = record(alice)
    await until(() => alice.state === 'open')
    const big = 'x'.repeat(131_072)
    await expect(alice.request('echo', { text: big })).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
    })
    expect(() => alice.send('echo', { text: big })).toThrow(/limit is 131072/)
    expect(await alice.request('echo', { text: 'small' })).toMatchObject({ text: 'small' })
    expect(log.errors).toEqual([])
    expect(stack.tokenHits).toHaveLength(1)
  })
})
