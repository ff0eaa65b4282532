import { describe, expect, it } from 'vitest'
import { type ApiSnapshot, diagnose, type Expectations } from './doctor-checks.js'

const EXPECTED: Expectations = {
  secretHeader: 'x-apigw-secret',
  handlerKeys: ['handler', 'action'],
  twoWayRoutes: [],
}

function api(overrides: Partial<ApiSnapshot>): ApiSnapshot {
  return {
    apiId: 'a1',
    protocolType: 'WEBSOCKET',
    routeSelectionExpression: '$request.body.action',
    routes: [
      { routeId: 'r0', routeKey: '$connect', target: 'integrations/i0' },
      { routeId: 'r1', routeKey: '$disconnect', target: 'integrations/i0' },
      { routeId: 'r2', routeKey: '$default', target: 'integrations/i0' },
    ],
    integrations: [
      {
        integrationId: 'i0',
        integrationType: 'AWS_PROXY',
        integrationUri:
          'arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:1:function:f/invocations',
      },
    ],
    routeResponses: {},
    stage: null,
    ...overrides,
  }
}

describe('diagnose', () => {
  it('accepts a Lambda proxy API without HTTP mappings', () => {
    expect(diagnose(api({}), EXPECTED)).toEqual([])
  })

  it('accepts any handler key as the selection key, and nothing else', () => {
    expect(diagnose(api({ routeSelectionExpression: '$request.body.handler' }), EXPECTED)).toEqual(
      [],
    )
    for (const expression of ['$request.body.type', 'request.body.action', '', '$default']) {
      const codes = diagnose(api({ routeSelectionExpression: expression }), EXPECTED).map(
        (f) => f.code,
      )
      expect(codes).toEqual(['ROUTE_SELECTION_MISMATCH'])
    }
  })

  it('reports routes without an integration and non-WebSocket APIs', () => {
    const dangling = api({
      routes: [
        { routeId: 'r0', routeKey: '$connect', target: 'integrations/gone' },
        { routeId: 'r1', routeKey: '$disconnect', target: 'integrations/i0' },
        { routeId: 'r2', routeKey: '$default' },
      ],
    })
    expect(diagnose(dangling, EXPECTED).map((f) => [f.code, f.route])).toEqual([
      ['ROUTE_WITHOUT_INTEGRATION', '$connect'],
      ['ROUTE_WITHOUT_INTEGRATION', '$default'],
    ])
    expect(diagnose(api({ protocolType: 'HTTP' }), EXPECTED).map((f) => f.code)).toEqual([
      'NOT_WEBSOCKET',
    ])
  })

  it('asks for a route response where a route expects one', () => {
    const expecting = api({
      routes: [
        { routeId: 'r0', routeKey: '$connect', target: 'integrations/i0' },
        { routeId: 'r1', routeKey: '$disconnect', target: 'integrations/i0' },
        {
          routeId: 'r2',
          routeKey: '$default',
          target: 'integrations/i0',
          routeResponseSelectionExpression: '$default',
        },
      ],
    })
    expect(diagnose(expecting, EXPECTED).map((f) => [f.code, f.route])).toEqual([
      ['ROUTE_RESPONSE_MISSING', '$default'],
    ])
    const declared = { ...EXPECTED, twoWayRoutes: ['$default'] }
    const withoutExpression = api({ routeResponses: { r2: ['$default'] } })
    expect(diagnose(withoutExpression, declared).map((f) => f.code)).toEqual([
      'ROUTE_RESPONSE_MISSING',
    ])
  })
})
