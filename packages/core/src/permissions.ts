/**
 * Permission requirements: `{ anyOf, allOf }`. A requirement holds when at least one `anyOf`
 * permission holds (if any are listed) **and** every `allOf` permission holds (if any are
 * listed); both lists are enforced when both are set. Anonymous subjects fail every non-empty
 * requirement, and a requirement that names nothing is rejected at construction.
 */

/** A permission requirement. At least one list must be non-empty. */
export interface Permissions {
  readonly anyOf?: readonly string[] | undefined
  readonly allOf?: readonly string[] | undefined
}

/** Checks one permission for a subject. */
export type PermissionCheck = (permission: string) => boolean | Promise<boolean>

/** Validates and freezes a requirement; throws `TypeError` naming `optionName` when malformed. */
export function normalizePermissions(
  value: Permissions | undefined,
  optionName: string,
): Permissions | null {
  if (value === undefined) return null
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${optionName} must be { anyOf?, allOf? }`)
  }
  const anyOf = value.anyOf ?? []
  const allOf = value.allOf ?? []
  for (const [list, name] of [
    [anyOf, 'anyOf'],
    [allOf, 'allOf'],
  ] as const) {
    if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p.length === 0)) {
      throw new TypeError(`${optionName}.${name} must be an array of non-empty strings`)
    }
  }
  if (anyOf.length === 0 && allOf.length === 0) {
    throw new TypeError(`${optionName} must list at least one permission in anyOf or allOf`)
  }
  return Object.freeze({ anyOf: Object.freeze([...anyOf]), allOf: Object.freeze([...allOf]) })
}

/**
 * Evaluates a normalized requirement. `check` is `null` for anonymous subjects, which fail.
 * Checks run sequentially and stop as soon as the outcome is known.
 */
export async function satisfies(
  requirement: Permissions,
  check: PermissionCheck | null,
): Promise<boolean> {
  if (check === null) return false
  for (const permission of requirement.allOf ?? []) {
    if ((await check(permission)) !== true) return false
  }
  const anyOf = requirement.anyOf ?? []
  if (anyOf.length === 0) return true
  for (const permission of anyOf) {
    if ((await check(permission)) === true) return true
  }
  return false
}
