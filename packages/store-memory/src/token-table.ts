/**
 * The memory store's token table: connect-token records keyed by their SHA-256 hash (the token
 * itself never reaches the store), with a used flag so a token is consumable once. Methods are
 * synchronous, so `consume` is a single atomic check-and-mark within the process. A live token
 * is never dropped to make room: when the table is full only used and expired tokens go, and if
 * none can, `put` fails (the gateway then refuses to issue, 503).
 */
import type { TokenRecord } from '@apigw-ws/core'

interface TokenRow {
  readonly record: TokenRecord
  used: boolean
}

/** Thrown by `put` when the table is full of live tokens. */
export class TableFullError extends Error {
  constructor(table: string) {
    super(`memory store: the ${table} table is full (maxKeys)`)
    this.name = 'TableFullError'
  }
}

/** Token rows in insertion order. */
export class TokenTable {
  readonly #maxRows: number
  readonly #onFull: () => void
  readonly #rows = new Map<string, TokenRow>()

  constructor(maxRows: number, onFull: () => void) {
    this.#maxRows = maxRows
    this.#onFull = onFull
  }

  get size(): number {
    return this.#rows.size
  }

  /**
   * Stores a copy of `token`; `false` when the hash is already present (used or not). `latest`
   * is the latest time the store has been told: tokens that expired by then may make room.
   */
  put(token: TokenRecord, latest: number): boolean {
    if (this.#rows.has(token.hash)) return false
    if (this.#rows.size >= this.#maxRows && this.sweep(latest, 1) === 0) {
      this.#onFull()
      throw new TableFullError('token')
    }
    const record: TokenRecord = Object.freeze({
      hash: token.hash,
      userId: token.userId,
      sessionHash: token.sessionHash,
      channel: token.channel,
      expiresAt: token.expiresAt,
    })
    this.#rows.set(record.hash, { record, used: false })
    return true
  }

  consume(hash: string, sessionHash: string | null, now: number): TokenRecord | null {
    const row = this.#rows.get(hash)
    if (row === undefined || row.used) return null
    const { record } = row
    if (!(record.expiresAt > now)) return null
    if (record.sessionHash !== null && record.sessionHash !== sessionHash) return null
    row.used = true
    return record
  }

  /** Deletes up to `batchSize` used tokens or tokens with `expiresAt <= now`. */
  sweep(now: number, batchSize: number): number {
    let deleted = 0
    for (const [hash, row] of this.#rows) {
      if (deleted >= batchSize) break
      if (row.used || row.record.expiresAt <= now) {
        this.#rows.delete(hash)
        deleted += 1
      }
    }
    return deleted
  }

  /** Everything the table holds, as plain data. */
  dump(): unknown {
    return [...this.#rows.values()].map((row) => ({ ...row.record, used: row.used }))
  }
}
