import { describe, expect, it } from 'vitest'
import { ORIGIN, recordingStore, rejectionCodes, setup } from '../../test/gateway-kit.js'
import { oracleSha256Hex } from '../../test/sha256-oracle.js'
import { defineHandler } from '../handlers.js'
import type { GatewayRequest } from '../request.js'
import { TOKEN_PREFIX } from '../tokens.js'

function cookieSession(request: GatewayRequest): string | null {
  const match = /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.cookie ?? '')
  return match?.[1] ?? null
}

describe('channelParam', () => {
  it('stores a valid requested channel with the connection', async () => {
    const { store, connect } = setup()
    const { connectionId, response } = await connect({ channel: 'room_1' })
    expect(response.status).toBe(200)
    expect([...(await store.connections.channels(connectionId))]).toEqual(['room_1'])
  })

  it.each(['room 1', 'room=1', '', 'c'.repeat(129), '../x'])(
    'refuses the channel %j with 400 before the token is consumed',
    async (channel) => {
      const store = recordingStore()
      const { gateway, http, issue, events } = setup({}, store)
      const token = await issue()
      const response = await gateway.handle(http.connect({ token, query: { channel } }))
      expect(response.status).toBe(400)
      expect(rejectionCodes(events)).toEqual(['CHANNEL_INVALID'])
      expect(store.calls.map((c) => c.method)).not.toContain('tokens.consume')
      expect((await gateway.handle(http.connect({ token }))).status).toBe(200)
    },
  )
})

describe('token', () => {
  it('refuses a missing token (401)', async () => {
    const { gateway, http, events } = setup()
    expect((await gateway.handle(http.connect())).status).toBe(401)
    expect(events.find((e) => e.type === 'request.rejected')).toMatchObject({
      code: 'TOKEN_INVALID',
      detail: 'missing',
    })
  })

  it.each([
    ['garbage', 'hello'],
    ['a wrong prefix', `xxxx_${'A'.repeat(43)}`],
    ['a too long token', `${TOKEN_PREFIX}${'A'.repeat(10_000)}`],
  ])('refuses %s before any token lookup in the store', async (_name, token) => {
    const store = recordingStore()
    const { gateway, http } = setup({}, store)
    expect((await gateway.handle(http.connect({ token }))).status).toBe(401)
    expect(store.calls.map((c) => c.method)).not.toContain('tokens.consume')
  })

  it('refuses a well-formed token that was never issued', async () => {
    const { gateway, http } = setup()
    const response = await gateway.handle(
      http.connect({ token: `${TOKEN_PREFIX}${'A'.repeat(43)}` }),
    )
    expect(response.status).toBe(401)
  })

  it('is single-use', async () => {
    const { gateway, http, issue } = setup()
    const token = await issue()
    expect((await gateway.handle(http.connect({ token }))).status).toBe(200)
    expect((await gateway.handle(http.connect({ token }))).status).toBe(401)
  })

  it('expires after the TTL (60 s by default), to the millisecond', async () => {
    const { gateway, http, issue, clock } = setup()
    const early = await issue()
    const late = await issue()
    clock.advance(59_999)
    expect((await gateway.handle(http.connect({ token: early }))).status).toBe(200)
    clock.advance(1)
    expect((await gateway.handle(http.connect({ token: late }))).status).toBe(401)
  })

  it('names the user the token was issued to', async () => {
    const { store, connect } = setup()
    const { connectionId } = await connect({ userId: 'alice' })
    expect((await store.connections.get(connectionId))?.userId).toBe('alice')
  })

  describe('session binding', () => {
    const sessionSetup = () => setup({ auth: { resolveSession: cookieSession } })

    it('connects when the session resolved at connect is the one the token was issued for', async () => {
      const { gateway, http, issue } = sessionSetup()
      const token = await issue('u1', { sessionId: 'session-a' })
      const response = await gateway.handle(http.connect({ token, cookie: 'sid=session-a' }))
      expect(response.status).toBe(200)
    })

    it('refuses another session, and no session at all', async () => {
      const { gateway, http, issue } = sessionSetup()
      const token = await issue('u1', { sessionId: 'session-a' })
      expect((await gateway.handle(http.connect({ token, cookie: 'sid=session-b' }))).status).toBe(
        401,
      )
      expect((await gateway.handle(http.connect({ token }))).status).toBe(401)
      // The failed attempts did not burn the token for its rightful session.
      expect((await gateway.handle(http.connect({ token, cookie: 'sid=session-a' }))).status).toBe(
        200,
      )
    })

    it('issues session-bound tokens only with a session id (401 without)', async () => {
      const { gateway } = sessionSetup()
      const response = await gateway.issueToken({
        method: 'POST',
        headers: { origin: ORIGIN },
        userId: 'u1',
      })
      expect(response.status).toBe(401)
    })

    it('stores only the SHA-256 of the session id', async () => {
      const store = recordingStore()
      const { gateway, http, issue } = setup({ auth: { resolveSession: cookieSession } }, store)
      const token = await issue('u1', { sessionId: 'session-secret-value' })
      await gateway.handle(http.connect({ token, cookie: 'sid=session-secret-value' }))
      const put = store.calls.find((c) => c.method === 'tokens.put')
      expect(put?.args[0]).toMatchObject({ sessionHash: oracleSha256Hex('session-secret-value') })
      expect(store.dump()).not.toContain('session-secret-value')
    })
  })

  describe('channel binding', () => {
    it('opens the bound channel when none is requested', async () => {
      const { gateway, http, issue, store } = setup()
      const token = await issue('u1', { channel: 'room-7' })
      expect((await gateway.handle(http.connect({ connectionId: 'bound1', token }))).status).toBe(
        200,
      )
      expect([...(await store.connections.channels('bound1'))]).toEqual(['room-7'])
    })

    it('refuses another channel (403) and accepts the same one', async () => {
      const { gateway, http, issue, events } = setup()
      const other = await issue('u1', { channel: 'room-7' })
      expect((await gateway.handle(http.connect({ token: other, channel: 'room-8' }))).status).toBe(
        403,
      )
      expect(rejectionCodes(events)).toEqual(['TOKEN_CHANNEL_MISMATCH'])
      const same = await issue('u1', { channel: 'room-7' })
      expect((await gateway.handle(http.connect({ token: same, channel: 'room-7' }))).status).toBe(
        200,
      )
    })

    it('refuses to issue a token for an invalid channel (400)', async () => {
      const { gateway } = setup()
      const response = await gateway.issueToken({
        method: 'POST',
        headers: { origin: ORIGIN },
        userId: 'u1',
        channel: 'bad channel',
      })
      expect(response.status).toBe(400)
    })
  })
})

