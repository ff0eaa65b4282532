import { afterEach, describe, expect, it, vi } from 'vitest'
import { ORIGIN, rejectionCodes, SECRET, setup } from '../../test/gateway-kit.js'
import { jsonResponse } from '../rejections.js'
import type { GatewayRequest } from '../request.js'
import { httpRequests } from '../testing/requests.js'
import { parseRoute, readCapped, resolveRoute, toFetchResponse } from './fetch.js'

const BASE = 'https://backend.example/ws'

/** A Fetch request carrying what `request` carries, posted to `path`. */
function toFetch(request: GatewayRequest, path: string, init: RequestInit = {}): Request {
  const url = new URL(`${BASE}/${path}`)
  for (const [name, value] of Object.entries(request.query)) url.searchParams.set(name, value)
  return new Request(url, {
    method: 'POST',
    headers: request.headers,
    ...(request.body === null ? {} : { body: request.body as BodyInit }),
    ...init,
  })
}

/** A body stream of `chunks` chunks of `size` bytes, counting what was pulled. */
function countingStream(size: number, chunks: number) {
  const stats = { pulled: 0, bytes: 0, cancelled: false }
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (stats.pulled >= chunks) {
        controller.close()
        return
      }
      stats.pulled++
      stats.bytes += size
      controller.enqueue(new Uint8Array(size).fill(0x20))
    },
    cancel() {
      stats.cancelled = true
    },
  })
  return { stream, stats }
}

describe('parseRoute and resolveRoute', () => {
  it.each([
    ['connect', '$connect'],
    ['disconnect', '$disconnect'],
    ['default', '$default'],
    ['$connect', '$connect'],
    ['$default', '$default'],
    ['chat', 'chat'],
  ])('maps %j to %j', (value, route) => {
    expect(parseRoute(value)).toBe(route)
  })

  it.each(['', '__proto__', '_private', '123', 'a b', 'h'.repeat(65), 'ws/connect'])(
    'refuses %j',
    (value) => {
      expect(parseRoute(value)).toBeNull()
    },
  )

  it('prefers the explicit route, then the mapped header, then the last path segment', () => {
    expect(resolveRoute('chat', '/ws/connect')).toBe('chat')
    expect(resolveRoute(undefined, '/ws/connect')).toBe('$connect')
    expect(resolveRoute(undefined, '/ws/connect/')).toBe('$connect')
    expect(resolveRoute(undefined, '/ws/%63hat')).toBe('chat')
    expect(resolveRoute(undefined, '/ws/%E0%A4%A')).toBeNull()
  })
})

describe('toFetchResponse', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('hands the runtime a headers record of its own, which it may add to', () => {
    // Some runtimes' Response keeps the init record and writes into it, as @hono/node-server 1.8
    // does with Content-Length; the gateway's own records are shared and frozen.
    const seen: Record<string, string | number>[] = []
    class RecordingResponse {
      constructor(body: string | null, init: { headers: Record<string, string | number> }) {
        init.headers['Content-Length'] = body?.length ?? 0
        seen.push(init.headers)
      }
    }
    vi.stubGlobal('Response', RecordingResponse)
    const response = jsonResponse(200, { ok: true })
    expect(Object.isFrozen(response.headers)).toBe(true)
    toFetchResponse(response)
    toFetchResponse(response)
    expect(seen[0]).toEqual({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'Content-Length': 11,
    })
    expect(seen[0]).not.toBe(seen[1])
    expect(response.headers).not.toHaveProperty('Content-Length')
  })
})

describe('readCapped', () => {
  it('reads a body up to the cap and joins its chunks', async () => {
    const { stream } = countingStream(4, 3)
    const body = await readCapped(stream, 12)
    expect(body).toBeInstanceOf(Uint8Array)
    expect((body as Uint8Array).byteLength).toBe(12)
  })

  it('stops one chunk past the cap and cancels the stream', async () => {
    const { stream, stats } = countingStream(1_024, 1_000_000)
    expect(await readCapped(stream, 4_096)).toBe('too-large')
    expect(stats.bytes).toBeLessThanOrEqual(4_096 + 2 * 1_024)
    expect(stats.cancelled).toBe(true)
  })

  it('reads no stream as an empty body', async () => {
    expect(await readCapped(null, 10)).toEqual(new Uint8Array(0))
  })
})

