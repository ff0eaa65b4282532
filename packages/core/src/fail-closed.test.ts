/**
 * Fail closed: a store, hook, handler, check or listener that throws (or rejects) never turns a
 * request into an allow. Store failures answer 503, everything else 500, with generic bodies.
 */
import { memoryStore } from '@apigw-ws/store-memory'
import { describe, expect, it } from 'vitest'
import { failingStore, ORIGIN, type Overrides, SECRET, setup } from '../test/gateway-kit.js'
import type { GatewayEvent } from './events.js'
import { defineHandler } from './handlers.js'
import { REJECTION_STATUS, type RejectionCode, RejectionError } from './rejections.js'
import type { GatewayResponse } from './request.js'
import type { Store, StoreParts } from './store.js'
import { httpRequests } from './testing/requests.js'

const INTERNAL = JSON.stringify({ message: 'Internal Server Error' })
const UNAVAILABLE = JSON.stringify({ message: 'Service Unavailable' })
const STATUSES = new Set<number>(Object.values(REJECTION_STATUS))

/** Forwards to a memory store, except that the named methods fail. */
function failOn(methods: readonly string[], inner: Store = memoryStore()): StoreParts {
  const wrap = <T extends object>(group: string, target: T): T => {
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(target)) {
      const name = `${group}.${key}`
      out[key] = methods.includes(name)
        ? () => Promise.reject(new Error(`down: ${name}`))
        : (value as (...a: unknown[]) => unknown).bind(target)
    }
    return out as T
  }
  return {
    connections: wrap('connections', inner.connections),
    tokens: wrap('tokens', inner.tokens),
    limits: wrap('limits', inner.limits),
    cleanup: methods.includes('cleanup')
      ? () => Promise.reject(new Error('down'))
      : inner.cleanup.bind(inner),
  }
}

/** Thrown values hooks might produce: errors, rejections, and things that are not errors. */
const THROWS: [string, () => never | Promise<never>][] = [
  [
    'throws an Error',
    () => {
      throw new Error('hook broke')
    },
  ],
  ['rejects', () => Promise.reject(new TypeError('hook broke'))],
  [
    'throws a string',
    () => {
      throw 'hook broke'
    },
  ],
  [
    'throws undefined',
    () => {
      throw undefined
    },
  ],
]

describe('a store that fails on every call', () => {
  it.each(['throw', 'reject'] as const)(
    '(%s) refuses connect, message and disconnect with 503',
    async (mode) => {
      const http = httpRequests({ secret: SECRET })
      const store = failingStore(mode)
      const { gateway, events } = setup({}, store)
      for (const request of [
        http.connect({ token: `awst_${'A'.repeat(43)}` }),
        http.message({ connectionId: 'c1', body: { action: 'echo' } }),
        http.disconnect({ connectionId: 'c1' }),
      ]) {
        const response = await gateway.handle(request)
        expect(response.status).toBe(503)
        expect(response.body).toBe(UNAVAILABLE)
      }
      expect(store.attempts.length).toBeGreaterThanOrEqual(3)
      expect(
        events
          .filter((e) => e.type === 'internal.error')
          .map((e) => e.type === 'internal.error' && e.source),
      ).toEqual(['store', 'store', 'store'])
    },
  )

  it.each(['throw', 'reject'] as const)('(%s) refuses token issuance with 503', async (mode) => {
    const { gateway } = setup({}, failingStore(mode))
    const response = await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId: 'u',
    })
    expect(response.status).toBe(503)
    expect(response.body).not.toContain('awst_')
  })

  it('makes cleanup reject instead of reporting nothing deleted', async () => {
    const { gateway } = setup({}, failingStore('reject'))
    await expect(gateway.cleanup()).rejects.toThrow()
  })
})

