/**
 * The pipelines: which checks run for which route, in which order. This file is the one place the
 * order is written down. Cheap, stateless checks come first. On `$connect` the stateful part
 * (connect limits, token consume, connection create) is one `store.admit` call after the
 * stateless checks, and a refused stateless check still counts against the client address, so
 * every attempt counts, failed ones included; the hooks that need the token's user (user,
 * permissions, channel access, custom checks) run after it, and a refusal there disconnects the
 * connection admit created. On a message the stateful part (touching the connection, counting
 * its message limit) is likewise one `store.admitMessage` call, after the body was parsed. A step
 * returns a rejection to stop; the first one wins.
 */

import { admission } from './checks/admission.js'
import {
  channelAccess,
  channelParam,
  connectPermissions,
  loadUser,
  tokenFormat,
} from './checks/identity-checks.js'
import { MESSAGE_SCOPE, messageAdmission } from './checks/message-admission.js'
import {
  jsonMessage,
  messagePermissions,
  payloadSchema,
  selectHandler,
} from './checks/message-checks.js'
import { clientAddress, host, origin } from './checks/origin-checks.js'
import type { LimitRefusal } from './checks/rate-limits.js'
import type { RequestState, Step, StepResult } from './checks/request-state.js'
import {
  bodySize,
  connectionAttributes,
  connectionId,
  gatewayShape,
  integrationSecret,
} from './checks/transport-checks.js'
import type { GatewayEvent } from './events.js'
import { guard } from './failures.js'
import type { Config, CustomCheck, RateLimitRule } from './options.js'
import { REJECTION_STATUS } from './rejections.js'

/** The ordered steps for each kind of route. */
export interface Pipelines<TUser> {
  /**
   * The checks that read only the head of a request (integration secret, API Gateway shape,
   * connection id): adapters run them before reading any body. Every route runs them first.
   */
  readonly head: readonly Step<TUser>[]
  /** The rest of each route's checks, from the body size on. */
  readonly connect: readonly Step<TUser>[]
  readonly message: readonly Step<TUser>[]
  readonly disconnect: readonly Step<TUser>[]
}

function custom<TUser>(checks: readonly CustomCheck<TUser>[]): Step<TUser>[] {
  return checks.map(
    (check) =>
      async function customCheck(state: RequestState<TUser>) {
        const rejection = await guard('check', () =>
          check({
            request: state.request,
            connectionId: state.connectionId as string,
            userId: state.userId,
            user: state.user,
            message: state.message,
            handler: state.handler?.name ?? null,
          }),
        )
        if (rejection === undefined || rejection === null) return undefined
        return typeof rejection === 'object' && Object.hasOwn(REJECTION_STATUS, rejection.code)
          ? rejection
          : { code: 'CHECK_FAILED' }
      },
  )
}

/** Builds the pipelines once, at construction, from the normalized configuration. */
export function buildPipelines<TUser>(
  config: Config<TUser>,
  emit: (event: GatewayEvent) => void,
): Pipelines<TUser> {
  const limited =
    (scope: string) =>
    (state: RequestState<TUser>, refusal: LimitRefusal, rule: RateLimitRule): void =>
      emit({
        type: 'rate.limited',
        at: state.now,
        scope,
        count: refusal.count,
        limit: rule.limit,
        resetAt: refusal.resetAt,
      })
  const present = <T>(steps: (T | null)[]): T[] => steps.filter((s): s is T => s !== null)
  const head = [integrationSecret, gatewayShape, connectionId] as Step<TUser>[]

  return Object.freeze({
    head: Object.freeze(head),
    connect: Object.freeze(
      present<Step<TUser>>([
        bodySize,
        connectionAttributes,
        clientAddress,
        admission<TUser>(
          [origin, host, channelParam, tokenFormat],
          { ip: config.limits.connectPerIp, user: config.limits.connectPerUser },
          emit,
        ),
        loadUser,
        connectPermissions,
        channelAccess,
        ...custom(config.checks.connect),
      ]),
    ),
    message: Object.freeze(
      present<Step<TUser>>([
        bodySize,
        jsonMessage,
        messageAdmission<TUser>(config.limits.messagePerConnection, limited(MESSAGE_SCOPE)),
        selectHandler,
        loadUser,
        messagePermissions,
        payloadSchema,
        ...custom(config.checks.message),
      ]),
    ),
    disconnect: Object.freeze([bodySize] as Step<TUser>[]),
  })
}

/** Runs `steps` in order; resolves the first rejection, or `undefined` when all pass. */
export function runSteps<TUser>(
  steps: readonly Step<TUser>[],
  state: RequestState<TUser>,
): StepResult | Promise<StepResult> {
  // Synchronous while the steps are: a pipeline of synchronous checks costs no promise.
  for (let i = 0; i < steps.length; i++) {
    const result = (steps[i] as Step<TUser>)(state)
    if (result instanceof Promise) return finishSteps(steps, i, result, state)
    if (result !== undefined) return result
  }
  return undefined
}

/** `runSteps` from step `i`, whose result is `pending`, on. */
async function finishSteps<TUser>(
  steps: readonly Step<TUser>[],
  i: number,
  pending: Promise<StepResult>,
  state: RequestState<TUser>,
): Promise<StepResult> {
  const first = await pending
  if (first !== undefined) return first
  for (let next = i + 1; next < steps.length; next++) {
    const result = (steps[next] as Step<TUser>)(state)
    const rejection = result instanceof Promise ? await result : result
    if (rejection !== undefined) return rejection
  }
  return undefined
}
