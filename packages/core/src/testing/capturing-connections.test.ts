import { describe, expect, it } from 'vitest'
import type { ConnectionTarget } from '../send/transport.js'
import { capturingConnections } from './capturing-connections.js'

const target = (connectionId: string): ConnectionTarget => ({
  connectionId,
  apiId: 'api1',
  stage: 'test',
  domainName: null,
})
const bytes = (text: string) => new TextEncoder().encode(text)

describe('capturingConnections', () => {
  it('records every call with its target, bytes and decoded text', async () => {
    const transport = capturingConnections()
    const data = bytes('{"n":1}')
    expect(await transport.post(target('a'), data)).toEqual({ ok: true })
    data[0] = 0
    await transport.get(target('a'))
    await transport.delete(target('b'))
    expect(transport.calls).toEqual([
      {
        operation: 'post',
        connectionId: 'a',
        target: target('a'),
        data: bytes('{"n":1}'),
        text: '{"n":1}',
        result: { ok: true },
      },
      expect.objectContaining({ operation: 'get', connectionId: 'a', data: null, text: null }),
      expect.objectContaining({ operation: 'delete', connectionId: 'b', data: null }),
    ])
    expect(transport.messages('a')).toEqual(['{"n":1}'])
    expect(transport.json('a')).toEqual([{ n: 1 }])
  })

  it('plays scripted outcomes in order and repeats the last one', async () => {
    const transport = capturingConnections()
    transport.script('a', 'throttled', 'delivered')
    transport.script('b', 'gone')
    transport.script('c', { code: 'HTTP_418', retryable: false, status: 418 })
    expect(await transport.post(target('a'), bytes('1'))).toMatchObject({
      ok: false,
      code: 'LimitExceededException',
      retryable: true,
    })
    expect(await transport.post(target('a'), bytes('2'))).toEqual({ ok: true })
    expect(await transport.post(target('a'), bytes('3'))).toEqual({ ok: true })
    expect(transport.messages('a')).toEqual(['2', '3'])
    for (let i = 0; i < 2; i++) {
      expect(await transport.post(target('b'), bytes('x'))).toEqual({
        ok: false,
        code: 'GoneException',
        gone: true,
        retryable: false,
        status: 410,
      })
    }
    expect(await transport.get(target('c'))).toEqual({
      ok: false,
      code: 'HTTP_418',
      gone: false,
      retryable: false,
      status: 418,
    })
    expect(transport.messages('b')).toEqual([])
  })

  it.each([
    ['forbidden', 'ForbiddenException', false],
    ['too-large', 'PayloadTooLargeException', false],
    ['server-error', 'InternalServerErrorException', true],
    ['aborted', 'ABORTED', true],
  ] as const)('maps %s to %s', async (outcome, code, retryable) => {
    const transport = capturingConnections()
    transport.script('a', outcome)
    expect(await transport.post(target('a'), bytes('x'))).toMatchObject({
      ok: false,
      code,
      retryable,
    })
  })

  it('answers GetConnection with the configured info', async () => {
    const transport = capturingConnections({ info: { sourceIp: '198.51.100.1', connectedAt: 7 } })
    expect(await transport.get(target('a'))).toEqual({
      ok: true,
      connectedAt: 7,
      lastActiveAt: null,
      sourceIp: '198.51.100.1',
      userAgent: null,
    })
  })

  it('reports gone after a delivered DeleteConnection, like API Gateway', async () => {
    const transport = capturingConnections()
    expect(await transport.delete(target('a'))).toEqual({ ok: true })
    expect(await transport.post(target('a'), bytes('x'))).toMatchObject({ gone: true })
    transport.reset()
    expect(transport.calls).toEqual([])
    expect(await transport.post(target('a'), bytes('x'))).toEqual({ ok: true })
  })

  it('resolves ABORTED for an aborted signal without consuming the script', async () => {
    const transport = capturingConnections()
    transport.script('a', 'forbidden', 'delivered')
    expect(await transport.post(target('a'), bytes('x'), AbortSignal.abort())).toMatchObject({
      code: 'ABORTED',
      retryable: true,
    })
    expect(await transport.post(target('a'), bytes('x'))).toMatchObject({
      code: 'ForbiddenException',
    })
  })

  it('keeps each instance separate', async () => {
    const one = capturingConnections()
    const two = capturingConnections()
    one.script('a', 'gone')
    await one.post(target('a'), bytes('x'))
    expect(two.calls).toEqual([])
    expect(await two.post(target('a'), bytes('x'))).toEqual({ ok: true })
  })
})
