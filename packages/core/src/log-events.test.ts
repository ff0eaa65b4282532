/**
 * `logEvents()`: real gateway events become one escaped line each with code, route and detail,
 * never the token or the secret; client-chosen text cannot add lines or control characters
 * (property test); fields the reporter does not know are never printed.
 */
import { fc, test } from '@fast-check/vitest'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { setup } from '../test/gateway-kit.js'
import type { GatewayEvent, RequestRejectedEvent } from './events.js'
import { formatEvent, logEvents } from './log-events.js'
import { httpRequests } from './testing/requests.js'

// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

function rejected(fields: Partial<RequestRejectedEvent>): RequestRejectedEvent {
  return {
    type: 'request.rejected',
    at: 0,
    route: '$default',
    code: 'HANDLER_UNKNOWN',
    status: 400,
    connectionId: null,
    ip: null,
    detail: null,
    ...fields,
  }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('logEvents', () => {
  it('writes code, route, status and detail of real refusals, and never the token or secret', async () => {
    const lines: string[] = []
    const kit = setup({ onEvent: logEvents({ write: (line) => lines.push(line) }) })
    const { connectionId } = await kit.connect({ userId: 'ann' })
    const token = await kit.issue('bob')
    const wrongSecret = 'wrong-secret-abcdefghijklmnop'
    await kit.gateway.handle(httpRequests({ secret: wrongSecret }).connect({ token }))

    expect(lines).toContainEqual(expect.stringMatching(/^apigw-ws token\.issued .*userId=ann/))
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`^apigw-ws connect\\.accepted .*connectionId=${connectionId} userId=ann`),
      ),
    )
    const refusal = lines.find((line) => line.startsWith('apigw-ws request.rejected'))
    expect(refusal).toMatch(/ code=SECRET_INVALID route=\$connect status=403( |$)/)
    const all = lines.join('\n')
    expect(all).not.toContain(token)
    expect(all).not.toContain(wrongSecret)
    expect(all).not.toContain('integration-secret-0123456789')
  })

  it('prints detail, counts and channels, and skips empty fields', () => {
    expect(formatEvent(rejected({ detail: 'no handler', ip: '203.0.113.9' }))).toBe(
      'apigw-ws request.rejected code=HANDLER_UNKNOWN route=$default status=400 ' +
        'detail="no handler" ip=203.0.113.9',
    )
    expect(
      formatEvent({
        type: 'connect.accepted',
        at: 0,
        connectionId: 'abc=',
        userId: 'ann',
        channels: ['a', 'b'],
        ip: null,
      }),
    ).toBe('apigw-ws connect.accepted connectionId=abc= userId=ann channels=a,b')
  })

  it('never prints a field it does not know', () => {
    const event = { ...rejected({}), token: 'CANARY-TOKEN', cookie: 'CANARY-COOKIE' }
    expect(formatEvent(event as GatewayEvent)).not.toContain('CANARY')
  })

  test.prop({ route: fc.string(), detail: fc.string(), ip: fc.string() })(
    'client-chosen text stays on one line without control characters',
    ({ route, detail, ip }) => {
      const line = formatEvent(rejected({ route, detail, ip }))
      expect(line).not.toMatch(CONTROL)
      // Every printed value is either bare (no space, quote or backslash) or one quoted, escaped
      // string, so the line splits back into its fields.
      const rest = line.slice('apigw-ws request.rejected '.length)
      expect(rest).toMatch(/^([a-zA-Z]+=([^\s"\\]+|"([^"\\]|\\.)*")( |$))+$/)
    },
  )

  it('reports refusals with console.warn and the rest with console.info by default', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const info = vi.spyOn(console, 'info').mockImplementation(() => {})
    const listener = logEvents()
    listener(rejected({}))
    listener({ type: 'message.handled', at: 0, connectionId: 'c', handler: 'chat' })
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('request.rejected'))
    expect(info).toHaveBeenCalledWith(expect.stringContaining('message.handled handler=chat'))
  })

  it("reports only refusals with only: 'refusals', and survives a throwing write", () => {
    const lines: string[] = []
    const listener = logEvents({ only: 'refusals', write: (line) => lines.push(line) })
    listener({ type: 'message.handled', at: 0, connectionId: 'c', handler: 'chat' })
    listener(rejected({}))
    expect(lines).toHaveLength(1)
    const throwing = logEvents({
      write: () => {
        throw new Error('disk full')
      },
    })
    expect(() => throwing(rejected({}))).not.toThrow()
  })
})
