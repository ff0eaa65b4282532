/**
 * Checks of single-use tokens: `put` (a duplicate resolves `false`), `consume` (once, before
 * `expiresAt`, bound to the session), and — through a real gateway and `inspect` — that tokens
 * rest as SHA-256 only and session ids not at all.
 */
import { expect } from 'vitest'
import { createGateway } from '../../gateway.js'
import type { TokenRecord } from '../../store.js'
import {
  group,
  HOUR,
  hashOf,
  MINUTE,
  newToken,
  randomHex,
  sha256Hex,
  tokenFields,
} from './helpers.js'

export const tokenChecks = group('tokens', {
  'consume resolves the stored record once': async ({ store, clock }) => {
    const hash = await hashOf('once')
    const token = newToken(hash, clock, {
      userId: 'user-9',
      sessionHash: await hashOf('session'),
      channel: 'room-1',
    })
    expect(await store.tokens.put(token)).toBe(true)
    const now = clock.now()
    const consumed = await store.tokens.consume(hash, token.sessionHash, now)
    expect(consumed).not.toBeNull()
    expect(tokenFields(consumed as TokenRecord)).toEqual(token)
    expect(await store.tokens.consume(hash, token.sessionHash, now), 'a used token').toBeNull()
    clock.advance(1)
    expect(await store.tokens.consume(hash, token.sessionHash, clock.now())).toBeNull()
  },

  'consume resolves null for an unknown hash': async ({ store, clock }) => {
    await store.tokens.put(newToken(await hashOf('known'), clock))
    expect(await store.tokens.consume(await hashOf('unknown'), null, clock.now())).toBeNull()
  },

  'a token is valid while expiresAt > now: 1 ms before is accepted, at expiresAt refused': async ({
    store,
    clock,
  }) => {
    const early = await hashOf('early')
    const late = await hashOf('late')
    const expiresAt = clock.now() + MINUTE
    await store.tokens.put(newToken(early, clock, { expiresAt }))
    await store.tokens.put(newToken(late, clock, { expiresAt }))
    clock.advance(MINUTE - 1)
    const accepted = await store.tokens.consume(early, null, clock.now())
    expect(accepted?.hash).toBe(early)
    clock.advance(1)
    expect(clock.now()).toBe(expiresAt)
    expect(await store.tokens.consume(late, null, clock.now())).toBeNull()
    clock.advance(HOUR)
    expect(await store.tokens.consume(late, null, clock.now())).toBeNull()
  },

  'a refused consume changes nothing': async ({ store, clock }) => {
    const hash = await hashOf('refused')
    const sessionHash = await hashOf('right session')
    const token = newToken(hash, clock, { sessionHash })
    await store.tokens.put(token)
    const wrong = await hashOf('wrong session')
    expect(await store.tokens.consume(hash, wrong, clock.now())).toBeNull()
    expect(await store.tokens.consume(hash, sessionHash, token.expiresAt)).toBeNull()
    const later = await store.tokens.consume(hash, sessionHash, token.expiresAt - 1)
    expect(later && tokenFields(later)).toEqual(token)
  },

  'a session-bound token is consumable only with the same sessionHash': async ({
    store,
    clock,
  }) => {
    const hash = await hashOf('bound')
    const sessionHash = await hashOf('session-a')
    await store.tokens.put(newToken(hash, clock, { sessionHash }))
    const now = clock.now()
    expect(await store.tokens.consume(hash, null, now)).toBeNull()
    const other = await hashOf('session-b')
    expect(await store.tokens.consume(hash, other, now)).toBeNull()
    expect((await store.tokens.consume(hash, sessionHash, now))?.sessionHash).toBe(sessionHash)
  },

  'a token without sessionHash is consumable with any sessionHash': async ({ store, clock }) => {
    const withSession = await hashOf('unbound-1')
    const withoutSession = await hashOf('unbound-2')
    await store.tokens.put(newToken(withSession, clock))
    await store.tokens.put(newToken(withoutSession, clock))
    const anySession = await hashOf('any session')
    const now = clock.now()
    expect((await store.tokens.consume(withSession, anySession, now))?.hash).toBe(withSession)
    expect((await store.tokens.consume(withoutSession, null, now))?.hash).toBe(withoutSession)
  },

  'put resolves false for a duplicate hash, used or not, and keeps the first record': async ({
    store,
    clock,
  }) => {
    const hash = await hashOf('duplicate')
    const first = newToken(hash, clock, { userId: 'first' })
    expect(await store.tokens.put(first)).toBe(true)
    expect(await store.tokens.put(newToken(hash, clock, { userId: 'second' }))).toBe(false)
    const consumed = await store.tokens.consume(hash, null, clock.now())
    expect(consumed && tokenFields(consumed)).toEqual(first)
    expect(
      await store.tokens.put(
        newToken(hash, clock, { userId: 'third', expiresAt: clock.now() + HOUR }),
      ),
    ).toBe(false)
    expect(await store.tokens.consume(hash, null, clock.now())).toBeNull()
  },

  'tokens are isolated by hash': async ({ store, clock }) => {
    const a = newToken(await hashOf('a'), clock, { userId: 'user-a', channel: 'room-a' })
    const b = newToken(await hashOf('b'), clock, {
      userId: 'user-b',
      channel: null,
      expiresAt: clock.now() + 2 * MINUTE,
    })
    await store.tokens.put(a)
    await store.tokens.put(b)
    const now = clock.now()
    const gotA = await store.tokens.consume(a.hash, null, now)
    expect(gotA && tokenFields(gotA)).toEqual(a)
    expect(await store.tokens.consume(a.hash, null, now)).toBeNull()
    const gotB = await store.tokens.consume(b.hash, null, now)
    expect(gotB && tokenFields(gotB)).toEqual(b)
  },
})

export const hashAtRestChecks = group('hash at rest', {
  'tokens issued by the gateway are stored as SHA-256 only, without the session id': {
    needsInspect: true,
    run: async ({ store, clock, inspect }) => {
      if (inspect === null) throw new Error('this check needs the inspect option')
      const gateway = createGateway({
        store,
        clock,
        integrationSecret: 'test-secret-for-the-store-suite',
        allowedOrigins: ['https://app.example'],
        auth: { resolveSession: () => null },
      })
      const sessionId = `session-canary-${randomHex(16)}`
      const tokens: string[] = []
      for (const channel of [null, 'room-1']) {
        const response = await gateway.issueToken({
          method: 'POST',
          headers: { origin: 'https://app.example' },
          userId: 'user-1',
          sessionId,
          channel,
        })
        expect(response.status, String(response.body)).toBe(200)
        const body: unknown = JSON.parse(String(response.body))
        const token = (body as { token?: unknown }).token
        expect(typeof token).toBe('string')
        tokens.push(token as string)
      }
      const dump = await inspect()
      for (const token of tokens) {
        expect(dump).toContain(await sha256Hex(token))
        expect(dump).not.toContain(token)
        // The random part alone, in case a store strips the recognisable prefix.
        expect(dump).not.toContain(token.slice(-32))
      }
      expect(dump).not.toContain(sessionId)
      expect(dump).not.toContain(sessionId.slice('session-canary-'.length))
    },
  },
})
