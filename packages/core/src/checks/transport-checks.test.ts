import { describe, expect, it, vi } from 'vitest'
import {
  API_ID,
  kitConfig,
  recordingStore,
  rejectionCodes,
  SECRET,
  setup,
  stateFor,
} from '../../test/gateway-kit.js'
import type { GatewayRequest } from '../request.js'
import { httpRequests, lambdaEvents } from '../testing/requests.js'
import { bodySize, connectionId, gatewayShape, integrationSecret } from './transport-checks.js'

function withHeaders(request: GatewayRequest, headers: Record<string, string | undefined>) {
  const merged: Record<string, string> = { ...request.headers }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) delete merged[name]
    else merged[name] = value
  }
  return { ...request, headers: merged }
}

describe('bodySize', () => {
  const config = kitConfig({ maxBodyBytes: 10 })
  const http = httpRequests({ secret: SECRET })
  const sized = (body: string | Uint8Array) =>
    bodySize(stateFor(config, http.message({ connectionId: 'c1', body })))

  it('accepts exactly maxBodyBytes and refuses one byte more (413)', () => {
    expect(sized('x'.repeat(10))).toBeUndefined()
    expect(sized('x'.repeat(11))).toEqual({ code: 'BODY_TOO_LARGE' })
    expect(sized(new Uint8Array(10))).toBeUndefined()
    expect(sized(new Uint8Array(11))).toEqual({ code: 'BODY_TOO_LARGE' })
  })

  it('measures text in UTF-8 bytes, not characters', () => {
    expect(sized('é'.repeat(5))).toBeUndefined()
    expect(sized(`${'é'.repeat(5)}a`)).toEqual({ code: 'BODY_TOO_LARGE' })
    expect(sized('€'.repeat(4))).toEqual({ code: 'BODY_TOO_LARGE' })
  })

  it('is measured before parsing: an oversized invalid body is 413, not 400', async () => {
    const { gateway, http: kitHttp, connect } = setup({ maxBodyBytes: 64 })
    const { connectionId: id } = await connect()
    const response = await gateway.handle(
      kitHttp.message({ connectionId: id, body: '{'.repeat(65) }),
    )
    expect(response.status).toBe(413)
  })

  it('applies to every route', async () => {
    const { gateway, http: kitHttp, events } = setup({ maxBodyBytes: 4 })
    const connect = { ...kitHttp.connect(), body: 'hello' }
    const disconnect = { ...kitHttp.disconnect({ connectionId: 'c1' }), body: 'hello' }
    expect((await gateway.handle(connect)).status).toBe(413)
    expect((await gateway.handle(disconnect)).status).toBe(413)
    expect(rejectionCodes(events)).toEqual(['BODY_TOO_LARGE', 'BODY_TOO_LARGE'])
  })
})

describe('integrationSecret', () => {
  const config = kitConfig({ integrationSecret: [SECRET, 'next-secret-0123456789'] })
  const http = httpRequests({ secret: SECRET })
  const check = (secret: string | undefined) =>
    integrationSecret(
      stateFor(
        config,
        withHeaders(http.disconnect({ connectionId: 'c1' }), { 'x-apigw-secret': secret }),
      ),
    )

  it('accepts every configured secret (rotation)', () => {
    expect(check(SECRET)).toBeUndefined()
    expect(check('next-secret-0123456789')).toBeUndefined()
  })

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['wrong', 'wrong-secret-0123456789'],
    ['a prefix of the secret', SECRET.slice(0, -1)],
    ['the secret with a suffix', `${SECRET}x`],
    ['the secret in upper case', SECRET.toUpperCase()],
    ['the secret with whitespace', ` ${SECRET}`],
    ['both secrets joined', `${SECRET}, next-secret-0123456789`],
  ])('refuses a %s secret (403)', (_name, secret) => {
    expect(check(secret)).toMatchObject({ code: 'SECRET_INVALID' })
  })

  it('reads the configured header only', () => {
    const custom = kitConfig({ secretHeader: 'x-custom-secret' })
    const request = http.disconnect({ connectionId: 'c1' })
    expect(integrationSecret(stateFor(custom, request))).toMatchObject({ code: 'SECRET_INVALID' })
    const moved = withHeaders(request, { 'x-custom-secret': SECRET })
    expect(integrationSecret(stateFor(custom, moved))).toBeUndefined()
  })

  it('trusts Lambda events, which only AWS can produce', async () => {
    const { gateway } = setup({ integration: 'lambda', integrationSecret: undefined })
    const result = await gateway.lambda(lambdaEvents().disconnect({ connectionId: 'lambdaC1=' }))
    expect(result.statusCode).toBe(200)
  })

  it('in Lambda mode, refuses every HTTP request, secret or not', async () => {
    const { gateway, http: kitHttp } = setup({ integration: 'lambda' })
    expect((await gateway.handle(kitHttp.disconnect({ connectionId: 'c1' }))).status).toBe(403)
    expect((await gateway.handle(kitHttp.connect())).status).toBe(403)
  })

  it('without a configured secret, lets HTTP requests through (the warned-about mode)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const open = kitConfig({ integrationSecret: undefined })
    const request = httpRequests().disconnect({ connectionId: 'c1' })
    expect(integrationSecret(stateFor(open, request))).toBeUndefined()
    warn.mockRestore()
  })
})

