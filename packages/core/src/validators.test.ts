import { describe, expect, it } from 'vitest'
import {
  isChannel,
  isConnectionId,
  isHandlerName,
  MAX_CHANNEL_LENGTH,
  MAX_CONNECTION_ID_LENGTH,
  MAX_HANDLER_NAME_LENGTH,
} from './validators.js'

describe('isConnectionId', () => {
  it('accepts API Gateway ids and anything in ^[A-Za-z0-9_=-]{1,128}$', () => {
    expect(isConnectionId('TXzPWdnOjoECGjA=')).toBe(true)
    expect(isConnectionId('a')).toBe(true)
    expect(isConnectionId('a_b-c=')).toBe(true)
    expect(isConnectionId('x'.repeat(MAX_CONNECTION_ID_LENGTH))).toBe(true)
  })

  it.each([
    ['empty', ''],
    ['129 characters', 'x'.repeat(129)],
    ['a space', 'abc def'],
    ['a slash', 'abc/def'],
    ['a dot', 'abc.def'],
    ['a plus', 'abc+def'],
    ['a newline', 'abc\n'],
    ['non-ASCII', 'abcé'],
    ['a megabyte', 'x'.repeat(1_000_000)],
  ])('refuses %s', (_name, value) => {
    expect(isConnectionId(value)).toBe(false)
  })

  it.each([undefined, null, 42, {}, ['abc']])('refuses the non-string %j', (value) => {
    expect(isConnectionId(value)).toBe(false)
  })
})

describe('isChannel', () => {
  it('accepts ^[A-Za-z0-9_-]{1,128}$ and the limit is the storage column (128)', () => {
    expect(MAX_CHANNEL_LENGTH).toBe(128)
    expect(isChannel('room_123')).toBe(true)
    expect(isChannel('a-b_C9')).toBe(true)
    expect(isChannel('c'.repeat(128))).toBe(true)
  })

  it.each([
    ['empty', ''],
    ['129 characters', 'c'.repeat(129)],
    ['191 characters (the reference limit)', 'c'.repeat(191)],
    ['an equals sign', 'room='],
    ['a space', 'room 1'],
    ['a colon', 'room:1'],
    ['a path', '../room'],
    ['a percent', 'room%20'],
  ])('refuses %s', (_name, value) => {
    expect(isChannel(value)).toBe(false)
  })

  it.each([undefined, null, 1, { length: 3 }])('refuses the non-string %j', (value) => {
    expect(isChannel(value)).toBe(false)
  })
})

describe('isHandlerName', () => {
  it('accepts names that start with a letter, up to 64 characters', () => {
    expect(isHandlerName('chat')).toBe(true)
    expect(isHandlerName('sendMessage_v2-b')).toBe(true)
    expect(isHandlerName('h'.repeat(MAX_HANDLER_NAME_LENGTH))).toBe(true)
  })

  it.each([
    '',
    '_private',
    '__proto__',
    '123',
    '1abc',
    '-x',
    'a b',
    'a.b',
    '$default',
    'h'.repeat(65),
  ])('refuses %j', (value) => {
    expect(isHandlerName(value)).toBe(false)
  })

  it.each([undefined, null, 5, ['chat']])('refuses the non-string %j', (value) => {
    expect(isHandlerName(value)).toBe(false)
  })
})
