import { createGateway, defineHandler, type GatewayOptions } from '@apigw-ws/core'
import { fakeClock, httpRequests } from '@apigw-ws/core/testing'
import { memoryStore } from '@apigw-ws/store-memory'
import fc from 'fast-check'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  gatewayOptions,
  routeSelectionExpression,
  SECRET_SOURCE_ENV,
  type SettingsGatewayOptions,
  secretSourceFromEnvironment,
  webSocketSettings,
} from './settings.js'

const SECRET = 'integration-secret-0123456789'
const ORIGIN = 'https://app.example.com'

describe('webSocketSettings', () => {
  it('defaults to what core and the docs expect', () => {
    const s = webSocketSettings()
    expect(s).toEqual({
      integration: 'http',
      secretHeader: 'x-apigw-secret',
      sourceIpHeader: 'x-apigw-source-ip',
      mapStage: true,
      routeKeyHeader: null,
      domainNameHeader: null,
      selectionKey: 'action',
      routes: [],
      twoWayRoutes: [],
    })
    expect(Object.isFrozen(s)).toBe(true)
    expect(routeSelectionExpression(s)).toBe('$request.body.action')
  })

  it('reserves the system route names for custom routes', () => {
    for (const name of ['connect', 'disconnect', 'default']) {
      expect(() => webSocketSettings({ routes: [name] })).toThrow(/reserved/)
    }
    expect(() => webSocketSettings({ routes: ['$connect'] })).toThrow(/not a route name/)
  })

  it('refuses two-way routes that are not routes, duplicates and clashing headers', () => {
    expect(() => webSocketSettings({ twoWayRoutes: ['chat'] })).toThrow(/not in routes/)
    expect(webSocketSettings({ twoWayRoutes: ['default'] }).twoWayRoutes).toEqual(['default'])
    expect(() => webSocketSettings({ routes: ['a', 'a'] })).toThrow(/twice/)
    expect(() => webSocketSettings({ secretHeader: 'x-a', sourceIpHeader: 'x-a' })).toThrow(
      /must differ/,
    )
    expect(() => webSocketSettings({ secretHeader: 'connectionid' })).toThrow(/mapped already/)
    expect(() => webSocketSettings({ secretHeader: 'X-Secret' })).toThrow(/lower-case/)
    expect(() => webSocketSettings({ selectionKey: 'a.b' })).toThrow(/selectionKey/)
  })

  it('accepts only route names that are safe as route keys and path segments', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (name) => {
        let ok: boolean
        try {
          webSocketSettings({ routes: [name] })
          ok = true
        } catch (e) {
          expect(e).toBeInstanceOf(TypeError)
          ok = false
        }
        expect(ok).toBe(
          /^[A-Za-z0-9_-]{1,128}$/.test(name) &&
            !['connect', 'disconnect', 'default'].includes(name),
        )
      }),
    )
  })
})

describe('gatewayOptions', () => {
  it('is assignable to core options', () => {
    expectTypeOf<SettingsGatewayOptions>().toExtend<Partial<GatewayOptions>>()
    const http = gatewayOptions(webSocketSettings(), { integrationSecret: SECRET })
    expect(http).toEqual({
      integration: 'http',
      secretHeader: 'x-apigw-secret',
      sourceIpHeader: 'x-apigw-source-ip',
      stageHeader: 'x-apigw-stage',
      integrationSecret: SECRET,
      handlerKeys: ['action'],
    })
    expect(gatewayOptions(webSocketSettings({ mapStage: false })).stageHeader).toBeUndefined()
    expect(gatewayOptions(webSocketSettings({ integration: 'lambda' }))).toEqual({
      integration: 'lambda',
      handlerKeys: ['action'],
    })
    const lambda = webSocketSettings({ integration: 'lambda' })
    expect(gatewayOptions(lambda, { apiId: 'abc123' }).apiIds).toEqual(['abc123'])
    expect(gatewayOptions(lambda, { apiId: '' }).apiIds).toBeUndefined()
    // A Lambda backend gets no secret or header options even when handed some.
    expect(gatewayOptions(lambda, { integrationSecret: SECRET })).toEqual({
      integration: 'lambda',
      handlerKeys: ['action'],
    })
  })

  it('makes core read the headers the construct maps and select handlers like API Gateway', async () => {
    const settings = webSocketSettings({
      secretHeader: 'x-my-secret',
      sourceIpHeader: 'x-my-ip',
      domainNameHeader: 'x-my-domain',
      selectionKey: 'op',
      routes: ['who'],
    })
    const store = memoryStore()
    const gateway = createGateway({
      ...gatewayOptions(settings, { integrationSecret: SECRET }),
      store,
      clock: fakeClock(),
      allowedOrigins: [ORIGIN],
      handlers: {
        who: defineHandler({ handle: (ctx) => ({ who: ctx.userId }) }),
        other: defineHandler({ handle: () => ({ other: true }) }),
      },
    })
    const issued = await gateway.issueToken({
      method: 'POST',
      headers: { origin: ORIGIN },
      userId: 'u1',
    })
    const { token } = JSON.parse(issued.body ?? '{}') as { token: string }
    // The secret under the default header name is not the configured mapping: refused.
    const wrong = httpRequests({ secret: SECRET })
    expect((await gateway.handle(wrong.connect({ connectionId: 'connA=', token }))).status).toBe(
      403,
    )
    const http = httpRequests({ secret: SECRET, secretHeader: 'x-my-secret' })
    const connect = http.connect({
      connectionId: 'connB=',
      token,
      headers: {
        'x-my-ip': '198.51.100.7',
        'x-apigw-stage': 'prod',
        'x-my-domain': 'ws.example.com',
      },
    })
    expect((await gateway.handle(connect)).status).toBe(200)
    // The mapped stage is stored, so the sender can derive the connection's endpoint.
    expect((await store.connections.get('connB='))?.stage).toBe('prod')
    expect((await store.connections.get('connB='))?.domainName).toBe('ws.example.com')
    // API Gateway routed `{ op: 'who' }` to the `who` route; core picks the same handler and
    // ignores the `handler`/`action` keys core would otherwise look at first.
    const message = http.message({
      connectionId: 'connB=',
      route: 'who',
      body: { op: 'who', handler: 'other', action: 'other' },
    })
    const answer = await gateway.handle(message)
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body ?? '')).toEqual({ who: 'u1' })
  })
})

describe('secretSourceFromEnvironment', () => {
  it('reads what backendEnvironment() writes, and nothing malformed', () => {
    expect(secretSourceFromEnvironment({})).toBeNull()
    expect(
      secretSourceFromEnvironment({
        [SECRET_SOURCE_ENV]: '{"kind":"secretsmanager","secretId":"arn:x","jsonField":"v"}',
      }),
    ).toEqual({ kind: 'secretsmanager', secretId: 'arn:x', jsonField: 'v' })
    expect(
      secretSourceFromEnvironment({ [SECRET_SOURCE_ENV]: '{"kind":"ssm","parameterName":"/p"}' }),
    ).toEqual({ kind: 'ssm', parameterName: '/p' })
    for (const bad of ['x', '{}', '{"kind":"ssm"}', '{"kind":"secretsmanager","secretId":""}']) {
      expect(() => secretSourceFromEnvironment({ [SECRET_SOURCE_ENV]: bad })).toThrow(TypeError)
    }
  })
})
