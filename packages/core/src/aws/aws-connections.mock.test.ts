import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  ForbiddenException,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ConnectionTarget } from '../send/transport.js'
import { type AwsConnections, awsConnections } from './aws-connections.js'

const sdk = mockClient(ApiGatewayManagementApiClient)
let transport: AwsConnections

beforeEach(() => {
  sdk.reset()
  transport = awsConnections({
    region: 'eu-central-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  })
})

afterEach(() => transport.destroy())

const target = (connectionId: string, apiId = 'a1b2c3d4e5', stage = 'prod'): ConnectionTarget => ({
  connectionId,
  apiId,
  stage,
  domainName: `${apiId}.execute-api.eu-central-1.amazonaws.com`,
})
const metadata = (status: number) => ({ httpStatusCode: status, attempts: 1 })

describe('command inputs', () => {
  it('PostToConnection carries the connection id and the exact payload bytes', async () => {
    sdk.on(PostToConnectionCommand).resolves({ $metadata: { attempts: 1 } })
    const data = new TextEncoder().encode('{"text":"€ 1"}')
    expect(await transport.post(target('YHJ2Ac5ZFiACFcw='), data)).toEqual({
      ok: true,
      attempts: 1,
    })
    const calls = sdk.commandCalls(PostToConnectionCommand)
    expect(calls).toHaveLength(1)
    expect(calls[0]?.args[0].input).toEqual({ ConnectionId: 'YHJ2Ac5ZFiACFcw=', Data: data })
    expect(calls[0]?.args[0].input.Data).toBe(data)
  })

  it('DeleteConnection and GetConnection carry the connection id only', async () => {
    sdk.on(DeleteConnectionCommand).resolves({ $metadata: {} })
    sdk.on(GetConnectionCommand).resolves({
      $metadata: {},
      ConnectedAt: new Date('2025-01-02T03:04:05.000Z'),
      LastActiveAt: new Date('2025-01-02T03:05:00.000Z'),
      Identity: { SourceIp: '198.51.100.4', UserAgent: 'Mozilla/5.0' },
    })
    expect(await transport.delete(target('d1'))).toEqual({ ok: true })
    expect(await transport.get(target('g1'))).toEqual({
      ok: true,
      connectedAt: Date.parse('2025-01-02T03:04:05.000Z'),
      lastActiveAt: Date.parse('2025-01-02T03:05:00.000Z'),
      sourceIp: '198.51.100.4',
      userAgent: 'Mozilla/5.0',
    })
    expect(sdk.commandCalls(DeleteConnectionCommand)[0]?.args[0].input).toEqual({
      ConnectionId: 'd1',
    })
    expect(sdk.commandCalls(GetConnectionCommand)[0]?.args[0].input).toEqual({
      ConnectionId: 'g1',
    })
  })

  it('maps a GetConnection without timestamps or identity to nulls', async () => {
    sdk.on(GetConnectionCommand).resolves({ $metadata: {} })
    expect(await transport.get(target('g1'))).toEqual({
      ok: true,
      connectedAt: null,
      lastActiveAt: null,
      sourceIp: null,
      userAgent: null,
    })
  })
})

describe('clients', () => {
  it('creates one client per endpoint, configured for standard retries', async () => {
    sdk.on(PostToConnectionCommand).resolves({ $metadata: {} })
    const data = new Uint8Array([1])
    await transport.post(target('a', 'api1', 'prod'), data)
    await transport.post(target('b', 'api1', 'prod'), data)
    await transport.post(target('c', 'api2', 'prod'), data)
    await transport.post(target('d', 'api1', 'beta'), data)
    expect(transport.endpoints()).toEqual([
      'https://api1.execute-api.eu-central-1.amazonaws.com/prod',
      'https://api2.execute-api.eu-central-1.amazonaws.com/prod',
      'https://api1.execute-api.eu-central-1.amazonaws.com/beta',
    ])
    const clients = sdk.calls().map((call) => call.thisValue as ApiGatewayManagementApiClient)
    expect(clients[0]).toBe(clients[1])
    expect(new Set(clients).size).toBe(3)
    const config = clients[2]?.config
    expect(await config?.maxAttempts()).toBe(3)
    expect(await config?.region()).toBe('eu-central-1')
    const strategy = (await config?.retryStrategy()) as { mode?: string } | undefined
    expect(strategy?.mode).toBe('standard')
  })

  it('uses maxAttempts from the options', async () => {
    sdk.on(PostToConnectionCommand).resolves({ $metadata: {} })
    const t = awsConnections({ region: 'eu-central-1', maxAttempts: 5 })
    await t.post(target('a'), new Uint8Array([1]))
    const client = sdk.call(0).thisValue as ApiGatewayManagementApiClient
    expect(await client.config.maxAttempts()).toBe(5)
    t.destroy()
  })
})

describe('modeled errors', () => {
  it.each([
    [
      new GoneException({ message: 'gone', $metadata: metadata(410) }),
      { code: 'GoneException', gone: true, retryable: false, status: 410 },
    ],
    [
      new ForbiddenException({ message: 'no', $metadata: metadata(403) }),
      { code: 'ForbiddenException', gone: false, retryable: false, status: 403 },
    ],
    [
      new LimitExceededException({ message: 'slow down', $metadata: metadata(429) }),
      { code: 'LimitExceededException', gone: false, retryable: true, status: 429 },
    ],
  ])('classifies %s', async (error, expected) => {
    sdk.on(PostToConnectionCommand).rejects(error)
    expect(await transport.post(target('a'), new Uint8Array([1]))).toEqual({
      ok: false,
      attempts: 1,
      ...expected,
    })
  })
})
