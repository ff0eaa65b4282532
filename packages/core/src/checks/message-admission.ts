/**
 * Admission of a message: the stateful part of a message event as one `store.admitMessage` call
 * (the connection is touched, then its message limit counts one hit), after the body was read and
 * parsed. Unknown and disconnected connections are a client-side condition (404), never a 500,
 * and cost no hit; a message over the limit is refused with 429 and reported, and still counted
 * in the connection's `requestCount`, exactly as the two store calls one after the other would.
 */
import { guard } from '../failures.js'
import type { RateLimitRule } from '../options.js'
import { reject } from '../rejections.js'
import { type LimitRefusal, limitRefusal } from './rate-limits.js'
import type { RequestState, StepResult } from './request-state.js'

/** Limit scope (and key prefix) of the per-connection message limit. */
export const MESSAGE_SCOPE = 'message.connection'

/**
 * Builds the admission step of messages with the per-connection `rule` (`null` when disabled);
 * `onLimited` reports a refusal by the limit.
 */
export function messageAdmission<TUser>(
  rule: RateLimitRule | null,
  onLimited: (state: RequestState<TUser>, refusal: LimitRefusal, rule: RateLimitRule) => void,
): (state: RequestState<TUser>) => Promise<StepResult> {
  return async function admitMessage(state) {
    const connectionId = state.connectionId as string
    const { now } = state
    const limit = rule === null ? null : { key: `${MESSAGE_SCOPE}:${connectionId}`, rule }
    const result = await guard('store', () =>
      state.config.store.admitMessage({ connectionId, limit }, now),
    )
    if (result.admitted) {
      state.connection = result.connection
      state.userId = result.connection.userId
      return undefined
    }
    switch (result.code) {
      case 'CONNECTION_UNKNOWN':
        return reject('CONNECTION_UNKNOWN')
      case 'RATE_LIMITED': {
        // Only a limit that was asked for can refuse, and only with a hit it did not allow.
        const refusal = rule === null ? null : limitRefusal(MESSAGE_SCOPE, result.limit, now)
        if (refusal === null) return reject('STORE_UNAVAILABLE', 'admitMessage')
        onLimited(state, refusal, rule as RateLimitRule)
        return refusal.rejection
      }
      default:
        // A store answering something outside the contract is refused, never allowed.
        return reject('STORE_UNAVAILABLE', 'admitMessage')
    }
  }
}
