import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { createManualClock } from './clock.js'
import { type LocalGateway, startLocalGateway } from './gateway.js'
import type { GatewayLogEntry } from './options.js'
import {
  connect,
  httpCall,
  type RecordingBackend,
  send,
  startRecordingBackend,
  type TestClient,
} from './test-helpers.js'

let backend: RecordingBackend | undefined
let gateway: LocalGateway | undefined

afterEach(async () => {
  await gateway?.close()
  await backend?.close()
  gateway = undefined
  backend = undefined
})

const SIGV4 = {
  Authorization:
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240219/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123',
  'X-Amz-Date': '20240219T071142Z',
}

async function setup(options: { maxMessageBytes?: number } = {}) {
  const clock = createManualClock(Date.UTC(2024, 1, 19, 7, 11, 42, 789))
  const log: GatewayLogEntry[] = []
  backend = await startRecordingBackend()
  gateway = await startLocalGateway({
    integration: { type: 'http', baseUrl: backend.baseUrl },
    stage: 'dev',
    clock,
    onLog: (entry) => log.push(entry),
    ...options,
  })
  const open = async (headers: Record<string, string> = {}) => {
    const client = await connect(gateway!.url, { headers })
    const req = await backend!.waitFor(
      (r) => r.route === 'connect' && !ids.has(String(r.headers.connectionid)),
    )
    const id = String(req.headers.connectionid)
    ids.add(id)
    return { client, id }
  }
  const ids = new Set<string>()
  const at = (id: string) => `${gateway!.managementEndpoint}/@connections/${encodeURIComponent(id)}`
  return { clock, log, backend, gateway, open, at }
}

function expectAwsError(
  res: { status: number; headers: Record<string, unknown>; body: string },
  status: number,
  type: string,
) {
  expect(res.status).toBe(status)
  expect(res.headers['x-amzn-errortype']).toBe(type)
  expect(res.headers['content-type']).toBe('application/json')
  expect(typeof (JSON.parse(res.body) as { message: unknown }).message).toBe('string')
}

