import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { ConnectionTarget } from '../send/transport.js'
import { defaultEndpoint, isRegion, normalizeEndpoint } from './endpoint.js'

const target = (apiId: string | null, stage: string | null): ConnectionTarget => ({
  connectionId: 'abc=',
  apiId,
  stage,
  domainName: null,
})

describe('defaultEndpoint', () => {
  it('builds the execute-api endpoint from the api id, region and stage', () => {
    expect(defaultEndpoint('eu-west-1', target('a1b2c3d4e5', 'prod'))).toBe(
      'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod',
    )
    expect(defaultEndpoint('us-east-1', target('x', '$default'))).toBe(
      'https://x.execute-api.us-east-1.amazonaws.com/$default',
    )
  })

  it('fails with NO_ENDPOINT when the api id or stage is unknown', () => {
    for (const t of [target(null, 'prod'), target('abc', null), target(null, null)]) {
      expect(defaultEndpoint('eu-west-1', t)).toEqual({
        ok: false,
        code: 'NO_ENDPOINT',
        gone: false,
        retryable: false,
      })
    }
  })

  it.each([
    ['evil.com#', 'prod'],
    ['abc', 'prod/../../x'],
    ['abc@evil.com', 'prod'],
    ['', 'prod'],
    ['abc', ''],
  ])('refuses api id %j / stage %j that would change the URL', (apiId, stage) => {
    expect(defaultEndpoint('eu-west-1', target(apiId, stage))).toMatchObject({
      code: 'INVALID_ENDPOINT',
    })
  })

  test.prop([fc.string(), fc.string()])(
    'never yields a host other than the execute-api host of the region',
    (apiId, stage) => {
      const result = defaultEndpoint('eu-west-1', target(apiId, stage))
      if (typeof result !== 'string') return
      const url = new URL(result)
      expect(url.host).toBe(`${apiId}.execute-api.eu-west-1.amazonaws.com`)
      expect(url.pathname).toBe(`/${stage}`)
    },
  )
})

describe('normalizeEndpoint', () => {
  it('strips trailing slashes and keeps the base path', () => {
    expect(normalizeEndpoint('https://ws.example.com/chat/')).toBe('https://ws.example.com/chat')
    expect(normalizeEndpoint('https://ws.example.com//')).toBe('https://ws.example.com')
    expect(normalizeEndpoint('http://127.0.0.1:8080/local')).toBe('http://127.0.0.1:8080/local')
  })

  it.each([
    'ws.example.com/chat',
    'ftp://ws.example.com',
    'https://ws.example.com/chat?x=1',
    'https://ws.example.com/chat#x',
    'https://user:pw@ws.example.com',
    '',
  ])('refuses %j', (endpoint) => {
    expect(normalizeEndpoint(endpoint)).toBeNull()
  })
})

describe('isRegion', () => {
  it('accepts region names and refuses anything that could alter a host name', () => {
    expect(isRegion('eu-central-1')).toBe(true)
    expect(isRegion('us-gov-west-1')).toBe(true)
    expect(isRegion('eu-west-1.evil.com')).toBe(false)
    expect(isRegion('')).toBe(false)
    expect(isRegion(undefined)).toBe(false)
  })
})
