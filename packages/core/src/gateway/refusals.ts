/**
 * How the gateway answers when it does not serve a request: every refusal becomes the rejection
 * table's status and generic body plus one `request.rejected` event, and anything thrown where it
 * must not be (a store, hook, handler or check) becomes a generic 503/500 with an
 * `internal.error` event. One place, so that every entry point refuses the same way.
 */
import type { RequestState } from '../checks/request-state.js'
import type { Clock } from '../clock.js'
import type { GatewayEvent } from '../events.js'
import { errorName, InternalFailure } from '../failures.js'
import {
  isRejectionError,
  REJECTION_STATUS,
  type Rejection,
  reject,
  toResponse,
} from '../rejections.js'
import type { GatewayResponse, RouteKey } from '../request.js'

/** The gateway's refusal functions, bound to its event listener and clock. */
export interface Refusals<TUser> {
  /** Reports `rejection` for `route` and returns its generic response. */
  refuse(state: RequestState<TUser> | null, route: RouteKey, rejection: Rejection): GatewayResponse
  /** Turns anything thrown while serving `route` into a refusal (never an allow). */
  failure(state: RequestState<TUser> | null, route: RouteKey, error: unknown): GatewayResponse
}

/** Builds the refusal functions for one gateway. */
export function createRefusals<TUser>(
  emit: (event: GatewayEvent) => void,
  clock: Clock,
): Refusals<TUser> {
  function refuse(
    state: RequestState<TUser> | null,
    route: RouteKey,
    rejection: Rejection,
  ): GatewayResponse {
    emit({
      type: 'request.rejected',
      at: state?.now ?? clock.now(),
      route,
      code: rejection.code,
      status: REJECTION_STATUS[rejection.code],
      connectionId: state?.connectionId ?? null,
      ip: state?.address?.ip ?? null,
      detail: rejection.detail ?? null,
    })
    return toResponse(rejection)
  }

  function failure(
    state: RequestState<TUser> | null,
    route: RouteKey,
    error: unknown,
  ): GatewayResponse {
    if (isRejectionError(error)) return refuse(state, route, error.rejection)
    const source = error instanceof InternalFailure ? error.source : 'check'
    emit({
      type: 'internal.error',
      at: state?.now ?? clock.now(),
      source,
      route,
      errorName: errorName(error),
    })
    return refuse(
      state,
      route,
      reject(source === 'store' ? 'STORE_UNAVAILABLE' : 'INTERNAL_ERROR', source),
    )
  }

  return { refuse, failure }
}