describe('gatewayShape', () => {
  const http = httpRequests({ secret: SECRET })
  const shape = (config: ReturnType<typeof kitConfig>, request: GatewayRequest) =>
    gatewayShape(stateFor(config, request))

  it('requires the API id header', () => {
    const config = kitConfig()
    const request = withHeaders(http.disconnect({ connectionId: 'c1' }), {
      'x-amzn-apigateway-api-id': undefined,
    })
    expect(shape(config, request)).toMatchObject({ code: 'GATEWAY_SHAPE_INVALID' })
    expect(shape(config, withHeaders(request, { 'x-amzn-apigateway-api-id': '' }))).toMatchObject({
      code: 'GATEWAY_SHAPE_INVALID',
    })
  })

  it('with apiIds pinned, accepts only those ids', () => {
    const config = kitConfig({ apiIds: [API_ID] })
    expect(shape(config, http.disconnect({ connectionId: 'c1' }))).toBeUndefined()
    const other = httpRequests({ secret: SECRET, apiId: 'otherapi99' })
    expect(shape(config, other.disconnect({ connectionId: 'c1' }))).toMatchObject({
      code: 'GATEWAY_SHAPE_INVALID',
    })
    expect(shape(config, other.connect())).toMatchObject({ code: 'GATEWAY_SHAPE_INVALID' })
  })

  it.each([
    ['missing', undefined],
    ['a browser', 'Mozilla/5.0'],
    ['another API', 'AmazonAPIGateway_otherapi99'],
    ['a prefix of the right one', `AmazonAPIGateway_${API_ID.slice(0, -1)}`],
    ['the right one with a suffix', `AmazonAPIGateway_${API_ID} x`],
  ])('refuses a %s User-Agent on disconnect and message calls', (_name, agent) => {
    for (const config of [kitConfig(), kitConfig({ apiIds: [API_ID] })]) {
      const disconnect = withHeaders(http.disconnect({ connectionId: 'c1' }), {
        'user-agent': agent,
      })
      const message = withHeaders(http.message({ connectionId: 'c1', body: {} }), {
        'user-agent': agent,
      })
      expect(shape(config, disconnect)).toMatchObject({ code: 'GATEWAY_SHAPE_INVALID' })
      expect(shape(config, message)).toMatchObject({ code: 'GATEWAY_SHAPE_INVALID' })
    }
  })

  it('accepts AmazonAPIGateway_<apiId> on disconnect and messages, pinned or not', () => {
    for (const config of [kitConfig(), kitConfig({ apiIds: [API_ID] })]) {
      expect(shape(config, http.disconnect({ connectionId: 'c1' }))).toBeUndefined()
      expect(shape(config, http.message({ connectionId: 'c1', body: {} }))).toBeUndefined()
    }
  })

  it('does not read the User-Agent on $connect (it is the browser’s)', () => {
    expect(shape(kitConfig({ apiIds: [API_ID] }), http.connect())).toBeUndefined()
  })

  it('reads the API id from requestContext for Lambda events (no User-Agent needed)', async () => {
    const { gateway } = setup({ integration: 'lambda', apiIds: ['lambdaapi1'] })
    const ok = lambdaEvents({ apiId: 'lambdaapi1' }).disconnect({ connectionId: 'c1' })
    const other = lambdaEvents({ apiId: 'lambdaapi2' }).disconnect({ connectionId: 'c1' })
    expect((await gateway.lambda(ok)).statusCode).toBe(200)
    expect((await gateway.lambda(other)).statusCode).toBe(403)
  })
})

