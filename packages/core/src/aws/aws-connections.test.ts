import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type ConnectionsServer,
  type Reply,
  replies,
  startConnectionsServer,
} from '../../test/connections-server.js'
import { fastRetry, testCredentials } from '../../test/sdk-retry.js'
import type { ConnectionTarget } from '../send/transport.js'
import {
  type AwsConnections,
  type AwsConnectionsOptions,
  awsConnections,
} from './aws-connections.js'

const servers: ConnectionsServer[] = []
const transports: AwsConnections[] = []

afterEach(async () => {
  for (const t of transports.splice(0)) t.destroy()
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function server(
  respond?: (r: { connectionId: string; attempt: number }) => Reply | undefined,
) {
  const s = await startConnectionsServer(respond === undefined ? {} : { respond })
  servers.push(s)
  return s
}

function transport(options: Partial<AwsConnectionsOptions> = {}): AwsConnections {
  const t = awsConnections({
    region: 'us-east-1',
    credentials: testCredentials,
    retryStrategy: fastRetry(options.maxAttempts ?? 3),
    ...options,
  })
  transports.push(t)
  return t
}

const target = (connectionId: string, apiId = 'abc123', stage = 'prod'): ConnectionTarget => ({
  connectionId,
  apiId,
  stage,
  domainName: null,
})
const bytes = (text: string) => new TextEncoder().encode(text)

describe('awsConnections against a local @connections server', () => {
  it('delivers the exact bytes to the percent-decoded connection id under the stage', async () => {
    const s = await server()
    const t = transport({ endpoint: s.endpoint('prod') })
    const data = bytes('{"text":"héllo €"}')
    expect(await t.post(target('L0SM9cOFvHcCIhw='), data)).toEqual({ ok: true, attempts: 1 })
    expect(s.requests).toHaveLength(1)
    expect(s.requests[0]).toMatchObject({
      method: 'POST',
      basePath: 'prod',
      connectionId: 'L0SM9cOFvHcCIhw=',
    })
    expect(s.requests[0]?.body).toEqual(data)
    expect(s.requests[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /)
  })

  it.each([
    ['GoneException', replies.gone, { code: 'GoneException', gone: true, retryable: false }],
    ['a bare 410 without x-amzn-errortype', replies.bareGone, { code: 'HTTP_410', gone: true }],
    [
      'a bare 410 with an empty body',
      { status: 410, body: null },
      { code: 'HTTP_410', gone: true },
    ],
    ['403', replies.forbidden, { code: 'ForbiddenException', gone: false, retryable: false }],
    ['413', replies.tooLarge, { code: 'PayloadTooLargeException', gone: false, retryable: false }],
    ['400', { status: 400, errorType: 'BadRequestException' }, { code: 'BadRequestException' }],
  ] as const)('classifies %s without retrying it', async (_, reply, expected) => {
    const s = await server(() => reply)
    const t = transport({ endpoint: s.endpoint('prod') })
    expect(await t.post(target('c1'), bytes('x'))).toMatchObject({
      ok: false,
      retryable: false,
      status: reply.status,
      attempts: 1,
      ...expected,
    })
    expect(s.count).toBe(1)
  })

  it.each([
    ['429 LimitExceededException', replies.throttled],
    ['500', replies.serverError],
    ['503 without an error type', { status: 503 }],
  ] as const)('lets the SDK retry %s, then delivers', async (_, reply) => {
    const s = await server((r) => (r.attempt === 1 ? reply : undefined))
    const t = transport({ endpoint: s.endpoint('prod') })
    expect(await t.post(target('c1'), bytes('x'))).toEqual({ ok: true, attempts: 2 })
    expect(s.count).toBe(2)
  })

  it.each([
    ['429', replies.throttled, 'LimitExceededException'],
    ['500', replies.serverError, 'InternalServerErrorException'],
  ] as const)('reports %s that outlives maxAttempts as retryable', async (_, reply, code) => {
    const s = await server(() => reply)
    const t = transport({ endpoint: s.endpoint('prod'), maxAttempts: 2 })
    expect(await t.post(target('c1'), bytes('x'))).toEqual({
      ok: false,
      code,
      gone: false,
      retryable: true,
      status: reply.status,
      attempts: 2,
    })
    expect(s.count).toBe(2)
  })

  it('GetConnection returns times in ms and the identity', async () => {
    const s = await server()
    const t = transport({ endpoint: s.endpoint('prod') })
    expect(await t.get(target('c1'))).toEqual({
      ok: true,
      connectedAt: Date.parse('2024-05-01T12:00:00.000Z'),
      lastActiveAt: Date.parse('2024-05-01T12:05:00.000Z'),
      sourceIp: '203.0.113.7',
      userAgent: 'test-agent/1.0',
    })
    expect(s.requests[0]).toMatchObject({ method: 'GET', connectionId: 'c1' })
  })

  it('DeleteConnection succeeds, and reports gone for a gone connection', async () => {
    const s = await server((r) => (r.connectionId === 'old' ? replies.gone : undefined))
    const t = transport({ endpoint: s.endpoint('prod') })
    expect(await t.delete(target('c1'))).toEqual({ ok: true, attempts: 1 })
    expect(await t.delete(target('old'))).toMatchObject({ ok: false, gone: true })
    expect(s.requests.map((r) => `${r.method} ${r.connectionId}`)).toEqual([
      'DELETE c1',
      'DELETE old',
    ])
  })

  it('reports a refused connection as a retryable network failure', async () => {
    const s = await server()
    const endpoint = s.endpoint('prod')
    await s.close()
    servers.length = 0
    const t = transport({ endpoint, maxAttempts: 1 })
    expect(await t.post(target('c1'), bytes('x'))).toMatchObject({
      ok: false,
      code: 'ECONNREFUSED',
      gone: false,
      retryable: true,
    })
  })

  it('reports ABORTED for a signal aborted before or during the call', async () => {
    const controller = new AbortController()
    const s = await startConnectionsServer({
      respond: () => {
        controller.abort()
        return { status: 200, delayMs: 5_000 }
      },
    })
    servers.push(s)
    const t = transport({ endpoint: s.endpoint('prod') })
    expect(await t.post(target('c1'), bytes('x'), AbortSignal.abort())).toMatchObject({
      code: 'ABORTED',
      retryable: true,
    })
    expect(s.count).toBe(0)
    expect(await t.post(target('c1'), bytes('x'), controller.signal)).toMatchObject({
      ok: false,
      code: 'ABORTED',
      retryable: true,
    })
  })
})

describe('endpoints', () => {
  it('strips trailing slashes and keeps a custom domain base path', async () => {
    const s = await server()
    const t = transport({ endpoint: `${s.endpoint('chat/v1')}//` })
    await t.post(target('c1'), bytes('x'))
    expect(s.requests[0]?.basePath).toBe('chat/v1')
    expect(t.endpoints()).toEqual([s.endpoint('chat/v1')])
  })

  it('routes connections of different APIs and stages to their own endpoint, one client each', async () => {
    const a = await server()
    const b = await server()
    const origins: Record<string, string> = { apia: a.origin, apib: b.origin }
    const t = transport({ endpoint: (tg) => `${origins[tg.apiId ?? '']}/${tg.stage}/` })
    const targets = [
      target('a1', 'apia', 'prod'),
      target('a2', 'apia', 'prod'),
      target('a3', 'apia', 'beta'),
      target('b1', 'apib', 'prod'),
      target('b2', 'apib', 'prod'),
    ]
    await Promise.all(targets.map((tg) => t.post(tg, bytes(tg.connectionId))))
    await Promise.all(targets.map((tg) => t.post(tg, bytes(tg.connectionId))))
    const seen = (s: ConnectionsServer) =>
      [...new Set(s.requests.map((r) => `${r.basePath}:${r.connectionId}`))].sort()
    expect(seen(a)).toEqual(['beta:a3', 'prod:a1', 'prod:a2'])
    expect(seen(b)).toEqual(['prod:b1', 'prod:b2'])
    expect([...t.endpoints()].sort()).toEqual(
      [`${a.origin}/beta`, `${a.origin}/prod`, `${b.origin}/prod`].sort(),
    )
  })

  it('derives https://{apiId}.execute-api.{region}.amazonaws.com/{stage} per connection', async () => {
    const seen: string[] = []
    const t = transport({
      region: 'eu-west-1',
      requestHandler: {
        handle: async (request: {
          protocol: string
          hostname: string
          path: string
          method: string
        }) => {
          seen.push(`${request.method} ${request.protocol}//${request.hostname}${request.path}`)
          return { response: { statusCode: 200, headers: {}, body: Readable.from([]) } }
        },
      },
    })
    expect(await t.post(target('abc=', 'k9x8y7z6w5', 'prod'), bytes('x'))).toMatchObject({
      ok: true,
    })
    await t.delete(target('def', 'q1w2e3r4t5', 'dev'))
    expect(seen).toEqual([
      'POST https://k9x8y7z6w5.execute-api.eu-west-1.amazonaws.com/prod/@connections/abc%3D',
      'DELETE https://q1w2e3r4t5.execute-api.eu-west-1.amazonaws.com/dev/@connections/def',
    ])
    expect(t.endpoints()).toHaveLength(2)
  })

  it('fails targets without a usable endpoint without a request or a client', async () => {
    const t = transport()
    expect(await t.post(target('c1', null as unknown as string), bytes('x'))).toEqual({
      ok: false,
      code: 'NO_ENDPOINT',
      gone: false,
      retryable: false,
    })
    expect(await t.get(target('c1', 'evil.com#', 'prod'))).toMatchObject({
      code: 'INVALID_ENDPOINT',
    })
    const fn = transport({
      endpoint: (tg) => {
        if (tg.connectionId === 'throws') throw new Error('bug')
        return tg.connectionId === 'none' ? null : 'not a url'
      },
    })
    expect(await fn.post(target('none'), bytes('x'))).toMatchObject({ code: 'NO_ENDPOINT' })
    expect(await fn.post(target('throws'), bytes('x'))).toMatchObject({ code: 'INVALID_ENDPOINT' })
    expect(await fn.delete(target('other'))).toMatchObject({ code: 'INVALID_ENDPOINT' })
    expect(t.endpoints()).toEqual([])
    expect(fn.endpoints()).toEqual([])
  })

  it.each([
    ['region', { region: 'eu-west-1.evil.com' }],
    ['maxAttempts', { region: 'eu-west-1', maxAttempts: 0 }],
    ['maxAttempts', { region: 'eu-west-1', maxAttempts: 2.5 }],
    ['endpoint', { region: 'eu-west-1', endpoint: 'ws.example.com' }],
    ['endpoint', { region: 'eu-west-1', endpoint: 42 }],
  ])('rejects an invalid %s at construction', (name, options) => {
    expect(() => awsConnections(options as unknown as AwsConnectionsOptions)).toThrow(
      new RegExp(`options\\.${name}`),
    )
  })
})
