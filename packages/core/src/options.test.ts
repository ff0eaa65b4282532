import { memoryStore } from '@apigw-ws/store-memory'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { API_ID, ORIGIN, SECRET, setup } from '../test/gateway-kit.js'
import type { GatewayEvent } from './events.js'
import { createGateway } from './gateway.js'
import { defineHandler } from './handlers.js'
import { type GatewayOptions, normalizeOptions } from './options.js'
import { fakeClock } from './testing/fake-clock.js'
import { forgetWarnings } from './warnings.js'

function base(): Record<string, unknown> {
  return { store: memoryStore(), integrationSecret: SECRET, allowedOrigins: [ORIGIN] }
}

function build(patch: Record<string, unknown>) {
  return createGateway({ ...base(), ...patch } as unknown as GatewayOptions)
}

const handler = defineHandler({ handle: () => undefined })

describe('option validation', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['no store', { store: undefined }, 'store'],
    ['a store missing methods', { store: { connections: {}, tokens: {}, limits: {} } }, 'store'],
    ['a non-transport connections', { connections: {} }, 'connections'],
    ['an unknown integration', { integration: 'grpc' }, 'integration'],
    ['a short secret', { integrationSecret: 'short' }, 'integrationSecret'],
    ['an empty secret', { integrationSecret: '' }, 'integrationSecret'],
    ['an empty secret list', { integrationSecret: [] }, 'integrationSecret'],
    ['a non-string secret', { integrationSecret: 42 }, 'integrationSecret'],
    ['a secret list with a short entry', { integrationSecret: [SECRET, 'x'] }, 'integrationSecret'],
    ['an upper-case secretHeader', { secretHeader: 'X-Secret' }, 'secretHeader'],
    ['a secretHeader with a space', { secretHeader: 'x secret' }, 'secretHeader'],
    ['missing allowedOrigins', { allowedOrigins: undefined }, 'allowedOrigins'],
    ['a string allowedOrigins', { allowedOrigins: ORIGIN }, 'allowedOrigins'],
    ['an origin with a trailing slash', { allowedOrigins: [`${ORIGIN}/`] }, 'allowedOrigins'],
    ['an origin with a path', { allowedOrigins: [`${ORIGIN}/app`] }, 'allowedOrigins'],
    ['an upper-case origin', { allowedOrigins: ['https://APP.example.com'] }, 'allowedOrigins'],
    [
      'a default port spelled out',
      { allowedOrigins: ['https://app.example.com:443'] },
      'allowedOrigins',
    ],
    ['a host without a scheme', { allowedOrigins: ['app.example.com'] }, 'allowedOrigins'],
    ['the null origin', { allowedOrigins: ['null'] }, 'allowedOrigins'],
    ['a wildcard origin', { allowedOrigins: ['*'] }, 'allowedOrigins'],
    ['a non-array allowedHosts', { allowedHosts: 'app.example.com' }, 'allowedHosts'],
    ['an empty host', { allowedHosts: [''] }, 'allowedHosts'],
    ['a non-array apiIds', { apiIds: API_ID }, 'apiIds'],
    ['a numeric api id', { apiIds: [1] }, 'apiIds'],
    ['an upper-case sourceIpHeader', { sourceIpHeader: 'X-Real-IP' }, 'sourceIpHeader'],
    ['negative trustedProxies', { trustedProxies: -1 }, 'trustedProxies'],
    ['fractional trustedProxies', { trustedProxies: 1.5 }, 'trustedProxies'],
    ['zero maxBodyBytes', { maxBodyBytes: 0 }, 'maxBodyBytes'],
    ['NaN maxBodyBytes', { maxBodyBytes: Number.NaN }, 'maxBodyBytes'],
    ['string maxBodyBytes', { maxBodyBytes: '1000' }, 'maxBodyBytes'],
    ['zero maxJsonDepth', { maxJsonDepth: 0 }, 'maxJsonDepth'],
    ['infinite maxJsonKeys', { maxJsonKeys: Number.POSITIVE_INFINITY }, 'maxJsonKeys'],
    ['zero tokens.ttlMs', { tokens: { ttlMs: 0 } }, 'tokens.ttlMs'],
    ['fractional tokens.ttlMs', { tokens: { ttlMs: 0.5 } }, 'tokens.ttlMs'],
    ['an empty tokens.queryParam', { tokens: { queryParam: '' } }, 'tokens.queryParam'],
    ['a tokens.queryParam with =', { tokens: { queryParam: 'a=b' } }, 'tokens.queryParam'],
    ['a channelParam with a space', { channelParam: 'a b' }, 'channelParam'],
    ['a string rate limit', { rateLimits: { connectPerIp: '20/min' } }, 'rateLimits.connectPerIp'],
    [
      'a zero connect limit',
      { rateLimits: { connectPerIp: { limit: 0, windowMs: 1 } } },
      'rateLimits.connectPerIp.limit',
    ],
    [
      'a zero window',
      { rateLimits: { connectPerUser: { limit: 1, windowMs: 0 } } },
      'rateLimits.connectPerUser.windowMs',
    ],
    [
      'a rule without a limit',
      { rateLimits: { connectPerIp: { windowMs: 1_000 } } },
      'rateLimits.connectPerIp.limit',
    ],
    [
      'a rule without a window',
      { rateLimits: { tokenPerUser: { limit: 5 } } },
      'rateLimits.tokenPerUser.windowMs',
    ],
    [
      'an empty rule',
      { rateLimits: { messagePerConnection: {} } },
      'rateLimits.messagePerConnection',
    ],
    ['true as a rule', { rateLimits: { tokenPerUser: true } }, 'rateLimits.tokenPerUser'],
    [
      'a non-function resolveSession',
      { auth: { resolveSession: 'cookie' } },
      'auth.resolveSession',
    ],
    ['a non-function loadUser', { auth: { loadUser: {} } }, 'auth.loadUser'],
    ['a non-function hasPermission', { auth: { hasPermission: true } }, 'auth.hasPermission'],
    ['a non-function authorizeChannel', { auth: { authorizeChannel: 1 } }, 'auth.authorizeChannel'],
    ['a handler named connect', { handlers: { connect: handler } }, '"connect" is reserved'],
    [
      'a handler named disconnect',
      { handlers: { disconnect: handler } },
      'system route $disconnect',
    ],
    ['a handler named Disconnect', { handlers: { Disconnect: handler } }, '"Disconnect"'],
    [
      'a handler named $disconnect',
      { handlers: { $disconnect: handler } },
      '"$disconnect" is reserved',
    ],
    ['a handler named CONNECT', { handlers: { CONNECT: handler } }, '"CONNECT" is reserved'],
    ['a handler named Default', { handlers: { Default: handler } }, 'registered as "default"'],
    ['a handler named $default', { handlers: { $default: handler } }, 'registered as "default"'],
    [
      'a Map handler named disconnect',
      { handlers: new Map([['disconnect', handler]]) },
      '"disconnect" is reserved',
    ],
    ['a blank secret (16 spaces)', { integrationSecret: ' '.repeat(16) }, 'blank'],
    ['a blank secret (tabs)', { integrationSecret: '\t'.repeat(20) }, 'blank'],
    ['a repeated secret', { integrationSecret: 'a'.repeat(32) }, '1 distinct characters'],
    ['a low-variety secret', { integrationSecret: 'abcabcabcabcabcabc' }, 'too predictable'],
    ['a secret with a leading space', { integrationSecret: ` ${SECRET}` }, 'whitespace'],
    ['a secret with a trailing newline', { integrationSecret: `${SECRET}\n` }, 'printable ASCII'],
    ['a non-ASCII secret', { integrationSecret: `${SECRET}é` }, 'printable ASCII'],
    [
      'a list with one weak secret',
      { integrationSecret: [SECRET, 'x'.repeat(16)] },
      'integrationSecret[1] is too predictable',
    ],
    ['a stageHeader with upper case', { stageHeader: 'X-Stage' }, 'stageHeader'],
    ['a numeric domainNameHeader', { domainNameHeader: 1 }, 'domainNameHeader'],
    ['a handler name starting with _', { handlers: { _private: handler } }, '_private'],
    ['a numeric handler name', { handlers: { '123': handler } }, '123'],
    ['a non-handler', { handlers: { chat: () => undefined } }, 'handlers.chat'],
    ['a handler without handle', { handlers: { chat: {} } }, 'handlers.chat'],
    [
      'a non-schema',
      { handlers: { chat: { schema: {}, handle: () => undefined } } },
      'handlers.chat.schema',
    ],
    [
      'empty handler permissions',
      { handlers: { chat: { permissions: {}, handle: () => undefined } } },
      'handlers.chat.permissions',
    ],
    ['empty handlerKeys', { handlerKeys: [] }, 'handlerKeys'],
    ['a string handlerKeys', { handlerKeys: 'action' }, 'handlerKeys'],
    [
      'empty permissions',
      { permissions: { anyOf: [] }, auth: { hasPermission: () => true } },
      'permissions',
    ],
    [
      'bad connectPermissions',
      { connectPermissions: { allOf: [3] }, auth: { hasPermission: () => true } },
      'connectPermissions.allOf',
    ],
    ['permissions without hasPermission', { permissions: { anyOf: ['a'] } }, 'auth.hasPermission'],
    [
      'handler permissions without hasPermission',
      { handlers: { chat: { permissions: { allOf: ['a'] }, handle: () => undefined } } },
      'auth.hasPermission',
    ],
    ['a non-function connect check', { checks: { connect: ['no'] } }, 'checks.connect'],
    ['a non-array message checks', { checks: { message: () => undefined } }, 'checks.message'],
    ['zero send.concurrency', { send: { concurrency: 0 } }, 'send.concurrency'],
    ['fractional send.pageSize', { send: { pageSize: 2.5 } }, 'send.pageSize'],
    ['zero staleConnectionMs', { staleConnectionMs: 0 }, 'staleConnectionMs'],
    [
      'negative disconnectedRetentionMs',
      { disconnectedRetentionMs: -1 },
      'disconnectedRetentionMs',
    ],
    ['a non-function onEvent', { onEvent: 'console' }, 'onEvent'],
    ['a clock without now()', { clock: { time: () => 0 } }, 'clock'],
  ])('refuses %s with a TypeError naming the option', (_name, patch, option) => {
    expect(() => build(patch)).toThrow(TypeError)
    expect(() => build(patch)).toThrow(option)
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['a string allowMissingSecret', { allowMissingSecret: 'yes' }, 'allowMissingSecret'],
    ['a string allowMissingOrigin', { allowMissingOrigin: 'true' }, 'allowMissingOrigin'],
    ['a non-object tokens', { tokens: 60_000 }, 'tokens'],
    ['a non-object rateLimits', { rateLimits: 20 }, 'rateLimits'],
    ['a non-object auth', { auth: 'session' }, 'auth'],
    ['a non-object handlers', { handlers: 'chat' }, 'handlers'],
    ['a non-object checks', { checks: 1 }, 'checks'],
    ['a non-object send', { send: 8 }, 'send'],
    ['null permissions', { permissions: null }, 'permissions'],
  ])(
    'refuses %s (a malformed group or flag) with a TypeError naming the option',
    (_name, patch, option) => {
      expect(() => build(patch)).toThrow(TypeError)
      expect(() => build(patch)).toThrow(option)
    },
  )

  it('refuses a non-object options argument', () => {
    expect(() => createGateway(undefined as unknown as GatewayOptions)).toThrow(TypeError)
    expect(() => createGateway('x' as unknown as GatewayOptions)).toThrow(/options/)
  })

  it('accepts the documented shapes: a secret list, a Map of handlers, disabled limits', async () => {
    const { gateway, http, issue } = setup({
      integrationSecret: [`${SECRET}-next`, SECRET],
      allowMissingOrigin: true,
      handlers: new Map([['chat', defineHandler({ handle: () => 'from the map' })]]),
      rateLimits: { connectPerIp: false, connectPerUser: false, tokenPerUser: false },
      allowedHosts: ['App.Example.com'],
      apiIds: [API_ID],
      sourceIpHeader: 'x-apigw-source-ip',
    })
    const connect = await gateway.handle(
      http.connect({
        connectionId: 'shapes1=',
        token: await issue(),
        origin: null,
        headers: { host: 'app.example.com' },
      }),
    )
    expect(connect.status).toBe(200)
    const reply = await gateway.handle(
      http.message({ connectionId: 'shapes1=', body: { action: 'chat' } }),
    )
    expect(reply.body).toBe(JSON.stringify('from the map'))
  })
})