describe('a store that fails at one step of $connect', () => {
  it.each(['limits.hit', 'tokens.consume', 'connections.create'])(
    'refuses the connect with 503 when %s fails, and never 200',
    async (method) => {
      const healthy = memoryStore()
      const broken = failOn([method], healthy)
      const http = httpRequests({ secret: SECRET })
      const issuer = setup({}, healthy)
      const token = await issuer.issue()
      const { gateway } = setup({}, broken)
      const response = await gateway.handle(http.connect({ token }))
      expect(response.status).toBe(503)
    },
  )

  it.each(['connections.touch', 'limits.hit'])(
    'refuses a message with 503 when %s fails',
    async (method) => {
      const healthy = memoryStore()
      const { connect } = setup({}, healthy)
      const { connectionId } = await connect()
      const { gateway, http } = setup(
        { rateLimits: { messagePerConnection: { limit: 5, windowMs: 1_000 } } },
        failOn([method], healthy),
      )
      const response = await gateway.handle(
        http.message({ connectionId, body: { action: 'echo' } }),
      )
      expect(response.status).toBe(503)
    },
  )

  it('refuses a join with 503 when subscribing fails', async () => {
    const healthy = memoryStore()
    const first = setup({}, healthy)
    const { connectionId } = await first.connect()
    const { gateway, http } = setup(
      { handlers: { join: defineHandler({ handle: (ctx) => ctx.join('room') }) } },
      failOn(['connections.subscribe'], healthy),
    )
    const response = await gateway.handle(http.message({ connectionId, body: { action: 'join' } }))
    expect(response.status).toBe(503)
  })
})

describe('a hook that fails', () => {
  const connectHooks = ['resolveSession', 'loadUser', 'hasPermission', 'authorizeChannel'] as const

  for (const hook of connectHooks) {
    it.each(THROWS)(`${hook} that %s refuses $connect with a generic 500`, async (_name, fail) => {
      const overrides: Overrides = {
        auth: { [hook]: fail },
        ...(hook === 'hasPermission' ? { connectPermissions: { anyOf: ['ws'] } } : {}),
      }
      const { gateway, http, issue, events } = setup(overrides)
      const token = await issue('u1', {
        channel: 'room',
        ...(hook === 'resolveSession' ? { sessionId: 's' } : {}),
      })
      const response = await gateway.handle(http.connect({ token, cookie: 'sid=s' }))
      expect(response.status).toBe(500)
      expect(response.body).toBe(INTERNAL)
      expect(events.find((e) => e.type === 'internal.error')).toMatchObject({
        source: 'hook',
        route: '$connect',
      })
      expect(events.some((e) => e.type === 'connect.accepted')).toBe(false)
    })
  }

  it.each(THROWS)(
    'loadUser or hasPermission that %s refuses a message with 500',
    async (_name, fail) => {
      const variants: Overrides[] = [
        { auth: { loadUser: fail } },
        { auth: { hasPermission: fail }, permissions: { allOf: ['x'] } },
      ]
      for (const overrides of variants) {
        const store = memoryStore()
        const { connectionId } = await setup({}, store).connect()
        const { gateway, http } = setup(overrides, store)
        const response = await gateway.handle(
          http.message({ connectionId, body: { action: 'echo' } }),
        )
        expect(response.status).toBe(500)
        expect(response.body).toBe(INTERNAL)
      }
    },
  )

  it.each(THROWS)(
    'authorizeChannel that %s refuses a join with 500 and subscribes nothing',
    async (_name, fail) => {
      const { gateway, http, connect, store } = setup({
        auth: { authorizeChannel: fail },
        handlers: { join: defineHandler({ handle: (ctx) => ctx.join('room') }) },
      })
      const { connectionId } = await connect()
      const response = await gateway.handle(
        http.message({ connectionId, body: { action: 'join' } }),
      )
      expect(response.status).toBe(500)
      expect([...(await store.connections.channels(connectionId))]).toEqual([])
    },
  )
})

