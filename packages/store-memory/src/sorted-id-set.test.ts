import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { SortedIdSet } from './sorted-id-set.js'

/** Ids from a small alphabet mixing cases and symbols, so binary order and collisions matter. */
const idArb = fc.string({
  unit: fc.constantFrom('a', 'B', 'b', 'Z', '0', '9', '_', '-', '='),
  minLength: 1,
  maxLength: 4,
})

const opArb = fc.oneof(
  fc.record({ op: fc.constant('add' as const), id: idArb }),
  fc.record({ op: fc.constant('delete' as const), id: idArb }),
)

/** Pages through the whole set and returns the concatenation, checking each page's shape. */
function pageAll(set: SortedIdSet, limit: number): string[] {
  const out: string[] = []
  let after: string | null = null
  for (let pages = 0; pages <= set.size + 1; pages += 1) {
    const page = set.page(after, limit)
    expect(page.ids.length).toBeLessThanOrEqual(limit)
    out.push(...page.ids)
    if (!page.hasMore) return out
    expect(page.ids.length).toBe(limit)
    after = page.ids[page.ids.length - 1] as string
  }
  throw new Error('paging did not terminate')
}

describe('SortedIdSet', () => {
  test.prop([fc.array(opArb, { maxLength: 300 }), fc.integer({ min: 1, max: 7 })])(
    'behaves like a sorted array of unique ids under any add/delete sequence',
    (ops, limit) => {
      const set = new SortedIdSet()
      const model = new Set<string>()
      for (const { op, id } of ops) {
        if (op === 'add') {
          expect(set.add(id)).toBe(!model.has(id))
          model.add(id)
        } else {
          expect(set.delete(id)).toBe(model.has(id))
          model.delete(id)
        }
      }
      const sorted = [...model].sort()
      expect(set.size).toBe(model.size)
      expect(set.toArray()).toEqual(sorted)
      expect(pageAll(set, limit)).toEqual(sorted)
      for (const id of sorted) expect(set.has(id)).toBe(true)
    },
  )

  test.prop([fc.uniqueArray(idArb, { maxLength: 60 }), idArb, fc.integer({ min: 1, max: 10 })])(
    'page(after) starts strictly after a cursor that need not be a member',
    (ids, after, limit) => {
      const set = new SortedIdSet()
      for (const id of ids) set.add(id)
      const expected = ids.filter((id) => id > after).sort()
      const page = set.page(after, limit)
      expect(page.ids).toEqual(expected.slice(0, limit))
      expect(page.hasMore).toBe(expected.length > limit)
    },
  )

  it('keeps order across block splits and merges with thousands of ids', () => {
    const set = new SortedIdSet()
    const ids = Array.from({ length: 5_000 }, (_, i) => `id-${((i * 7_919) % 5_000).toString(36)}`)
    for (const id of ids) set.add(id)
    const sorted = [...new Set(ids)].sort()
    expect(set.toArray()).toEqual(sorted)
    // Delete four of every five ids, scattered, so most blocks shrink below the merge threshold.
    const kept = sorted.filter((_, i) => i % 5 === 0)
    for (const [i, id] of sorted.entries()) if (i % 5 !== 0) expect(set.delete(id)).toBe(true)
    expect(set.size).toBe(kept.length)
    expect(pageAll(set, 97)).toEqual(kept)
    for (const id of kept) expect(set.delete(id)).toBe(true)
    expect(set.size).toBe(0)
    expect(set.page(null, 10)).toEqual({ ids: [], hasMore: false })
  })

  it('reports no more ids when the cursor is past the largest id', () => {
    const set = new SortedIdSet()
    set.add('a')
    set.add('b')
    expect(set.page('b', 5)).toEqual({ ids: [], hasMore: false })
    expect(set.page('zz', 5)).toEqual({ ids: [], hasMore: false })
    expect(set.page('a', 1)).toEqual({ ids: ['b'], hasMore: false })
    expect(set.page(null, 1)).toEqual({ ids: ['a'], hasMore: true })
  })
})
