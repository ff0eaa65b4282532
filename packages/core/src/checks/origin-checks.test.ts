import { describe, expect, it } from 'vitest'
import {
  kitConfig,
  ORIGIN,
  rejectionCodes,
  SECRET,
  setup,
  stateFor,
} from '../../test/gateway-kit.js'
import { httpRequests, lambdaEvents } from '../testing/requests.js'
import { clientAddress, host, isOriginAllowed, origin } from './origin-checks.js'

const ALLOWED = new Set([ORIGIN, 'http://localhost:5173'])

describe('isOriginAllowed', () => {
  it('allows exactly the configured serialized origins', () => {
    expect(isOriginAllowed(ORIGIN, ALLOWED)).toBe(true)
    expect(isOriginAllowed('http://localhost:5173', ALLOWED)).toBe(true)
  })

  it.each([
    'https://app.example.com.evil.net',
    'https://evil.net/?https://app.example.com',
    'https://app.example.com@evil.net',
    'https://evilapp.example.com',
    'https://sub.app.example.com',
    'null',
    'http://app.example.com',
    'https://app.example.com:8443',
    'https://app.example.com:443',
    'https://app.example.com/',
    'https://APP.EXAMPLE.COM',
    'HTTPS://app.example.com',
    ' https://app.example.com',
    'https://app.example.com ',
    'https://app.example.com, https://evil.net',
    'http://localhost:5174',
    'http://localhost',
    '',
    '*',
  ])('refuses %j', (value) => {
    expect(isOriginAllowed(value, ALLOWED)).toBe(false)
  })

  it('refuses a missing origin', () => {
    expect(isOriginAllowed(undefined, ALLOWED)).toBe(false)
  })
})

describe('origin on $connect', () => {
  it('connects from an allowed origin and refuses others with 403', async () => {
    const { gateway, http, issue, events } = setup()
    expect((await gateway.handle(http.connect({ token: await issue() }))).status).toBe(200)
    const evil = http.connect({ token: await issue(), origin: 'https://app.example.com.evil.net' })
    expect((await gateway.handle(evil)).status).toBe(403)
    expect(rejectionCodes(events)).toEqual(['ORIGIN_REJECTED'])
  })

  it('refuses a missing Origin unless allowMissingOrigin is set', async () => {
    const strict = setup()
    const noOrigin = strict.http.connect({ token: await strict.issue(), origin: null })
    expect((await strict.gateway.handle(noOrigin)).status).toBe(403)
    const lenient = setup({ allowMissingOrigin: true })
    const again = lenient.http.connect({ token: await lenient.issue(), origin: null })
    expect((await lenient.gateway.handle(again)).status).toBe(200)
  })

  it('still refuses a wrong Origin when allowMissingOrigin is set', () => {
    const config = kitConfig({ allowMissingOrigin: true })
    const request = httpRequests({ secret: SECRET }).connect({ origin: 'https://evil.net' })
    expect(origin(stateFor(config, request))).toMatchObject({ code: 'ORIGIN_REJECTED' })
  })

  it('applies to Lambda connect events too', async () => {
    const { gateway, issue } = setup({ integration: 'lambda' })
    const event = lambdaEvents().connect({ token: await issue(), origin: 'https://evil.net' })
    expect((await gateway.lambda(event)).statusCode).toBe(403)
  })

  it('with allowedOrigins empty and allowMissingOrigin, refuses every browser', async () => {
    const { gateway, http } = setup({ allowedOrigins: [], allowMissingOrigin: true })
    const grant = await gateway.issueToken({
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin' },
      userId: 'u1',
    })
    const { token } = JSON.parse(grant.body ?? '{}') as { token: string }
    expect((await gateway.handle(http.connect({ token }))).status).toBe(403)
  })
})

describe('host on $connect', () => {
  const http = httpRequests({ secret: SECRET })

  it('passes every Host when allowedHosts is not configured', () => {
    const request = http.connect({ headers: { host: 'anything.example' } })
    expect(host(stateFor(kitConfig(), request))).toBeUndefined()
  })

  it('matches allowedHosts exactly, ignoring case', () => {
    const config = kitConfig({ allowedHosts: ['ws.example.com'] })
    const at = (value: string | undefined) => {
      const request = http.connect()
      const headers: Record<string, string> = { ...request.headers }
      if (value !== undefined) headers.host = value
      return host(stateFor(config, { ...request, headers }))
    }
    expect(at('ws.example.com')).toBeUndefined()
    expect(at('WS.Example.COM')).toBeUndefined()
    for (const bad of [
      undefined,
      'ws.example.com.evil.net',
      'evil.ws.example.com',
      'ws.example.com:444',
      '',
    ]) {
      expect(at(bad)).toEqual({ code: 'HOST_REJECTED' })
    }
  })
})

describe('clientAddress on $connect', () => {
  it('refuses a connect with no usable client address (403)', async () => {
    const { gateway, http, issue, events } = setup()
    const request = http.connect({ token: await issue() })
    const headers: Record<string, string> = { ...request.headers }
    delete headers['x-forwarded-for']
    expect((await gateway.handle({ ...request, headers })).status).toBe(403)
    headers['x-forwarded-for'] = 'not-an-ip'
    expect((await gateway.handle({ ...request, headers })).status).toBe(403)
    expect(rejectionCodes(events)).toEqual(['CLIENT_IP_MISSING', 'CLIENT_IP_MISSING'])
  })

  it('records the parsed address and its rate-limit key', () => {
    const state = stateFor(
      kitConfig(),
      httpRequests({ secret: SECRET, clientIp: '2001:DB8::1' }).connect(),
    )
    expect(clientAddress(state)).toBeUndefined()
    expect(state.address?.ip).toBe('2001:db8:0:0:0:0:0:1')
    expect(state.address?.key).toMatch(/::\/56$/)
  })

  it('prefers the mapped sourceIpHeader over X-Forwarded-For', () => {
    const config = kitConfig({ sourceIpHeader: 'x-apigw-source-ip' })
    const request = httpRequests({ secret: SECRET }).connect({
      headers: { 'x-apigw-source-ip': '198.51.100.7' },
    })
    const state = stateFor(config, request)
    expect(clientAddress(state)).toBeUndefined()
    expect(state.address?.ip).toBe('198.51.100.7')
  })

  it('uses identity.sourceIp for Lambda events', async () => {
    const { gateway, issue, events } = setup({ integration: 'lambda' })
    const event = lambdaEvents({ clientIp: '192.0.2.44' }).connect({
      token: await issue(),
      headers: { 'X-Forwarded-For': '10.9.9.9' },
    })
    expect((await gateway.lambda(event)).statusCode).toBe(200)
    expect(events.find((e) => e.type === 'connect.accepted')).toMatchObject({ ip: '192.0.2.44' })
  })
})