describe('a handler, schema or check that fails', () => {
  it.each(THROWS)(
    'a handler that %s gets a generic 500 that reveals nothing',
    async (_name, fail) => {
      const { gateway, http, connect, events } = setup({
        handlers: { boom: defineHandler({ handle: fail }) },
      })
      const { connectionId } = await connect()
      const response = await gateway.handle(
        http.message({ connectionId, body: { action: 'boom' } }),
      )
      expect(response).toEqual({
        status: 500,
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        body: INTERNAL,
      })
      expect(events.find((e) => e.type === 'internal.error')).toMatchObject({ source: 'handler' })
      expect(events.some((e) => e.type === 'message.handled')).toBe(false)
    },
  )

  it('a handler whose reply cannot be serialized gets 500', async () => {
    const { gateway, http, connect } = setup({
      handlers: { big: defineHandler({ handle: () => ({ n: 1n }) }) },
    })
    const { connectionId } = await connect()
    const response = await gateway.handle(http.message({ connectionId, body: { action: 'big' } }))
    expect(response.status).toBe(500)
  })

  it('a schema whose validate throws gets 500', async () => {
    const schema = {
      '~standard': {
        version: 1 as const,
        vendor: 'x',
        validate: () => {
          throw new Error('schema broke')
        },
      },
    }
    const { gateway, http, connect } = setup({
      handlers: { s: defineHandler({ schema, handle: () => 1 }) },
    })
    const { connectionId } = await connect()
    expect(
      (await gateway.handle(http.message({ connectionId, body: { action: 's' } }))).status,
    ).toBe(500)
  })

  it.each(THROWS)('a custom connect or message check that %s gets 500', async (_name, fail) => {
    const { gateway, http, issue } = setup({ checks: { connect: [fail] } })
    expect((await gateway.handle(http.connect({ token: await issue() }))).status).toBe(500)
    const other = setup({ checks: { message: [fail] } })
    const { connectionId } = await other.connect()
    expect(
      (await other.gateway.handle(other.http.message({ connectionId, body: { action: 'echo' } })))
        .status,
    ).toBe(500)
  })
})

describe('a refusal with a code the table does not know', () => {
  async function statuses(overrides: Overrides) {
    const kit = setup(overrides)
    const connect = await kit.gateway.handle(kit.http.connect({ token: await kit.issue() }))
    const request = kit.http.connect({ token: await kit.issue() })
    const url = new URL('https://backend.example/ws/connect')
    for (const [name, value] of Object.entries(request.query)) url.searchParams.set(name, value)
    let viaFetch: number
    try {
      const response = await kit.gateway.fetch(
        new Request(url, { method: 'POST', headers: request.headers }),
      )
      viaFetch = response.status
    } catch {
      viaFetch = -1
    }
    return { connect, viaFetch }
  }

  it.each(['NOT_A_CODE', 'toString', '__proto__'])(
    'a custom check returning { code: %j } is refused as CHECK_FAILED (403), never allowed',
    async (code) => {
      const { connect, viaFetch } = await statuses({
        checks: { connect: [() => ({ code: code as RejectionCode })] },
      })
      expect(connect.status).toBe(403)
      expect(viaFetch).toBe(403)
    },
  )

  it('a handler throwing RejectionError with an unknown code gets a status from the table, never 2xx', async () => {
    const { gateway, http, connect } = setup({
      handlers: {
        odd: defineHandler({
          handle: () => {
            throw new RejectionError('NOT_A_CODE' as RejectionCode)
          },
        }),
      },
    })
    const { connectionId } = await connect()
    const response: GatewayResponse = await gateway.handle(
      http.message({ connectionId, body: { action: 'odd' } }),
    )
    expect(STATUSES.has(response.status)).toBe(true)
  })
})

describe('an onEvent listener that throws', () => {
  async function scenario(onEvent: (e: GatewayEvent) => void) {
    const kit = setup({
      onEvent,
      rateLimits: { messagePerConnection: { limit: 2, windowMs: 1_000 } },
    })
    const out: number[] = []
    const { connectionId, response } = await kit.connect({ connectionId: 'listen1=' })
    out.push(response.status)
    out.push((await kit.gateway.handle(kit.http.connect({ origin: 'https://evil.net' }))).status)
    for (let i = 0; i < 3; i++) {
      out.push(
        (await kit.gateway.handle(kit.http.message({ connectionId, body: { action: 'echo' } })))
          .status,
      )
    }
    out.push(
      (await kit.gateway.handle(kit.http.message({ connectionId, body: { action: 'nope' } })))
        .status,
    )
    out.push((await kit.gateway.handle(kit.http.disconnect({ connectionId }))).status)
    out.push((await kit.gateway.issueToken({ method: 'GET', headers: {}, userId: 'u' })).status)
    const record = await kit.store.connections.get(connectionId)
    return { out, record }
  }

  it('changes no response and no stored state', async () => {
    const quiet = await scenario(() => undefined)
    let thrown = 0
    const loud = await scenario(() => {
      thrown++
      throw new Error('listener broke')
    })
    expect(thrown).toBeGreaterThan(5)
    expect(loud.out).toEqual(quiet.out)
    expect(loud.out).toEqual([200, 403, 200, 200, 429, 429, 200, 405])
    expect(loud.record).toEqual(quiet.record)
  })
})
