/**
 * The demo's HTTP surface (issue 9, item 10): state-changing POSTs need a JSON content type and
 * an allowed Origin; every sign-in is its own person (two "alice"s are two users, and signing one
 * out leaves the other connected); nobody becomes admin by name, only with the startup code.
 */
import { memoryStore } from '@apigw-ws/store-memory'
import { describe, expect, it } from 'vitest'
import { createChatApp } from '../src/chat-app.js'

const ORIGIN = 'http://127.0.0.1:3000'
const ADMIN_CODE = 'code-1234'

function setup() {
  const store = memoryStore()
  const { app } = createChatApp({
    store,
    secret: 'chat-app-test-secret-0123456789',
    allowedOrigins: [ORIGIN],
    webSocketUrl: () => 'ws://127.0.0.1:3001/local',
    managementEndpoint: () => 'http://127.0.0.1:3001/local',
    adminCode: ADMIN_CODE,
  })
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
      body: JSON.stringify(body),
    })
  const signIn = async (name: string, adminCode?: string) => {
    const res = await post('/login', { name, ...(adminCode ? { adminCode } : {}) })
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    return { res, cookie, body: (await res.json()) as { name: string; isAdmin: boolean } }
  }
  return { app, store, post, signIn }
}

describe('the chat demo app', () => {
  it('refuses state-changing POSTs without a JSON content type or from another origin', async () => {
    const { app, post } = setup()
    const form = await app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: ORIGIN },
      body: '{"name":"eve"}',
    })
    expect(form.status).toBe(415)
    expect((await post('/login', { name: 'eve' }, { origin: 'https://evil.example' })).status).toBe(
      403,
    )
    const noOrigin = await app.request('/notify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(noOrigin.status).toBe(403)
    expect((await post('/login', { name: 'eve' })).status).toBe(200)
  })

  it('makes each sign-in its own person, and admin only with the code', async () => {
    const { signIn, app } = setup()
    const first = await signIn('alice')
    const second = await signIn('alice')
    expect(first.cookie).not.toBe(second.cookie)
    const token = async (cookie: string) =>
      app.request('/ws-token', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN, cookie },
        body: '{}',
      })
    expect((await token(first.cookie)).status).toBe(200)
    expect((await signIn('admin')).body.isAdmin).toBe(false)
    expect((await signIn('x', 'wrong')).res.status).toBe(403)
    expect((await signIn('x', ADMIN_CODE)).body.isAdmin).toBe(true)
    // Signing the first alice out ends her session only.
    const logout = await app.request('/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN, cookie: first.cookie },
      body: '{}',
    })
    expect(logout.status).toBe(200)
    expect((await token(first.cookie)).status).toBe(401)
    expect((await token(second.cookie)).status).toBe(200)
  })
})
