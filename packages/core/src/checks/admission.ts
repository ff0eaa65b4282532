/**
 * Admission on `$connect`: the stateful part of a connect as one `store.admit` call (connect
 * limit per client address, token consume, connect limit per user, connection create), after the
 * stateless checks before it passed. When one of those stateless checks refuses, the attempt is
 * still counted against the client address (and the limit answers first when it is exceeded),
 * so that every attempt counts, failed ones included, exactly as if the limit ran first.
 */
import type { GatewayEvent } from '../events.js'
import { guard } from '../failures.js'
import type { RateLimitRule } from '../options.js'
import { reject } from '../rejections.js'
import { hitLimit, limitRefusal } from './rate-limits.js'
import type { RequestState, Step, StepResult } from './request-state.js'

/** Limit scopes (and key prefixes) of the connect limits. */
const IP_SCOPE = 'connect.ip'
const USER_SCOPE = 'connect.user'

/** Builds the admission step, running `before` (stateless checks) first. */
export function admission<TUser>(
  before: readonly Step<TUser>[],
  rules: { readonly ip: RateLimitRule | null; readonly user: RateLimitRule | null },
  emit: (event: GatewayEvent) => void,
): Step<TUser> {
  const limited = (
    state: RequestState<TUser>,
    scope: string,
    rule: RateLimitRule,
    count: number,
    resetAt: number,
  ) => emit({ type: 'rate.limited', at: state.now, scope, count, limit: rule.limit, resetAt })

  /** Counts a refused attempt against the address; the limit's refusal wins when exceeded. */
  async function countRefused(state: RequestState<TUser>): Promise<StepResult> {
    const key = state.address?.key ?? null
    if (rules.ip === null || key === null) return undefined
    const refusal = await hitLimit(state.config.store, IP_SCOPE, key, rules.ip, state.now)
    if (refusal === null) return undefined
    limited(state, IP_SCOPE, rules.ip, refusal.count, refusal.resetAt)
    return refusal.rejection
  }

  async function stateless(state: RequestState<TUser>): Promise<StepResult> {
    for (const step of before) {
      let rejection: StepResult
      try {
        rejection = await step(state)
      } catch (error) {
        // A throwing hook still costs the client one attempt; the failure itself is reported.
        await countRefused(state).catch(() => undefined)
        throw error
      }
      if (rejection !== undefined) return (await countRefused(state)) ?? rejection
    }
    return undefined
  }

  return async function admit(state: RequestState<TUser>): Promise<StepResult> {
    const early = await stateless(state)
    if (early !== undefined) return early
    const { now } = state
    const key = state.address?.key ?? null
    const result = await guard('store', () =>
      state.config.store.admit(
        {
          ipLimit:
            rules.ip === null || key === null
              ? null
              : { key: `${IP_SCOPE}:${key}`, rule: rules.ip },
          tokenHash: state.tokenHash as string,
          sessionHash: state.sessionHash,
          channel: state.channel,
          userLimit: rules.user === null ? null : { keyPrefix: `${USER_SCOPE}:`, rule: rules.user },
          connection: {
            connectionId: state.connectionId as string,
            apiId: state.attributes?.apiId ?? null,
            stage: state.attributes?.stage ?? null,
            domainName: state.attributes?.domainName ?? null,
          },
        },
        now,
      ),
    )
    if (result.admitted) {
      state.admitted = true
      state.token = result.token
      state.userId = result.token.userId
      state.channel = result.channel
      return undefined
    }
    switch (result.code) {
      case 'RATE_LIMITED': {
        const scope = result.scope === 'ip' ? IP_SCOPE : USER_SCOPE
        const rule = (result.scope === 'ip' ? rules.ip : rules.user) as RateLimitRule
        const refusal = limitRefusal(scope, result.limit, now)
        if (refusal === null) return reject('STORE_UNAVAILABLE', 'admit')
        limited(state, scope, rule, refusal.count, refusal.resetAt)
        return refusal.rejection
      }
      case 'TOKEN_INVALID':
        return reject('TOKEN_INVALID', 'not consumable')
      case 'TOKEN_CHANNEL_MISMATCH':
        return reject('TOKEN_CHANNEL_MISMATCH')
      case 'CONNECTION_DUPLICATE':
        return reject('CONNECTION_DUPLICATE')
      default:
        // A store answering something outside the contract is refused, never allowed.
        return reject('STORE_UNAVAILABLE', 'admit')
    }
  }
}
