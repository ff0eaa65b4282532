/**
 * The sweep: deletes expired and used tokens, ended rate-limit windows, and old connections,
 * batch by batch, until the store reports less than a full batch of every kind. Idempotent and
 * safe to run from several instances at once, because every store call is.
 */
import type { CleanupCounts, Store } from '../store.js'

/** Options for `cleanup`. */
export interface CleanupOptions {
  /** Reference time (default: the gateway clock). */
  readonly now?: number
  /** Rows per kind deleted per store call. Default 500. */
  readonly batchSize?: number
}

/** How long records are kept, from the gateway's configuration. */
export interface Retention {
  /** Connections connected at or before `now - staleConnectionMs` are deleted. */
  readonly staleConnectionMs: number
  /** Disconnected connections are deleted this long after `disconnectedAt`. */
  readonly disconnectedRetentionMs: number
}

/** Upper bound on store calls per sweep, so a store that never drains cannot loop forever. */
const MAX_ROUNDS = 1_000
const DEFAULT_BATCH_SIZE = 500

/** Runs one sweep of `store` at `now`; resolves the counts deleted. */
export async function sweep(
  store: Store,
  retention: Retention,
  now: number,
  batchSize: number = DEFAULT_BATCH_SIZE,
): Promise<CleanupCounts> {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new TypeError('cleanup: batchSize must be a positive integer')
  }
  const total = { tokens: 0, rateLimits: 0, connections: 0 }
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const counts = await store.cleanup({
      now,
      batchSize,
      disconnectedBefore: now - retention.disconnectedRetentionMs,
      connectedBefore: now - retention.staleConnectionMs,
    })
    total.tokens += counts.tokens
    total.rateLimits += counts.rateLimits
    total.connections += counts.connections
    if (
      counts.tokens < batchSize &&
      counts.rateLimits < batchSize &&
      counts.connections < batchSize
    ) {
      break
    }
  }
  return total
}
