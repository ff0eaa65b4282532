/**
 * The memory store's token table: connect-token records keyed by their SHA-256 hash (the token
 * itself never reaches the store), with a used flag so a token is consumable once. Methods are
 * synchronous, so `consume` is a single atomic check-and-mark within the process.
 */
import type { TokenRecord } from '@apigw-ws/core'

interface TokenRow {
  readonly record: TokenRecord
  used: boolean
}

/** Token rows in insertion order (the eviction order). */
export class TokenTable {
  readonly #maxRows: number
  readonly #onEvict: () => void
  readonly #rows = new Map<string, TokenRow>()
  /** Hashes of used tokens in consumption order: dead weight, evicted before unused tokens. */
  readonly #used = new Set<string>()

  constructor(maxRows: number, onEvict: () => void) {
    this.#maxRows = maxRows
    this.#onEvict = onEvict
  }

  get size(): number {
    return this.#rows.size
  }

  /** Stores a copy of `token`; throws when the hash is already present (used or not). */
  put(token: TokenRecord): void {
    if (this.#rows.has(token.hash)) {
      throw new Error('tokens.put: a token with this hash already exists')
    }
    if (this.#rows.size >= this.#maxRows) this.#evictOne()
    const record: TokenRecord = Object.freeze({
      hash: token.hash,
      userId: token.userId,
      sessionHash: token.sessionHash,
      channel: token.channel,
      expiresAt: token.expiresAt,
    })
    this.#rows.set(record.hash, { record, used: false })
  }

  consume(hash: string, sessionHash: string | null, now: number): TokenRecord | null {
    const row = this.#rows.get(hash)
    if (row === undefined || row.used) return null
    const { record } = row
    if (!(record.expiresAt > now)) return null
    if (record.sessionHash !== null && record.sessionHash !== sessionHash) return null
    row.used = true
    this.#used.add(hash)
    return record
  }

  /** Deletes up to `batchSize` used tokens or tokens with `expiresAt <= now`. */
  sweep(now: number, batchSize: number): number {
    let deleted = 0
    for (const [hash, row] of this.#rows) {
      if (deleted >= batchSize) break
      if (row.used || row.record.expiresAt <= now) {
        this.#rows.delete(hash)
        this.#used.delete(hash)
        deleted += 1
      }
    }
    return deleted
  }

  /** Everything the table holds, as plain data. */
  dump(): unknown {
    return [...this.#rows.values()].map((row) => ({ ...row.record, used: row.used }))
  }

  /**
   * Frees one row: the longest-used token if any, else the oldest token (with one TTL for all
   * tokens, also the first to expire).
   */
  #evictOne(): void {
    const [usedHash] = this.#used
    const hash = usedHash ?? this.#rows.keys().next().value
    if (hash === undefined) return
    this.#rows.delete(hash)
    this.#used.delete(hash)
    this.#onEvict()
  }
}