describe('gateway.fetch', () => {
  it('serves connect, message and disconnect at a mount whose last segment is the route', async () => {
    const { gateway, issue, store } = setup()
    const http = httpRequests({ secret: SECRET })
    const token = await issue()
    const connect = await gateway.fetch(
      toFetch(http.connect({ connectionId: 'fetchC1=', token }), 'connect'),
    )
    expect(connect.status).toBe(200)
    const message = await gateway.fetch(
      toFetch(
        http.message({ connectionId: 'fetchC1=', body: { action: 'echo', n: 1 } }),
        'default',
      ),
    )
    expect(message.status).toBe(200)
    expect(message.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await message.json()).toEqual({ action: 'echo', n: 1 })
    const disconnect = await gateway.fetch(
      toFetch(http.disconnect({ connectionId: 'fetchC1=' }), 'disconnect'),
    )
    expect(disconnect.status).toBe(200)
    expect((await store.connections.get('fetchC1='))?.disconnectedAt).not.toBeNull()
  })

  it('takes the route from options.route, never from a route-key header by default', async () => {
    const { gateway, connect } = setup()
    const http = httpRequests({ secret: SECRET })
    const { connectionId } = await connect()
    const body = { action: 'echo' }
    const byOption = await gateway.fetch(
      toFetch(http.message({ connectionId, body }), 'anything'),
      {
        route: 'default',
      },
    )
    expect(byOption.status).toBe(200)
    // Without `routeKeyHeader`, a route-key header changes nothing: the path still decides.
    const byHeader = await gateway.fetch(
      toFetch(
        http.message({ connectionId, body, headers: { 'x-apigw-route-key': '$connect' } }),
        'ws',
      ),
    )
    expect(byHeader.status).toBe(200) // as a $connect it would have been refused (no token)
  })

  it('answers 404 for a path that names no possible route', async () => {
    const { gateway, events } = setup()
    const http = httpRequests({ secret: SECRET })
    for (const path of ['__proto__', '_private', '123', 'h'.repeat(65)]) {
      const response = await gateway.fetch(
        toFetch(http.message({ connectionId: 'c1', body: {} }), path),
      )
      expect(response.status).toBe(404)
    }
    expect(rejectionCodes(events)).toEqual(Array(4).fill('ROUTE_UNKNOWN'))
  })

  it.each(['GET', 'PUT', 'DELETE'])('answers %s with 405 and Allow: POST', async (method) => {
    const { gateway } = setup()
    const http = httpRequests({ secret: SECRET })
    const response = await gateway.fetch(
      toFetch({ ...http.disconnect({ connectionId: 'c1' }), body: null }, 'disconnect', { method }),
    )
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('POST')
  })

  it('refuses a declared Content-Length over the limit without reading the body (413)', async () => {
    const { gateway } = setup({ maxBodyBytes: 1_024 })
    const { stream, stats } = countingStream(1_024, 100)
    const http = httpRequests({ secret: SECRET })
    const request = new Request(`${BASE}/default`, {
      method: 'POST',
      headers: {
        ...http.message({ connectionId: 'c1', body: {} }).headers,
        'content-length': '102400',
      },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    const response = await gateway.fetch(request)
    expect(response.status).toBe(413)
    expect(stats.pulled).toBeLessThanOrEqual(1)
  })

  it('stops reading a streamed body one chunk past the limit (413)', async () => {
    const { gateway } = setup({ maxBodyBytes: 8_192 })
    const { stream, stats } = countingStream(1_024, 10_000)
    const http = httpRequests({ secret: SECRET })
    const request = new Request(`${BASE}/default`, {
      method: 'POST',
      headers: http.message({ connectionId: 'c1', body: {} }).headers,
      body: stream,
      duplex: 'half',
    } as RequestInit)
    const response = await gateway.fetch(request)
    expect(response.status).toBe(413)
    expect(stats.bytes).toBeLessThanOrEqual(8_192 + 3 * 1_024)
  })

  it('cuts off a body longer than its declared Content-Length at the cap, too (413)', async () => {
    // A Request's declared length is only a header: a framework that decompresses a body, or
    // builds the Request itself, can hand over more bytes than it declares.
    const { gateway } = setup({ maxBodyBytes: 8_192 })
    const { stream, stats } = countingStream(1_024, 2_000)
    const http = httpRequests({ secret: SECRET })
    const request = new Request(`${BASE}/default`, {
      method: 'POST',
      headers: {
        ...http.message({ connectionId: 'c1', body: {} }).headers,
        'content-length': '100',
      },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    const response = await gateway.fetch(request)
    expect(response.status).toBe(413)
    expect(stats.bytes).toBeLessThanOrEqual(8_192 + 3 * 1_024)
  })

  it('answers a body that fails mid-stream with 400', async () => {
    const { gateway } = setup()
    const http = httpRequests({ secret: SECRET })
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('socket reset'))
      },
    })
    const request = new Request(`${BASE}/default`, {
      method: 'POST',
      headers: http.message({ connectionId: 'c1', body: {} }).headers,
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect((await gateway.fetch(request)).status).toBe(400)
  })

  it('translates headers (lower-cased, repeats joined), the first query value, and the peer', async () => {
    let seen: GatewayRequest | undefined
    const { gateway, issue } = setup({
      checks: {
        connect: [
          (input) => {
            seen = input.request
            return undefined
          },
        ],
      },
    })
    const http = httpRequests({ secret: SECRET })
    const token = await issue()
    const base = http.connect({ connectionId: 'fetchT1=', token })
    const headers = new Headers(base.headers)
    headers.append('X-Custom', 'a')
    headers.append('X-Custom', 'b')
    const url = new URL(`${BASE}/connect`)
    url.searchParams.append('token', token)
    url.searchParams.append('token', 'second')
    url.searchParams.append('extra', '1')
    const response = await gateway.fetch(new Request(url, { method: 'POST', headers }), {
      peer: '10.0.0.9',
    })
    expect(response.status).toBe(200)
    expect(seen?.route).toBe('$connect')
    expect(seen?.method).toBe('POST')
    expect(seen?.headers['x-custom']).toBe('a, b')
    expect(seen?.headers.origin).toBe(ORIGIN)
    expect(seen?.query).toEqual({ token, extra: '1' })
    expect(seen?.body).toBeNull()
    expect(seen?.peer).toBe('10.0.0.9')
  })

  it('writes rejections with their status, generic JSON body and no-store caching', async () => {
    const { gateway } = setup()
    const http = httpRequests({ secret: SECRET })
    const response = await gateway.fetch(toFetch(http.connect(), 'connect'))
    expect(response.status).toBe(401)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.json()).toEqual({ message: 'Unauthorized' })
  })
})