describe('connectionId', () => {
  const config = kitConfig()
  const http = httpRequests({ secret: SECRET })

  it('takes the id from the mapped connectionid header', () => {
    const state = stateFor(config, http.disconnect({ connectionId: 'TXzPWdnOjoECGjA=' }))
    expect(connectionId(state)).toBeUndefined()
    expect(state.connectionId).toBe('TXzPWdnOjoECGjA=')
  })

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['129 characters long', 'x'.repeat(129)],
    ['a path', '../x'],
    ['a list', 'a, b'],
  ])('refuses an id that is %s (400)', (_name, id) => {
    const request = withHeaders(http.disconnect({ connectionId: 'x' }), { connectionid: id })
    expect(connectionId(stateFor(config, request))).toEqual({ code: 'CONNECTION_ID_INVALID' })
  })

  it('ignores ids anywhere else (query, body, other headers)', () => {
    const request = withHeaders(
      {
        ...http.message({ connectionId: 'x', body: { connectionId: 'fromBody1' } }),
        query: { connectionId: 'fromQuery1' },
      },
      { connectionid: undefined, 'connection-id': 'fromHeader1', 'x-connection-id': 'fromHeader2' },
    )
    expect(connectionId(stateFor(config, request))).toEqual({ code: 'CONNECTION_ID_INVALID' })
  })

  it('takes the id from requestContext for Lambda events, not from headers', async () => {
    const { gateway, issue, store } = setup({ integration: 'lambda' })
    const event = lambdaEvents().connect({
      connectionId: 'ctxId1234=',
      token: await issue(),
      headers: { connectionid: 'headerId99=' },
    })
    expect((await gateway.lambda(event)).statusCode).toBe(200)
    expect(await store.connections.get('ctxId1234=')).not.toBeNull()
    expect(await store.connections.get('headerId99=')).toBeNull()
  })

  it('accepts a 128-character id end to end', async () => {
    const { response } = await setup().connect({ connectionId: 'c'.repeat(128) })
    expect(response.status).toBe(200)
  })
})

describe('the transport checks', () => {
  it('touch no store on any refusal', async () => {
    const store = recordingStore()
    const { gateway, http } = setup({ apiIds: [API_ID], maxBodyBytes: 8 }, store)
    const refused = [
      { ...http.message({ connectionId: 'c1', body: {} }), body: 'x'.repeat(9) },
      withHeaders(http.message({ connectionId: 'c1', body: {} }), { 'x-apigw-secret': 'nope' }),
      httpRequests({ secret: SECRET, apiId: 'other' }).message({ connectionId: 'c1', body: {} }),
      withHeaders(http.disconnect({ connectionId: 'c1' }), { 'user-agent': 'curl/8' }),
      withHeaders(http.connect(), { connectionid: 'bad id' }),
    ]
    const statuses = []
    for (const request of refused) statuses.push((await gateway.handle(request)).status)
    expect(statuses).toEqual([413, 403, 403, 403, 400])
    expect(store.calls).toEqual([])
  })
})

