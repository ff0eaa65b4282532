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
