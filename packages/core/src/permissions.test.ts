import { describe, expect, it } from 'vitest'
import { normalizePermissions, type Permissions, satisfies } from './permissions.js'

function holder(granted: readonly string[]) {
  const asked: string[] = []
  const check = async (permission: string) => {
    asked.push(permission)
    return granted.includes(permission)
  }
  return { check, asked }
}

function requirement(value: Permissions): Permissions {
  return normalizePermissions(value, 'permissions') as Permissions
}

describe('normalizePermissions', () => {
  it('returns null when nothing is required', () => {
    expect(normalizePermissions(undefined, 'permissions')).toBeNull()
  })

  it('copies and freezes both lists', () => {
    const anyOf = ['a']
    const result = normalizePermissions({ anyOf }, 'permissions')
    anyOf.push('b')
    expect(result).toEqual({ anyOf: ['a'], allOf: [] })
    expect(Object.isFrozen(result)).toBe(true)
    expect(Object.isFrozen(result?.anyOf)).toBe(true)
    expect(Object.isFrozen(result?.allOf)).toBe(true)
  })

  it.each([
    [{}, 'handlers.chat.permissions must list at least one permission'],
    [{ anyOf: [], allOf: [] }, 'handlers.chat.permissions must list at least one permission'],
    [{ anyOf: 'admin' }, 'handlers.chat.permissions.anyOf'],
    [{ allOf: [''] }, 'handlers.chat.permissions.allOf'],
    [{ allOf: [1] }, 'handlers.chat.permissions.allOf'],
  ])('refuses %j with a TypeError naming the option', (value, message) => {
    expect(() => normalizePermissions(value as Permissions, 'handlers.chat.permissions')).toThrow(
      TypeError,
    )
    expect(() => normalizePermissions(value as Permissions, 'handlers.chat.permissions')).toThrow(
      message,
    )
  })
})

describe('satisfies', () => {
  it('anyOf: at least one', async () => {
    const req = requirement({ anyOf: ['a', 'b'] })
    expect(await satisfies(req, holder(['b']).check)).toBe(true)
    expect(await satisfies(req, holder(['c']).check)).toBe(false)
  })

  it('allOf: every one', async () => {
    const req = requirement({ allOf: ['a', 'b'] })
    expect(await satisfies(req, holder(['a', 'b']).check)).toBe(true)
    expect(await satisfies(req, holder(['a']).check)).toBe(false)
  })

  it.each([
    [['a', 'c'], true],
    [['b', 'c'], true],
    [['c'], false],
    [['a'], false],
    [['a', 'b'], false],
    [[], false],
  ])('anyOf [a, b] and allOf [c] are both enforced: holding %j → %s', async (granted, expected) => {
    const req = requirement({ anyOf: ['a', 'b'], allOf: ['c'] })
    expect(await satisfies(req, holder(granted).check)).toBe(expected)
  })

  it('an anonymous subject fails every requirement', async () => {
    expect(await satisfies(requirement({ anyOf: ['a'] }), null)).toBe(false)
    expect(await satisfies(requirement({ allOf: ['a'] }), null)).toBe(false)
  })

  it('only `true` grants: truthy values do not', async () => {
    const req = requirement({ anyOf: ['a'] })
    for (const value of [1, 'yes', {}, [true]]) {
      expect(await satisfies(req, () => value as unknown as boolean)).toBe(false)
    }
    expect(await satisfies(req, () => true)).toBe(true)
  })

  it('stops asking once the outcome is known', async () => {
    const denied = holder([])
    await satisfies(requirement({ anyOf: ['a', 'b'], allOf: ['c', 'd'] }), denied.check)
    expect(denied.asked).toEqual(['c'])
    const granted = holder(['c', 'd', 'a', 'b'])
    await satisfies(requirement({ anyOf: ['a', 'b'], allOf: ['c', 'd'] }), granted.check)
    expect(granted.asked).toEqual(['c', 'd', 'a'])
  })

  it('accepts synchronous checks', async () => {
    expect(await satisfies(requirement({ allOf: ['a'] }), (p) => p === 'a')).toBe(true)
  })
})
