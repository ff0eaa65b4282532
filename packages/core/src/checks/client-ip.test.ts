import { describe, expect, it } from 'vitest'
import type { GatewayRequest, LambdaContext } from '../request.js'
import { parseClientAddress, rawClientIp } from './client-ip.js'

const NO_SOURCE = { sourceIpHeader: null, trustedProxies: 0 }

function request(headers: Record<string, string>, lambda?: Partial<LambdaContext>): GatewayRequest {
  return {
    route: '$connect',
    method: 'POST',
    headers,
    query: {},
    body: null,
    ...(lambda === undefined
      ? {}
      : {
          lambda: {
            connectionId: 'c1',
            routeKey: '$connect',
            eventType: 'CONNECT',
            apiId: 'api',
            stage: 'test',
            domainName: null,
            sourceIp: null,
            userAgent: null,
            requestId: null,
            disconnectStatusCode: null,
            ...lambda,
          },
        }),
  }
}

describe('rawClientIp', () => {
  it('takes the right-most X-Forwarded-For entry, never the left-most', () => {
    expect(
      rawClientIp(request({ 'x-forwarded-for': '1.1.1.1, 2.2.2.2, 3.3.3.3' }), NO_SOURCE),
    ).toBe('3.3.3.3')
    expect(rawClientIp(request({ 'x-forwarded-for': '3.3.3.3' }), NO_SOURCE)).toBe('3.3.3.3')
  })

  it('skips trustedProxies hops from the right', () => {
    const headers = { 'x-forwarded-for': 'spoof, 203.0.113.9, 10.0.0.1, 10.0.0.2' }
    expect(rawClientIp(request(headers), { sourceIpHeader: null, trustedProxies: 2 })).toBe(
      '203.0.113.9',
    )
    expect(rawClientIp(request(headers), { sourceIpHeader: null, trustedProxies: 1 })).toBe(
      '10.0.0.1',
    )
  })

  it('finds nothing when there are fewer entries than hops', () => {
    const headers = { 'x-forwarded-for': '10.0.0.1, 10.0.0.2' }
    expect(rawClientIp(request(headers), { sourceIpHeader: null, trustedProxies: 2 })).toBeNull()
  })

  it('trims whitespace and ignores empty entries', () => {
    expect(rawClientIp(request({ 'x-forwarded-for': ' 1.1.1.1 ,  4.4.4.4  ' }), NO_SOURCE)).toBe(
      '4.4.4.4',
    )
    expect(rawClientIp(request({ 'x-forwarded-for': '4.4.4.4, ,' }), NO_SOURCE)).toBe('4.4.4.4')
    expect(rawClientIp(request({ 'x-forwarded-for': '' }), NO_SOURCE)).toBeNull()
    expect(rawClientIp(request({ 'x-forwarded-for': ' , ' }), NO_SOURCE)).toBeNull()
  })

  it('returns null without X-Forwarded-For', () => {
    expect(rawClientIp(request({}), NO_SOURCE)).toBeNull()
  })

  it('walks a megabyte-long attacker prefix and still finds the right-most entry', () => {
    const forwarded = `${'9.9.9.9, '.repeat(100_000)}5.5.5.5`
    expect(rawClientIp(request({ 'x-forwarded-for': forwarded }), NO_SOURCE)).toBe('5.5.5.5')
  })

  it('prefers the mapped source-ip header, falling back when it is blank', () => {
    const source = { sourceIpHeader: 'x-apigw-source-ip', trustedProxies: 0 }
    const headers = { 'x-apigw-source-ip': ' 7.7.7.7 ', 'x-forwarded-for': '8.8.8.8' }
    expect(rawClientIp(request(headers), source)).toBe('7.7.7.7')
    expect(rawClientIp(request({ ...headers, 'x-apigw-source-ip': ' ' }), source)).toBe('8.8.8.8')
  })

  it('uses identity.sourceIp for Lambda events and ignores every header', () => {
    const headers = { 'x-forwarded-for': '8.8.8.8', 'x-apigw-source-ip': '7.7.7.7' }
    const source = { sourceIpHeader: 'x-apigw-source-ip', trustedProxies: 0 }
    expect(rawClientIp(request(headers, { sourceIp: '6.6.6.6' }), source)).toBe('6.6.6.6')
    expect(rawClientIp(request(headers, { sourceIp: null }), source)).toBeNull()
  })
})

describe('parseClientAddress', () => {
  it.each([
    ['0.0.0.0', '0.0.0.0'],
    ['203.0.113.10', '203.0.113.10'],
    ['255.255.255.255', '255.255.255.255'],
  ])('parses IPv4 %s, keyed by the whole address', (input, ip) => {
    expect(parseClientAddress(input)).toEqual({ ip, key: ip })
  })

  it.each([
    ['2001:db8::1', '2001:db8:0:0:0:0:0:1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8:0:0:0:0:0:1'],
    ['2001:0db8:00aa:12ff::', '2001:db8:aa:12ff:0:0:0:0'],
    ['::1', '0:0:0:0:0:0:0:1'],
    ['::', '0:0:0:0:0:0:0:0'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:2:3:abcd:5:6:1.2.3.4', '1:2:3:abcd:5:6:102:304'],
  ])('parses IPv6 %s into its canonical form', (input, ip) => {
    expect(parseClientAddress(input)?.ip).toBe(ip)
  })

  it('keys IPv6 by the /56 prefix, whatever the spelling', () => {
    expect(parseClientAddress('2001:0db8:00aa:12ff::')?.key).toBe('2001:db8:aa:1200::/56')
    expect(parseClientAddress('1:2:3:abcd:5:6:1.2.3.4')?.key).toBe('1:2:3:ab00::/56')
    const spellings = ['2001:db8::1', '2001:DB8:0:0:0:0:0:1', '2001:0db8:0000:00ff::abcd']
    const keys = new Set(spellings.map((s) => parseClientAddress(s)?.key))
    expect(keys.size).toBe(1)
    expect([...keys][0]).toMatch(/^2001:db8:0:0?0?0::\/56$/)
  })

  it('treats IPv4-mapped IPv6 as the IPv4 address (one limit per client)', () => {
    expect(parseClientAddress('::ffff:192.0.2.1')).toEqual({ ip: '192.0.2.1', key: '192.0.2.1' })
    expect(parseClientAddress('::FFFF:c000:0201')).toEqual({ ip: '192.0.2.1', key: '192.0.2.1' })
  })

  it('keys every address of one /56 alike and the next /56 apart', () => {
    const a = parseClientAddress('2001:db8:1:2a00::1')?.key
    expect(parseClientAddress('2001:db8:1:2aff:ffff:ffff:ffff:ffff')?.key).toBe(a)
    expect(parseClientAddress('2001:db8:1:2b00::1')?.key).not.toBe(a)
    expect(parseClientAddress('2001:db8:2:2a00::1')?.key).not.toBe(a)
  })

  it.each([
    null,
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.4:80',
    ' 1.2.3.4',
    '[2001:db8::1]',
    '2001:db8::1%eth0',
    '2001:db8::1::2',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::1',
    'g::1',
    ':1:2:3:4:5:6:7',
    '::ffff:1.2.3.256',
    'localhost',
    'unknown',
    `${'1:'.repeat(30)}1`,
  ])('refuses %j', (value) => {
    expect(parseClientAddress(value)).toBeNull()
  })
})
