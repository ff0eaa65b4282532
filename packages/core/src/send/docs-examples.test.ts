/**
 * Keeps docs/sending.md honest: every TypeScript block must equal the example file its
 * `<!-- example: … -->` marker names (the files live in packages/core/test/docs and are
 * type-checked with core's tests), the IAM policy must be valid JSON granting exactly the
 * `@connections` actions, and each example is run here against a fake store.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fakeStore } from '../../test/fake-store.js'
import type { HandlerContext } from '../handlers.js'
import { capturingConnections } from '../testing/capturing-connections.js'
import { fakeClock } from '../testing/fake-clock.js'
import { createSender } from './sender.js'
import type { ConnectionTarget } from './transport.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..', '..')
// Markers are resolved the way the repository's snippet check resolves them.
const snippetsDir = join(root, 'examples', 'snippets')
const guide = readFileSync(join(root, 'docs', 'sending.md'), 'utf8')

const target = (apiId: string | null, stage: string | null = 'prod'): ConnectionTarget => ({
  connectionId: 'abc=',
  apiId,
  stage,
  domainName: null,
})

function setup() {
  const store = fakeStore()
  const connections = capturingConnections()
  // The examples compute deadlines from Date.now(), so the sender's clock starts there too.
  const clock = fakeClock(Date.now())
  return { store, connections, send: createSender({ store, connections, clock }) }
}

describe('docs/sending.md', () => {
  it('shows only TypeScript blocks that equal their compiled example files', () => {
    const blocks = [...guide.matchAll(/(<!-- example: (\S+) -->\s*\n)?```ts\n([\s\S]*?)```/g)]
    expect(blocks.length).toBeGreaterThanOrEqual(6)
    for (const [, , path, code] of blocks) {
      expect(path, `block without an example marker:\n${code}`).toBeDefined()
      expect(path).toMatch(/^\.\.\/\.\.\/packages\/core\/test\/docs\/[a-z-]+\.ts$/)
      const source = readFileSync(join(snippetsDir, path as string), 'utf8')
      expect((code ?? '').trim()).toBe(source.trim())
    }
  })

  it('shows a least-privilege IAM policy for exactly the @connections calls', () => {
    const [, json] = /```json\n([\s\S]*?)```/.exec(guide) ?? []
    const policy = JSON.parse(json ?? '') as {
      Statement: { Effect: string; Action: string; Resource: string[] }[]
    }
    expect(policy.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'execute-api:ManageConnections',
        Resource: ['POST', 'DELETE', 'GET'].map(
          (method) =>
            `arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/${method}/@connections/*`,
        ),
      },
    ])
  })
})

describe('endpoint examples', () => {
  it('derives the execute-api endpoint by default', async () => {
    const { connections } = await import('../../test/docs/aws-transport.js')
    expect(connections.endpointFor(target('a1b2c3d4e5'))).toBe(
      'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod',
    )
  })

  it('uses the custom domain and base path', async () => {
    const { connections } = await import('../../test/docs/custom-domain.js')
    expect(connections.endpointFor(target('a1b2c3d4e5'))).toBe('https://ws.example.com/chat')
  })

  it('chooses the endpoint per API and fails others with NO_ENDPOINT', async () => {
    const { connections } = await import('../../test/docs/endpoint-per-api.js')
    expect(connections.endpointFor(target('f6g7h8i9j0'))).toBe('https://ws.example.com/admin')
    expect(connections.endpointFor(target('zzzzzzzzzz'))).toMatchObject({ code: 'NO_ENDPOINT' })
    expect(connections.endpointFor(target(null))).toMatchObject({ code: 'NO_ENDPOINT' })
  })

  it('points at the local gateway', async () => {
    const { connections } = await import('../../test/docs/local-gateway.js')
    expect(connections.endpointFor(target(null, null))).toBe('http://127.0.0.1:4000/local')
  })
})

describe('sending examples', () => {
  it('the chat handler relays to the room except the author', async () => {
    const { chat } = await import('../../test/docs/chat-handler.js')
    const { store, connections, send } = setup()
    store.seed(['me', 'you', 'them'], { channels: ['lobby'] })
    connections.script('them', 'gone')
    const ctx = { connectionId: 'me', userId: 'ada', channels: async () => ['lobby'], send }
    const input = { action: 'chat' as const, room: 'lobby', text: 'hi' }
    const result = await chat.handle(ctx as unknown as HandlerContext, input)
    expect(result).toEqual({ ok: true, delivered: 1 })
    expect(connections.json('you')).toEqual([
      { type: 'chat', room: 'lobby', from: 'ada', text: 'hi' },
    ])
    expect(connections.calls.map((c) => c.connectionId)).not.toContain('me')
    expect((await store.connections.get('them'))?.disconnectedAt).not.toBeNull()
  })

  it('announce returns the retryable failures only', async () => {
    const { announce } = await import('../../test/docs/announce.js')
    const { store, connections, send } = setup()
    store.seed(['a', 'b', 'c', 'd'])
    connections.script('b', 'throttled')
    connections.script('c', 'gone')
    connections.script('d', 'forbidden')
    const warn = console.warn
    const warnings: unknown[] = []
    console.warn = (message: unknown) => warnings.push(message)
    try {
      expect(await announce(send, 'maintenance at noon')).toEqual(['b'])
    } finally {
      console.warn = warn
    }
    expect(warnings).toEqual(['not delivered to d: ForbiddenException'])
  })

  it('the sweep prunes idle connections API Gateway reports gone', async () => {
    const { sweepIdleConnections } = await import('../../test/docs/sweep.js')
    const { store, connections, send } = setup()
    store.seed(['idle1', 'idle2'], { connectedAt: 0 })
    connections.script('idle2', 'gone')
    expect(await sweepIdleConnections(send)).toBe(1)
    expect(connections.calls.map((c) => `${c.operation}:${c.connectionId}`).sort()).toEqual([
      'get:idle1',
      'get:idle2',
    ])
  })
})