describe('the normalized configuration', () => {
  it('is frozen, with frozen parts', () => {
    const config = normalizeOptions({
      ...base(),
      rateLimits: { messagePerConnection: { limit: 5, windowMs: 1_000 } },
      checks: { connect: [() => undefined] },
      handlers: { chat: handler },
    } as unknown as GatewayOptions)
    expect(Object.isFrozen(config)).toBe(true)
    for (const part of [
      config.secretDigests,
      config.json,
      config.limits,
      config.limits.connectPerIp,
      config.limits.messagePerConnection,
      config.auth,
      config.handlerKeys,
      config.checks,
      config.checks.connect,
      config.checks.message,
      config.send,
    ]) {
      expect(Object.isFrozen(part)).toBe(true)
    }
  })

  it('applies the documented defaults', () => {
    const config = normalizeOptions(base() as unknown as GatewayOptions)
    expect(config.integration).toBe('http')
    expect(config.secretHeader).toBe('x-apigw-secret')
    expect(config.maxBodyBytes).toBe(131_072)
    expect(config.json).toEqual({ maxDepth: 32, maxKeys: 1_000 })
    expect(config.tokenTtlMs).toBe(60_000)
    expect(config.tokenParam).toBe('token')
    expect(config.channelParam).toBe('channel')
    expect(config.trustedProxies).toBe(0)
    expect(config.limits.connectPerIp).toEqual({ limit: 20, windowMs: 60_000 })
    expect(config.limits.connectPerUser).toEqual({ limit: 20, windowMs: 60_000 })
    expect(config.limits.tokenPerUser).toEqual({ limit: 20, windowMs: 60_000 })
    expect(config.limits.messagePerConnection).toBeNull()
    expect(config.handlerKeys).toEqual(['handler', 'action'])
    expect(config.allowMissingOrigin).toBe(false)
    expect(config.staleConnectionMs).toBe(2 * 60 * 60 * 1000 + 10 * 60 * 1000)
  })

  it('never mutates the options object (a deeply frozen one is accepted)', () => {
    const deepFreeze = <T>(value: T): T => {
      if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
        Object.freeze(value)
        for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
      }
      return value
    }
    const options = deepFreeze({
      store: memoryStore(),
      integrationSecret: [SECRET],
      allowedOrigins: [ORIGIN],
      tokens: { ttlMs: 1_000 },
      rateLimits: { connectPerIp: { limit: 1, windowMs: 1 } },
      handlers: { chat: defineHandler({ handle: () => undefined }) },
      auth: {},
      checks: { connect: [], message: [] },
    })
    expect(() => createGateway(options)).not.toThrow()
  })

  it('is a copy: changing the caller’s arrays and objects afterwards changes nothing', async () => {
    const origins = [ORIGIN]
    const secrets = [SECRET]
    const handlers: Record<string, ReturnType<typeof defineHandler>> = {}
    const rule = { limit: 1, windowMs: 60_000 }
    const { gateway, http, connect } = setup({
      allowedOrigins: origins,
      integrationSecret: secrets,
      handlers,
      rateLimits: { messagePerConnection: rule },
    })
    origins.push('https://evil.example')
    secrets.push('attacker-chosen-secret-value')
    handlers.late = defineHandler({ handle: () => 'late' })
    rule.limit = 1_000
    const connected = await connect()
    expect(connected.response.status).toBe(200)
    const evil = await gateway.handle(http.connect({ origin: 'https://evil.example' }))
    expect(evil.status).toBe(403)
    const late = await gateway.handle(
      http.message({ connectionId: connected.connectionId, body: { action: 'late' } }),
    )
    expect(late.status).toBe(400)
    const second = await gateway.handle(
      http.message({ connectionId: connected.connectionId, body: { action: 'late' } }),
    )
    expect(second.status).toBe(429)
    const attacker = { ...http.disconnect({ connectionId: connected.connectionId }) }
    const forged = await gateway.handle({
      ...attacker,
      headers: { ...attacker.headers, 'x-apigw-secret': 'attacker-chosen-secret-value' },
    })
    expect(forged.status).toBe(403)
  })

  it('honours tokens.ttlMs in the grant and at connect', async () => {
    const { gateway, http, issue, clock } = setup({ tokens: { ttlMs: 5_000 } })
    const response = await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId: 'u',
    })
    expect(JSON.parse(response.body ?? '{}')).toMatchObject({ expiresIn: 5 })
    const token = await issue()
    clock.advance(5_000)
    expect((await gateway.handle(http.connect({ token }))).status).toBe(401)
  })

  it('honours tokens.queryParam and channelParam', async () => {
    const { gateway, http, issue, store } = setup({
      tokens: { queryParam: 'ws_token' },
      channelParam: 'room',
    })
    const token = await issue()
    const wrongParam = await gateway.handle(http.connect({ token }))
    expect(wrongParam.status).toBe(401)
    const response = await gateway.handle(
      http.connect({ connectionId: 'renamed1', query: { ws_token: token, room: 'lobby' } }),
    )
    expect(response.status).toBe(200)
    expect([...(await store.connections.channels('renamed1'))]).toEqual(['lobby'])
  })
})

