/**
 * Rate-limit steps. Each counts the attempt in the store in one atomic step before deciding, so
 * failed attempts count too and concurrent requests cannot slip past the limit. Keys are
 * namespaced per scope so limits never share counters.
 */

import { guard } from '../failures.js'
import type { RateLimitRule } from '../options.js'
import type { Rejection } from '../rejections.js'
import type { LimitResult, Store } from '../store.js'

/** Outcome of a limit hit that refused the request. */
export interface LimitRefusal {
  readonly rejection: Rejection
  readonly count: number
  readonly resetAt: number
}

/** The refusal for a hit that `result` did not allow under `scope`, or `null` when allowed. */
export function limitRefusal(scope: string, result: LimitResult, now: number): LimitRefusal | null {
  if (result.allowed) return null
  const retryAfterSeconds = Math.max(1, Math.ceil((result.resetAt - now) / 1000))
  return {
    rejection: { code: 'RATE_LIMITED', detail: scope, retryAfterSeconds },
    count: result.count,
    resetAt: result.resetAt,
  }
}

/** Counts one hit for `scope:id` and returns a refusal when over the limit. */
export async function hitLimit(
  store: Store,
  scope: string,
  id: string,
  rule: RateLimitRule,
  now: number,
): Promise<LimitRefusal | null> {
  const result = await guard('store', () => store.limits.hit(`${scope}:${id}`, rule, now))
  return limitRefusal(scope, result, now)
}
