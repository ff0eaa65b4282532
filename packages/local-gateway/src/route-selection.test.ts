import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  AUTO_ROUTE_KEY,
  createRouteSelector,
  parseRouteSelectionExpression,
} from './route-selection.js'

describe('parseRouteSelectionExpression', () => {
  it('accepts dotted body paths', () => {
    expect(parseRouteSelectionExpression('$request.body.action')).toEqual(['action'])
    expect(parseRouteSelectionExpression('$request.body.meta.type')).toEqual(['meta', 'type'])
  })

  it.each([
    'action',
    '$request.body',
    '$request.body.',
    '$request.body.a..b',
    '$request.body.items[0]',
    '$request.body.*',
    '$request.header.x',
    '$request.querystring.action',
  ])('rejects %j with a TypeError', (expression) => {
    expect(() => parseRouteSelectionExpression(expression)).toThrow(TypeError)
  })
})

describe('createRouteSelector', () => {
  const auto = createRouteSelector('$request.body.action', undefined)

  it.each([
    ['{"action":"chat"}', 'chat'],
    ['  {"action":"a_b-1"}', 'a_b-1'],
    ['{"action":"$connect"}', '$default'],
    ['{"action":"disconnect"}', '$default'],
    ['{"action":"Disconnect"}', '$default'],
    ['{"action":"connect"}', '$default'],
    ['{"action":"default"}', '$default'],
    ['{"action":"DEFAULT"}', '$default'],
    ['{"action":"x/y"}', '$default'],
    [`{"action":"${'a'.repeat(129)}"}`, '$default'],
    ['{"action":null}', '$default'],
    ['{"action":true}', '$default'],
    ['{"other":"chat"}', '$default'],
    ['"chat"', '$default'],
    ['{', '$default'],
    ['hello', '$default'],
  ])('%j → %s', (text, route) => {
    expect(auto(text)).toBe(route)
  })

  it('never follows prototype properties', () => {
    const proto = createRouteSelector('$request.body.constructor.name', undefined)
    expect(proto('{}')).toBe('$default')
    expect(proto('{"constructor":{"name":"ok"}}')).toBe('ok')
    const viaProto = createRouteSelector('$request.body.__proto__.action', undefined)
    expect(viaProto('{"__proto__":{"action":"chat"}}')).toBe('chat')
    expect(viaProto('{"action":"chat"}')).toBe('$default')
  })

  it('with a route list, routes only listed keys', () => {
    const listed = createRouteSelector('$request.body.action', new Set(['chat', 'with space']))
    expect(listed('{"action":"chat"}')).toBe('chat')
    expect(listed('{"action":"with space"}')).toBe('with space')
    expect(listed('{"action":"join"}')).toBe('$default')
  })

  test.prop([fc.string({ maxLength: 300 })])('any text selects $default or a valid key', (text) => {
    const route = auto(text)
    expect(route === '$default' || AUTO_ROUTE_KEY.test(route)).toBe(true)
  })

  test.prop([fc.jsonValue({ maxDepth: 4 })])(
    'any JSON value selects its own string action or $default',
    (value) => {
      const text = JSON.stringify(value)
      const action =
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.hasOwn(value, 'action')
          ? (value as Record<string, unknown>).action
          : undefined
      const expected =
        typeof action === 'string' && AUTO_ROUTE_KEY.test(action) ? action : '$default'
      expect(auto(text)).toBe(expected)
    },
  )
})