describe('the production guard', () => {
  const saved = process.env.NODE_ENV
  let warn: ReturnType<typeof vi.spyOn>

  beforeEach(() => {
    forgetWarnings()
    warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
  })

  afterEach(() => {
    if (saved === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = saved
    vi.restoreAllMocks()
  })

  it('refuses to start in production without an integration secret, naming the option', () => {
    process.env.NODE_ENV = 'production'
    expect(() => build({ integrationSecret: undefined })).toThrow(TypeError)
    expect(() => build({ integrationSecret: undefined })).toThrow(/integrationSecret/)
  })

  it.each(['Production', 'PRODUCTION', ' production', 'production ', '\tproduction\n'])(
    'treats NODE_ENV=%j as production',
    (value) => {
      process.env.NODE_ENV = value
      expect(() => build({ integrationSecret: undefined })).toThrow(/required in production/)
    },
  )

  it('catches an unset secret variable passed as is (no fallback needed to compile)', () => {
    process.env.NODE_ENV = 'production'
    const variable = 'APIGW_WS_TEST_SECRET_THAT_IS_NOT_SET'
    delete process.env[variable]
    // Under exactOptionalPropertyTypes this compiles only because every option accepts undefined.
    const options: GatewayOptions = {
      store: memoryStore(),
      allowedOrigins: [ORIGIN],
      integrationSecret: process.env[variable],
      secretHeader: process.env.APIGW_WS_TEST_UNSET_HEADER,
      stageHeader: undefined,
      apiIds: undefined,
      tokens: { ttlMs: undefined, queryParam: undefined },
      rateLimits: { messagePerConnection: undefined },
      auth: { loadUser: undefined },
      send: { concurrency: undefined },
    }
    expect(() => createGateway(options)).toThrow(/integrationSecret is required in production/)
    process.env.NODE_ENV = 'development'
    expect(() => createGateway(options)).not.toThrow()
  })

  it('starts in production without a secret only when explicitly acknowledged, and warns', () => {
    process.env.NODE_ENV = 'production'
    expect(() => build({ integrationSecret: undefined, allowMissingSecret: true })).not.toThrow()
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('starts in production with a secret, or in Lambda mode, without warning', () => {
    process.env.NODE_ENV = 'production'
    expect(() => build({})).not.toThrow()
    expect(() => build({ integrationSecret: undefined, integration: 'lambda' })).not.toThrow()
    expect(warn).not.toHaveBeenCalled()
  })

  it('outside production, warns once (not per request) and emits config.warning', async () => {
    process.env.NODE_ENV = 'development'
    const events: GatewayEvent[] = []
    const gateway = build({
      integrationSecret: undefined,
      clock: fakeClock(),
      onEvent: (e: GatewayEvent) => events.push(e),
    })
    await gateway.handle({
      route: '$default',
      method: 'POST',
      headers: {},
      query: {},
      body: null,
    })
    await gateway.handle({ route: '$connect', method: 'POST', headers: {}, query: {}, body: null })
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/integrationSecret/)
    expect(events.filter((e) => e.type === 'config.warning')).toEqual([
      expect.objectContaining({ code: 'NO_INTEGRATION_SECRET' }),
    ])
  })
})