describe('loadUser', () => {
  it('refuses a token whose user cannot be loaded (401)', async () => {
    const { gateway, http, issue, events } = setup({
      auth: { loadUser: (id) => (id === 'known' ? { id } : null) },
    })
    expect((await gateway.handle(http.connect({ token: await issue('known') }))).status).toBe(200)
    expect((await gateway.handle(http.connect({ token: await issue('gone') }))).status).toBe(401)
    expect(rejectionCodes(events)).toEqual(['USER_UNKNOWN'])
  })

  it('hands the loaded user to permission hooks and handlers', async () => {
    const seen: unknown[] = []
    const { gateway, http, connect } = setup<{ name: string }>({
      auth: {
        loadUser: async (id) => ({ name: `user ${id}` }),
        hasPermission: ({ user }, permission) => {
          seen.push([user, permission])
          return true
        },
      },
      connectPermissions: { allOf: ['connect'] },
      handlers: { who: defineHandler<{ name: string }>({ handle: (ctx) => ctx.user }) },
    })
    const { connectionId } = await connect({ userId: 'bob' })
    const response = await gateway.handle(http.message({ connectionId, body: { action: 'who' } }))
    expect(JSON.parse(response.body ?? '')).toEqual({ name: 'user bob' })
    expect(seen).toEqual([[{ name: 'user bob' }, 'connect']])
  })
})

describe('connectPermissions', () => {
  it('admits users holding the permissions and refuses others (403)', async () => {
    const { connect, events } = setup({
      auth: { hasPermission: ({ userId }, p) => userId === 'admin' && p === 'ws:connect' },
      connectPermissions: { anyOf: ['ws:connect'] },
    })
    expect((await connect({ userId: 'admin' })).response.status).toBe(200)
    expect((await connect({ userId: 'guest' })).response.status).toBe(403)
    expect(rejectionCodes(events)).toEqual(['PERMISSION_DENIED'])
  })
})

describe('channelAccess', () => {
  it('asks authorizeChannel for the requested channel and refuses when it says no (403)', async () => {
    const asked: unknown[] = []
    const { connect } = setup({
      auth: {
        authorizeChannel: (request) => {
          asked.push(request)
          return request.channel === 'open'
        },
      },
    })
    const allowed = await connect({ userId: 'u1', channel: 'open', connectionId: 'chanOk1' })
    expect(allowed.response.status).toBe(200)
    expect((await connect({ userId: 'u1', channel: 'secret' })).response.status).toBe(403)
    expect(asked[0]).toEqual({
      channel: 'open',
      connectionId: 'chanOk1',
      action: 'connect',
      userId: 'u1',
      user: null,
    })
  })

  it('asks about the channel a token is bound to', async () => {
    const { gateway, http, issue } = setup({ auth: { authorizeChannel: () => false } })
    const token = await issue('u1', { channel: 'bound' })
    expect((await gateway.handle(http.connect({ token }))).status).toBe(403)
  })

  it('is not asked when no channel is involved', async () => {
    let calls = 0
    const { connect } = setup({
      auth: {
        authorizeChannel: () => {
          calls++
          return false
        },
      },
    })
    expect((await connect()).response.status).toBe(200)
    expect(calls).toBe(0)
  })

  it('only `true` authorizes', async () => {
    const { connect } = setup({
      auth: { authorizeChannel: () => 'yes' as unknown as boolean },
    })
    expect((await connect({ channel: 'room' })).response.status).toBe(403)
  })
})
