/**
 * An ordered set of connection ids, the index behind keyset pagination. Ids are kept in binary
 * (UTF-16 code unit) order in a list of sorted blocks of bounded size: insert, delete and "first
 * id after the cursor" cost O(log n + block size) instead of the O(n) of one flat sorted array,
 * and no operation ever sorts the whole set. Blocks are merged when they shrink, so the number
 * of blocks stays proportional to the number of ids however much the set churns.
 */

/** A block splits in two when it grows past this many ids. */
const MAX_BLOCK = 512
/** A block merges with a neighbour when a delete leaves it below this many ids. */
const MIN_BLOCK = 128

/** Index of the first element `>= id` (or `> id` when `strict`), in a sorted array. */
function search(block: readonly string[], id: string, strict: boolean): number {
  let lo = 0
  let hi = block.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const value = block[mid] as string
    if (value < id || (strict && value === id)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** One page of ids after a cursor, and whether more ids follow it. */
export interface IdPage {
  readonly ids: string[]
  readonly hasMore: boolean
}

/** A sorted set of strings with keyset paging. Synchronous; not safe to share across threads. */
export class SortedIdSet {
  /** Non-empty sorted blocks; every id in block i is below every id in block i + 1. */
  readonly #blocks: string[][] = []
  #size = 0

  /** Number of ids in the set. */
  get size(): number {
    return this.#size
  }

  /** Adds `id`; `false` when it was already present. */
  add(id: string): boolean {
    const blocks = this.#blocks
    if (blocks.length === 0) {
      blocks.push([id])
      this.#size = 1
      return true
    }
    const b = this.#blockFor(id, false)
    const block = blocks[b] as string[]
    const i = search(block, id, false)
    if (block[i] === id) return false
    block.splice(i, 0, id)
    this.#size += 1
    if (block.length > MAX_BLOCK) blocks.splice(b + 1, 0, block.splice(block.length >>> 1))
    return true
  }

  /** Removes `id`; `false` when it was not present. */
  delete(id: string): boolean {
    const blocks = this.#blocks
    if (blocks.length === 0) return false
    const b = this.#blockFor(id, false)
    const block = blocks[b] as string[]
    const i = search(block, id, false)
    if (block[i] !== id) return false
    block.splice(i, 1)
    this.#size -= 1
    if (block.length === 0) {
      blocks.splice(b, 1)
    } else if (block.length < MIN_BLOCK && blocks.length > 1) {
      // Merge with a neighbour (splitting again if that overfills) so blocks never dwindle
      // into many tiny ones, which would make the block list itself the O(n) part.
      const left = b + 1 < blocks.length ? b : b - 1
      const merged = (blocks[left] as string[]).concat(blocks[left + 1] as string[])
      if (merged.length > MAX_BLOCK) {
        const half = merged.length >>> 1
        blocks.splice(left, 2, merged.slice(0, half), merged.slice(half))
      } else {
        blocks.splice(left, 2, merged)
      }
    }
    return true
  }

  /** `true` when `id` is in the set. */
  has(id: string): boolean {
    if (this.#blocks.length === 0) return false
    const block = this.#blocks[this.#blockFor(id, false)] as string[]
    return block[search(block, id, false)] === id
  }

  /**
   * Up to `limit` ids strictly greater than `after` (from the smallest when `after` is `null`),
   * in ascending order, and whether at least one more id follows them. `after` need not be in
   * the set, so a page still continues correctly after its last id was deleted.
   */
  page(after: string | null, limit: number): IdPage {
    const blocks = this.#blocks
    const ids: string[] = []
    let b = 0
    let i = 0
    if (after !== null) {
      b = this.#blockFor(after, true)
      const block = blocks[b]
      if (block === undefined) return { ids, hasMore: false }
      i = search(block, after, true)
    }
    for (; b < blocks.length; b += 1, i = 0) {
      const block = blocks[b] as string[]
      for (; i < block.length; i += 1) {
        if (ids.length === limit) return { ids, hasMore: true }
        ids.push(block[i] as string)
      }
    }
    return { ids, hasMore: false }
  }

  /** All ids in ascending order (a copy). */
  toArray(): string[] {
    return this.#blocks.flat()
  }

  /**
   * Index of the first block whose last id is `>= id` (`> id` when `strict`). When none is,
   * the last block for a non-strict search (where a new largest id belongs) and `length` for a
   * strict one (nothing follows).
   */
  #blockFor(id: string, strict: boolean): number {
    const blocks = this.#blocks
    let lo = 0
    let hi = blocks.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const last = (blocks[mid] as string[])[(blocks[mid] as string[]).length - 1] as string
      if (last < id || (strict && last === id)) lo = mid + 1
      else hi = mid
    }
    return strict ? lo : Math.min(lo, blocks.length - 1)
  }
}
