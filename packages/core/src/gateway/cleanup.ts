/**
 * The sweep: deletes expired and used tokens, ended rate-limit windows, and old connections,
 * batch by batch, until the store reports less than a full batch of every kind. Idempotent and
 * safe to run from several instances at once, because every store call is.
 */
import { DEFAULT_STALE_MS } from '../options.js'
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
    const counts = await store.cleanup(
      {
        batchSize,
        disconnectedBefore: now - retention.disconnectedRetentionMs,
        connectedBefore: now - retention.staleConnectionMs,
      },
      now,
    )
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

/** Options for {@link cleanupStore}: the sweep's reference time and batch, and the retention. */
export interface CleanupStoreOptions extends CleanupOptions, Partial<Retention> {}

/**
 * Sweeps `store` once, outside a gateway (a scheduled job, the `apigw-ws cleanup` command):
 * the same loop as `gateway.cleanup`, with the gateway's defaults for what is not given
 * (`now` = `Date.now()`, batches of 500, connections older than 2 h 10 min, disconnected
 * records deleted at once). Idempotent and safe to run from several processes at once.
 * Rejects with the store's error if a store call fails, and with `TypeError` for an invalid
 * option.
 */
export function cleanupStore(
  store: Store,
  options: CleanupStoreOptions = {},
): Promise<CleanupCounts> {
  const retention: Retention = {
    staleConnectionMs: options.staleConnectionMs ?? DEFAULT_STALE_MS,
    disconnectedRetentionMs: options.disconnectedRetentionMs ?? 0,
  }
  for (const [name, value] of Object.entries(retention)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      return Promise.reject(new TypeError(`cleanupStore: ${name} must be a non-negative integer`))
    }
  }
  const now = options.now ?? Date.now()
  if (!Number.isFinite(now)) {
    return Promise.reject(new TypeError('cleanupStore: now must be a finite number'))
  }
  return sweep(store, retention, now, options.batchSize)
}
