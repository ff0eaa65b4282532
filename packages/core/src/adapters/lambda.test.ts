import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ORIGIN, setup } from '../../test/gateway-kit.js'
import { defineHandler } from '../handlers.js'
import type { GatewayResponse } from '../request.js'
import { lambdaEvents } from '../testing/requests.js'
import { fromLambdaEvent, toLambdaResult, type WebSocketEvent } from './lambda.js'

/** The published API Gateway samples (see the README beside them). */
const FIXTURES = new URL('../../../../fixtures/lambda/', import.meta.url)
const FILES = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
const PLACEHOLDER = 'REPLACE_WITH_ISSUED_TOKEN'

type Json = Record<string, unknown>

function fixture(file: string, token?: string): Json {
  const text = readFileSync(new URL(file, FIXTURES), 'utf8')
  return JSON.parse(token === undefined ? text : text.replaceAll(PLACEHOLDER, token)) as Json
}

/** A gateway that accepts the samples: their origins, hosts, API ids and token parameter. */
function fixtureKit() {
  return setup({
    integration: 'lambda',
    integrationSecret: undefined,
    allowedOrigins: ['https://testsite.com', ORIGIN],
    allowMissingOrigin: true,
    allowedHosts: ['allowedhost.com', 'fjnq7njcv2.execute-api.us-east-1.amazonaws.com'],
    apiIds: ['nn27okk1we', 'fjnq7njcv2', 'asasasas', 'jzla12ar9e'],
    tokens: { queryParam: 'ws_token' },
    handlers: {
      chat: defineHandler({
        handle: (ctx, input) => ({ echoed: (input as Json).message, to: ctx.connectionId }),
      }),
    },
  })
}

/** Runs one sample through a fresh gateway, after whatever it presupposes. */
async function run(file: string, transform: (event: Json) => Json = (e) => e) {
  const kit = fixtureKit()
  let event = fixture(file)
  const context = event.requestContext as Json
  const connectionId = context.connectionId as string
  const apiId = context.apiId as string
  if (file.startsWith('connect-')) {
    const token = await kit.issue('fixture-user')
    event = fixture(file, token)
    if (event.queryStringParameters === undefined) event.queryStringParameters = { ws_token: token }
  } else {
    // Messages and disconnects presuppose the connection: open it first.
    const connect = lambdaEvents({ apiId }).connect({
      connectionId,
      token: await kit.issue('fixture-user'),
      origin: null,
      headers: { Host: 'allowedhost.com' },
    })
    const query = connect.queryStringParameters as Json
    const opened = await kit.gateway.lambda({
      ...connect,
      queryStringParameters: { ws_token: query.token as string },
    })
    expect(opened.statusCode).toBe(200)
  }
  const result = await kit.gateway.lambda(transform(event) as WebSocketEvent)
  return { result, kit, connectionId }
}

/** Sets every optional key the sample leaves out to an explicit `null`, as older events do. */
function withNulls(event: Json): Json {
  const context = { ...(event.requestContext as Json) }
  const identity = { ...(context.identity as Json) }
  identity.userAgent ??= null
  context.identity = identity
  context.disconnectStatusCode ??= null
  context.messageId ??= null
  const out: Json = { ...event, requestContext: context }
  for (const key of [
    'headers',
    'multiValueHeaders',
    'queryStringParameters',
    'multiValueQueryStringParameters',
    'body',
  ]) {
    out[key] ??= null
  }
  return out
}

/** Removes every key whose value is `null` or that is optional for the event. */
function withoutOptional(event: Json): Json {
  const out: Json = { ...event }
  delete out.isBase64Encoded
  delete out.multiValueHeaders
  delete out.multiValueQueryStringParameters
  const context = { ...(out.requestContext as Json) }
  delete context.extendedRequestId
  delete context.requestTime
  delete context.requestTimeEpoch
  delete context.messageDirection
  out.requestContext = context
  return out
}

const EXPECTED: Readonly<Record<string, number>> = {
  'connect-browser.json': 200,
  'connect-nonbrowser.json': 200,
  'disconnect-client-close.json': 200,
  'disconnect-idle-timeout.json': 200,
  'message-custom-route.json': 200,
  // A plain-text body is not a JSON object: refused as a client error, never a 500.
  'message-default-plaintext.json': 400,
}

function expectResultShape(result: unknown): void {
  expect(typeof result).toBe('object')
  const record = result as Json
  for (const key of Object.keys(record)) expect(['statusCode', 'headers', 'body']).toContain(key)
  expect(Number.isInteger(record.statusCode)).toBe(true)
  if ('body' in record) expect(typeof record.body).toBe('string')
  if ('headers' in record) {
    for (const value of Object.values(record.headers as Json)) expect(typeof value).toBe('string')
  }
}

