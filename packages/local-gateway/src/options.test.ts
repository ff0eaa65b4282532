import { describe, expect, it } from 'vitest'
import { systemClock } from './clock.js'
import { type LocalGatewayOptions, normalizeOptions } from './options.js'

const http = { type: 'http', baseUrl: 'http://127.0.0.1:3000/ws/' } as const

describe('normalizeOptions', () => {
  it("applies API Gateway's defaults", () => {
    const o = normalizeOptions({ integration: http })
    expect(o).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      stage: 'local',
      apiId: 'local',
      routeSelectionExpression: '$request.body.action',
      routes: undefined,
      secret: undefined,
      idleTimeoutMs: 600_000,
      maxDurationMs: 7_200_000,
      maxMessageBytes: 131_072,
      integrationTimeoutMs: 29_000,
      clock: systemClock,
    })
    expect(o.integration.type === 'http' && o.integration.baseUrl.href).toBe(
      'http://127.0.0.1:3000/ws',
    )
    expect(Object.isFrozen(o)).toBe(true)
  })

  it('defaults the secret header name', () => {
    expect(normalizeOptions({ integration: http, secret: { value: 'v' } }).secret).toEqual({
      header: 'x-apigw-secret',
      value: 'v',
    })
  })

  it.each<[string, Partial<LocalGatewayOptions>]>([
    ['a missing integration', { integration: undefined as never }],
    ['an ftp URL', { integration: { type: 'http', baseUrl: 'ftp://x/ws' } }],
    ['a URL with a query', { integration: { type: 'http', baseUrl: 'http://x/ws?a=1' } }],
    ['a URL with credentials', { integration: { type: 'http', baseUrl: 'http://u:p@x/ws' } }],
    ['not a URL', { integration: { type: 'http', baseUrl: 'nope' } }],
    ['a lambda without handler', { integration: { type: 'lambda' } as never }],
    [
      'a secret in Lambda mode',
      {
        integration: { type: 'lambda', handler: async () => ({ statusCode: 200 }) },
        secret: { value: 'v' },
      },
    ],
    ['a secret with a newline', { secret: { value: 'a\nb' } }],
    ['an empty secret', { secret: { value: '' } }],
    ['a bad secret header', { secret: { header: 'bad header', value: 'v' } }],
    ['a bad stage', { stage: 'a/b' }],
    ['a bad api id', { apiId: 'a b' }],
    ['a negative port', { port: -1 }],
    ['a fractional timeout', { idleTimeoutMs: 1.5 }],
    ['a zero message limit', { maxMessageBytes: 0 }],
    ['a timer beyond setTimeout', { maxDurationMs: 2 ** 31 }],
    ['an unsupported expression', { routeSelectionExpression: '$request.body.items[0]' }],
    ['a system route in routes', { routes: ['$default'] }],
    ['a route named disconnect', { routes: ['disconnect'] }],
    ['a route named Connect', { routes: ['chat', 'Connect'] }],
    ['a route named DEFAULT', { routes: ['DEFAULT'] }],
    ['an empty route', { routes: [''] }],
  ])('throws TypeError for %s', (_name, patch) => {
    expect(() => normalizeOptions({ integration: http, ...patch } as LocalGatewayOptions)).toThrow(
      TypeError,
    )
  })
})
