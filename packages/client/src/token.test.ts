import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ClientError } from './errors.js'
import { retryAfterMs, tokenGetter } from './token.js'

let server: Server | null = null
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = null
})

/** A loopback token route answering with `status`, `headers` and `body`, recording requests. */
async function route(status: number, body: string, headers: Record<string, string> = {}) {
  const seen: { method: string; headers: IncomingMessage['headers']; body: string }[] = []
  server = createServer((req, res) => {
    let text = ''
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8')
    })
    req.on('end', () => {
      seen.push({ method: req.method ?? '', headers: req.headers, body: text })
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body)
    })
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/ws-token`, seen }
}

const NOW = 1_700_000_000_000

describe('tokenGetter with a token URL', () => {
  it('POSTs JSON with the given headers and resolves the token', async () => {
    const { url, seen } = await route(200, '{"token":"abc","expiresIn":60}')
    const get = tokenGetter({ url, headers: { origin: 'https://app.example.com' } }, () => NOW)
    expect(await get()).toBe('abc')
    expect(seen[0]).toMatchObject({
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', origin: 'https://app.example.com' },
    })
  })

  it.each([401, 403])('reports %i as signed out', async (status) => {
    const { url } = await route(status, '{"message":"no"}')
    const error = (await tokenGetter({ url }, () => NOW)().catch((e: unknown) => e)) as ClientError
    expect(error).toBeInstanceOf(ClientError)
    expect([error.code, error.status]).toEqual(['SIGNED_OUT', status])
  })

  it('carries Retry-After from a 429', async () => {
    const { url } = await route(429, '{"message":"Too Many Requests"}', { 'retry-after': '12' })
    await expect(tokenGetter({ url }, () => NOW)()).rejects.toMatchObject({
      code: 'TOKEN_FAILED',
      status: 429,
      retryAfterMs: 12_000,
    })
  })

  it('fails on other statuses, bodies without a token, and unreachable routes', async () => {
    const { url } = await route(500, '{"message":"Internal Server Error"}')
    await expect(tokenGetter({ url }, () => NOW)()).rejects.toMatchObject({
      code: 'TOKEN_FAILED',
      status: 500,
    })
    server?.close()
    const other = await route(200, '{"nope":1}')
    await expect(tokenGetter({ url: other.url }, () => NOW)()).rejects.toMatchObject({
      code: 'TOKEN_FAILED',
    })
    await expect(tokenGetter({ url: 'http://127.0.0.1:1/x' }, () => NOW)()).rejects.toMatchObject({
      code: 'TOKEN_FAILED',
    })
  })
})

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, and ignores garbage', () => {
    expect(retryAfterMs('3', NOW)).toBe(3_000)
    expect(retryAfterMs(new Date(NOW + 5_000).toUTCString(), NOW)).toBe(5_000)
    expect(retryAfterMs(new Date(NOW - 5_000).toUTCString(), NOW)).toBe(0)
    expect(retryAfterMs('soon', NOW)).toBeUndefined()
    expect(retryAfterMs(null, NOW)).toBeUndefined()
  })
})