describe('the published Lambda samples', () => {
  it('cover every file in the fixtures folder', () => {
    expect(FILES).toEqual(Object.keys(EXPECTED).sort())
  })

  it.each(FILES)('%s is accepted and answered as expected', async (file) => {
    const { result } = await run(file)
    expectResultShape(result)
    expect(result.statusCode).toBe(EXPECTED[file])
  })

  it.each(FILES)('%s answers alike with explicit nulls and with missing keys', async (file) => {
    const plain = (await run(file)).result.statusCode
    expect((await run(file, withNulls)).result.statusCode).toBe(plain)
    expect((await run(file, withoutOptional)).result.statusCode).toBe(plain)
    expect((await run(file, (e) => withNulls(withoutOptional(e)))).result.statusCode).toBe(plain)
  })

  it('connect-browser.json stores the connection with its channel, API, stage and domain', async () => {
    const { kit, connectionId } = await run('connect-browser.json')
    expect([...(await kit.store.connections.channels(connectionId))]).toEqual(['room_123'])
    expect(await kit.store.connections.get(connectionId)).toMatchObject({
      userId: 'fixture-user',
      apiId: 'nn27okk1we',
      stage: 'develop',
      domainName: 'allowedhost.com',
    })
    expect(kit.events.find((e) => e.type === 'connect.accepted')).toMatchObject({
      ip: '185.69.197.15',
    })
  })

  it('connect-nonbrowser.json without a token is refused (401)', async () => {
    const kit = fixtureKit()
    const result = await kit.gateway.lambda(fixture('connect-nonbrowser.json') as WebSocketEvent)
    expect(result.statusCode).toBe(401)
    expect(result.body).toBe(JSON.stringify({ message: 'Unauthorized' }))
  })

  it('connect-browser.json with the placeholder instead of a token is refused (401)', async () => {
    const kit = fixtureKit()
    const result = await kit.gateway.lambda(fixture('connect-browser.json') as WebSocketEvent)
    expect(result.statusCode).toBe(401)
  })

  it('message-custom-route.json reaches the `chat` handler, whose value is the reply body', async () => {
    const { result } = await run('message-custom-route.json')
    expect(JSON.parse(result.body ?? '')).toEqual({
      echoed: 'Hello from client',
      to: 'BFaT_fALIAMCKug=',
    })
  })

  it.each(['disconnect-client-close.json', 'disconnect-idle-timeout.json'])(
    '%s marks the connection disconnected, and repeating it is a no-op',
    async (file) => {
      const { kit, connectionId } = await run(file)
      expect((await kit.store.connections.get(connectionId))?.disconnectedAt).toBe(kit.clock.now())
      const again = await kit.gateway.lambda(fixture(file) as WebSocketEvent)
      expect(again.statusCode).toBe(200)
      expect(kit.events.filter((e) => e.type === 'connection.disconnected')).toHaveLength(1)
    },
  )
})

describe('fromLambdaEvent', () => {
  it('lower-cases header names and keeps query parameter names', () => {
    const request = fromLambdaEvent(fixture('connect-browser.json', 'tok') as WebSocketEvent)
    expect('code' in request).toBe(false)
    if ('code' in request) return
    expect(request.headers.origin).toBe('https://testsite.com')
    expect(request.headers['sec-websocket-key']).toBe('DM+9PqsQtaZrN+IMZbWTzg==')
    expect(request.query).toEqual({ ws_token: 'tok', channel: 'room_123' })
    expect(request.lambda).toMatchObject({
      connectionId: 'TXzPWdnOjoECGjA=',
      routeKey: '$connect',
      eventType: 'CONNECT',
      sourceIp: '185.69.197.15',
      apiId: 'nn27okk1we',
    })
    expect(Object.getPrototypeOf(request.headers)).toBeNull()
  })

  it('decodes a base64 body, and refuses one that is not base64 (400)', async () => {
    const kit = fixtureKit()
    const event = lambdaEvents({ apiId: 'asasasas' }).message({
      connectionId: 'b64conn1=',
      body: '',
      route: 'chat',
    })
    const encoded = {
      ...event,
      body: btoa('{"action":"chat","message":"hi"}'),
      isBase64Encoded: true,
    }
    const decoded = fromLambdaEvent(encoded)
    expect('code' in decoded ? null : new TextDecoder().decode(decoded.body as Uint8Array)).toBe(
      '{"action":"chat","message":"hi"}',
    )
    const broken = await kit.gateway.lambda({
      ...event,
      body: '%%%not base64',
      isBase64Encoded: true,
    })
    expect(broken.statusCode).toBe(400)
  })

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['an empty object', {}],
    ['a null requestContext', { requestContext: null }],
    ['an empty route key', { requestContext: { routeKey: '' } }],
    [
      'a REST API event',
      { resource: '/', httpMethod: 'GET', requestContext: { resourcePath: '/' } },
    ],
  ])('answers %s with 404 and never throws', async (_name, event) => {
    const kit = fixtureKit()
    const result = await kit.gateway.lambda(event as WebSocketEvent)
    expectResultShape(result)
    expect(result.statusCode).toBe(404)
  })
})

describe('toLambdaResult', () => {
  it('omits the body when there is none and copies status and headers', () => {
    const empty: GatewayResponse = { status: 200, headers: {}, body: null }
    expect(toLambdaResult(empty)).toEqual({ statusCode: 200, headers: {} })
    const json: GatewayResponse = {
      status: 403,
      headers: { 'content-type': 'application/json' },
      body: '{}',
    }
    expect(toLambdaResult(json)).toEqual({
      statusCode: 403,
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
  })
})