describe('@connections', () => {
  it('POST sends the body as a text frame, with or without a SigV4 Authorization header', async () => {
    const { open, at } = await setup()
    const { client, id } = await open()
    const a = await httpCall(at(id), { method: 'POST', body: '{"hello":1}', headers: SIGV4 })
    expect(a.status).toBe(200)
    expect(a.body).toBe('')
    expect(await client.next()).toBe('{"hello":1}')
    const b = await httpCall(at(id), { method: 'POST', body: 'plain' })
    expect(b.status).toBe(200)
    expect(await client.next()).toBe('plain')
    client.ws.close()
  })

  it('POST accepts exactly maxMessageBytes and refuses one more with 413 PayloadTooLargeException', async () => {
    const { open, at } = await setup({ maxMessageBytes: 2048 })
    const { client, id } = await open()
    const ok = await httpCall(at(id), { method: 'POST', body: 'y'.repeat(2048) })
    expect(ok.status).toBe(200)
    expect(await client.next()).toHaveLength(2048)
    const tooBig = await httpCall(at(id), { method: 'POST', body: 'y'.repeat(2049) })
    expectAwsError(tooBig, 413, 'PayloadTooLargeException')
    expect(client.ws.readyState).toBe(client.ws.OPEN)
    client.ws.close()
  })

  it('GET describes the connection with ISO timestamps and the identity', async () => {
    const { open, at, clock, backend } = await setup()
    const { client, id } = await open({ 'User-Agent': 'UA/2' })
    const connectedAt = new Date(clock.now()).toISOString()
    clock.advance(5_000)
    await send(client, 'ping')
    await backend.waitFor((r) => r.route === 'default')
    const res = await httpCall(at(id), { method: 'GET', headers: SIGV4 })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/json')
    expect(JSON.parse(res.body)).toEqual({
      connectedAt,
      identity: { sourceIp: '127.0.0.1', userAgent: 'UA/2' },
      lastActiveAt: new Date(clock.now()).toISOString(),
    })
    client.ws.close()
  })

  it('GET omits userAgent when the client sent none', async () => {
    const { open, at } = await setup()
    const { client, id } = await open()
    const body = JSON.parse((await httpCall(at(id), { method: 'GET' })).body) as {
      identity: Record<string, string>
    }
    expect(body.identity).toEqual({ sourceIp: '127.0.0.1' })
    client.ws.close()
  })

  it('DELETE closes with 1000, sends $disconnect and answers 204; the id is then gone', async () => {
    const { open, at, backend } = await setup()
    const { client, id } = await open()
    const res = await httpCall(at(id), { method: 'DELETE', headers: SIGV4 })
    expect(res.status).toBe(204)
    expect((await client.closed).code).toBe(1000)
    const disc = await backend.waitFor((r) => r.route === 'disconnect')
    expect(disc.headers.connectionid).toBe(id)
    for (const method of ['POST', 'GET', 'DELETE']) {
      const body = method === 'POST' ? 'x' : undefined
      expectAwsError(
        await httpCall(at(id), { method, ...(body && { body }) }),
        410,
        'GoneException',
      )
    }
  })

  it('answers 410 GoneException for unknown ids and for connections the client closed', async () => {
    const { open, at } = await setup()
    expectAwsError(
      await httpCall(at('TXzPWdnOjoECGjA='), { method: 'POST', body: 'x' }),
      410,
      'GoneException',
    )
    const { client, id } = await open()
    client.ws.close()
    await client.closed
    expectAwsError(await httpCall(at(id), { method: 'GET' }), 410, 'GoneException')
  })

  it('percent-decodes the id in the path', async () => {
    const { open, gateway } = await setup()
    const { client, id } = await open()
    const encoded = id.replace('=', '%3D')
    const res = await httpCall(`${gateway.managementEndpoint}/@connections/${encoded}`, {
      method: 'POST',
      body: 'decoded',
    })
    expect(res.status).toBe(200)
    expect(await client.next()).toBe('decoded')
    client.ws.close()
  })

  it('shapes wrong methods and paths as AWS errors', async () => {
    const { open, at, gateway } = await setup()
    const { client, id } = await open()
    const put = await httpCall(at(id), { method: 'PATCH' })
    expectAwsError(put, 405, 'MethodNotAllowedException')
    expect(put.headers.allow).toBe('DELETE, GET, POST')
    const base = `http://127.0.0.1:${gateway.port}`
    expectAwsError(
      await httpCall(`${base}/other/@connections/${id}`, { method: 'POST' }),
      404,
      'NotFoundException',
    )
    expectAwsError(
      await httpCall(`${base}/dev/@connections/`, { method: 'POST' }),
      404,
      'NotFoundException',
    )
    expectAwsError(
      await httpCall(`${base}/dev/@connections/a/b`, { method: 'GET' }),
      404,
      'NotFoundException',
    )
    expectAwsError(
      await httpCall(`${base}/dev/@connections/%E0%A4%A`, { method: 'GET' }),
      400,
      'BadRequestException',
    )
    expectAwsError(
      await httpCall(`${base}/dev`, { method: 'GET' }),
      426,
      'UpgradeRequiredException',
    )
    client.ws.close()
  })

  it('logs management calls without bodies', async () => {
    const { open, at, log } = await setup()
    const { client, id }: { client: TestClient; id: string } = await open()
    await httpCall(at(id), { method: 'POST', body: 'secret-body' })
    await client.next()
    expect(log).toContainEqual({
      kind: 'management',
      method: 'POST',
      connectionId: id,
      status: 200,
    })
    expect(JSON.stringify(log)).not.toContain('secret-body')
    client.ws.close()
  })

  it('answers any path under @connections with an AWS-shaped error and never delivers it', async () => {
    const { open, gateway } = await setup()
    const { client } = await open()
    const base = `${gateway.managementEndpoint}/@connections/`
    const segment = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 })
    await fc.assert(
      fc.asyncProperty(segment, fc.constantFrom('GET', 'POST', 'DELETE'), async (raw, method) => {
        const res = await httpCall(`${base}${encodeURIComponent(raw)}`, {
          method,
          ...(method === 'POST' && { body: 'x' }),
        })
        expect([400, 404, 410]).toContain(res.status)
        expect(res.headers['x-amzn-errortype']).toMatch(/Exception$/)
      }),
      { numRuns: 60 },
    )
    expect(client.ws.readyState).toBe(client.ws.OPEN)
    client.ws.close()
  })
})