describe('connection attributes (issue 9, item 2)', () => {
  const CLIENT_CHOSEN = {
    'x-apigw-stage': '../internal',
    'x-apigw-domain': '127.0.0.1:9/internal-admin',
    'x-amzn-apigateway-api-id': API_ID,
  }

  async function connectWith(
    overrides: Parameters<typeof setup>[0],
    headers: Record<string, string>,
  ) {
    const kit = setup(overrides)
    const connectionId = 'attrConn0000001='
    const token = await kit.issue()
    const response = await kit.gateway.handle(kit.http.connect({ connectionId, token, headers }))
    return { kit, response, record: await kit.store.connections.get(connectionId) }
  }

  it('ignores client-chosen stage, domain and API id headers unless options name them', async () => {
    const { response, record } = await connectWith({}, CLIENT_CHOSEN)
    expect(response.status).toBe(200)
    expect(record).toMatchObject({ apiId: null, stage: null, domainName: null })
  })

  it('stores the API id only when apiIds pins it', async () => {
    const { record } = await connectWith({ apiIds: [API_ID] }, CLIENT_CHOSEN)
    expect(record).toMatchObject({ apiId: API_ID, stage: null, domainName: null })
  })

  it('requires and stores named stage and domain headers when they are valid', async () => {
    const { response, record } = await connectWith(
      { stageHeader: 'x-apigw-stage', domainNameHeader: 'x-apigw-domain' },
      { 'x-apigw-stage': 'prod_2', 'x-apigw-domain': 'ws.example.com:8443' },
    )
    expect(response.status).toBe(200)
    expect(record).toMatchObject({ stage: 'prod_2', domainName: 'ws.example.com:8443' })
  })

  it.each<[string, Record<string, string>]>([
    ['a missing stage header', { 'x-apigw-domain': 'ws.example.com' }],
    ['a missing domain header', { 'x-apigw-stage': 'prod' }],
    ['a stage with a path', { 'x-apigw-stage': '../x', 'x-apigw-domain': 'ws.example.com' }],
    ['a stage with a dot', { 'x-apigw-stage': 'v1.2', 'x-apigw-domain': 'ws.example.com' }],
    ['a domain with a path', { 'x-apigw-stage': 'prod', 'x-apigw-domain': '127.0.0.1:9/admin' }],
    ['a domain with userinfo', { 'x-apigw-stage': 'prod', 'x-apigw-domain': 'a@ws.example.com' }],
    ['a domain with a query', { 'x-apigw-stage': 'prod', 'x-apigw-domain': 'ws.example.com?x' }],
    ['a domain with port 0', { 'x-apigw-stage': 'prod', 'x-apigw-domain': 'ws.example.com:0' }],
    ['an empty domain', { 'x-apigw-stage': 'prod', 'x-apigw-domain': '' }],
  ])('refuses %s when both are named (403 GATEWAY_SHAPE_INVALID)', async (_label, headers) => {
    const { kit, response, record } = await connectWith(
      { stageHeader: 'x-apigw-stage', domainNameHeader: 'x-apigw-domain' },
      headers,
    )
    expect(response.status).toBe(403)
    expect(rejectionCodes(kit.events)).toEqual(['GATEWAY_SHAPE_INVALID'])
    expect(record).toBeNull()
  })

  it('takes Lambda attributes from requestContext, keeping only valid values', async () => {
    const kit = setup({ integration: 'lambda', allowMissingOrigin: true })
    const token = await kit.issue()
    const event = lambdaEvents({ apiId: 'abc123', stage: 'prod' }).connect({
      connectionId: 'lambdaAttr0001=',
      token,
    })
    const response = await kit.gateway.lambda(event)
    expect(response.statusCode).toBe(200)
    expect(await kit.store.connections.get('lambdaAttr0001=')).toMatchObject({
      apiId: 'abc123',
      stage: 'prod',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
    })
  })
})

describe('Lambda provenance (issue 9, item 9)', () => {
  const lambdaContext = {
    connectionId: 'spoofed00000001=',
    routeKey: '$default',
    eventType: 'MESSAGE',
    apiId: API_ID,
    stage: 'test',
    domainName: null,
    sourceIp: '203.0.113.10',
    userAgent: null,
    requestId: null,
    disconnectStatusCode: null,
  } as const

  it('refuses a request handed to gateway.handle with a lambda field and no secret (HTTP mode)', async () => {
    const calls: unknown[] = []
    const kit = setup({
      handlers: { echo: { handle: (_ctx, input) => void calls.push(input) } },
    })
    const { connectionId } = await kit.connect({ connectionId: 'spoofed00000001=' })
    const unsigned = httpRequests({}).message({ connectionId, body: { action: 'echo' } })
    const response = await kit.gateway.handle({
      ...unsigned,
      lambda: { ...lambdaContext, connectionId },
    })
    expect(response.status).toBe(403)
    expect(rejectionCodes(kit.events)).toEqual(['SECRET_INVALID'])
    expect(calls).toEqual([])
  })

  it('refuses it even with the right secret: only gateway.lambda may carry a Lambda context', async () => {
    const kit = setup()
    const { connectionId } = await kit.connect()
    const response = await kit.gateway.handle({
      ...kit.http.message({ connectionId, body: { action: 'echo' } }),
      lambda: { ...lambdaContext, connectionId },
    })
    expect(response.status).toBe(403)
  })

  it('refuses it in Lambda mode too, where gateway.lambda is the only entry point', async () => {
    const kit = setup({ integration: 'lambda' })
    const response = await kit.gateway.handle({
      ...httpRequests({}).disconnect({ connectionId: 'spoofed00000001=' }),
      lambda: { ...lambdaContext, routeKey: '$disconnect', eventType: 'DISCONNECT' },
    })
    expect(response.status).toBe(403)
  })
})
