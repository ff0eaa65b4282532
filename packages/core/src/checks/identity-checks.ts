/**
 * Identity on `$connect`: the requested channel, the token's format and session binding (the
 * token is consumed later, by `store.admit`), the user, connect permissions and channel access.
 */
import { guard } from '../failures.js'
import { satisfies } from '../permissions.js'
import { reject } from '../rejections.js'
import { sha256Hex } from '../sha256.js'
import { hashToken, isTokenFormat } from '../tokens.js'
import { isChannel } from '../validators.js'
import type { RequestState, StepResult } from './request-state.js'

/** The `?channel=` parameter, when present, must be a valid channel name. */
export function channelParam<TUser>(state: RequestState<TUser>): StepResult {
  const value = state.request.query[state.config.channelParam]
  if (value === undefined) return undefined
  if (!isChannel(value)) return reject('CHANNEL_INVALID')
  state.channel = value
  return undefined
}

/**
 * The token's format and the app session it must be bound to: checked before any store access.
 * The token itself is consumed by `store.admit` (see `admission.ts`).
 */
export async function tokenFormat<TUser>(state: RequestState<TUser>): Promise<StepResult> {
  const { config, request } = state
  const value = request.query[config.tokenParam]
  if (!isTokenFormat(value))
    return reject('TOKEN_INVALID', value === undefined ? 'missing' : 'format')
  const resolveSession = config.auth.resolveSession
  if (resolveSession !== undefined) {
    const sessionId = await guard('hook', () => resolveSession(request))
    if (typeof sessionId !== 'string' || sessionId === '')
      return reject('TOKEN_INVALID', 'no session')
    state.sessionHash = sha256Hex(sessionId)
  }
  state.tokenHash = hashToken(value)
  return undefined
}

/** Loads the user when a loader is configured; an unknown user is refused. */
export function loadUser<TUser>(state: RequestState<TUser>): StepResult | Promise<StepResult> {
  const loader = state.config.auth.loadUser
  const userId = state.userId
  // Synchronous when there is nothing to do: most requests should not pay for a promise.
  if (loader === undefined || userId === null) return undefined
  return guard('hook', () => loader(userId)).then((user) => {
    if (user === null || user === undefined) return reject('USER_UNKNOWN')
    state.user = user
    return undefined
  })
}

/** Evaluates one requirement for the request's subject (anonymous subjects fail). */
export async function holds<TUser>(
  state: RequestState<TUser>,
  requirement: NonNullable<RequestState<TUser>['config']['permissions']>,
): Promise<boolean> {
  const hasPermission = state.config.auth.hasPermission
  const userId = state.userId
  const check =
    hasPermission === undefined || userId === null
      ? null
      : (permission: string) =>
          guard('hook', () => hasPermission({ userId, user: state.user }, permission))
  return satisfies(requirement, check)
}

/** `connectPermissions`, when configured. */
export function connectPermissions<TUser>(
  state: RequestState<TUser>,
): StepResult | Promise<StepResult> {
  const requirement = state.config.connectPermissions
  if (requirement === null) return undefined
  return holds(state, requirement).then((ok) =>
    ok ? undefined : reject('PERMISSION_DENIED', 'connect'),
  )
}

/** Asks `authorizeChannel` (when configured) whether the subject may use `channel`. */
export async function mayUseChannel<TUser>(
  state: RequestState<TUser>,
  channel: string,
  action: 'connect' | 'join',
): Promise<boolean> {
  const authorize = state.config.auth.authorizeChannel
  if (authorize === undefined) return true
  const userId = state.userId
  const connectionId = state.connectionId
  if (userId === null || connectionId === null) return false
  const allowed = await guard('hook', () =>
    authorize({ channel, connectionId, action, userId, user: state.user }),
  )
  return allowed === true
}

/** The channel requested or bound by the token must pass `authorizeChannel`. */
export function channelAccess<TUser>(state: RequestState<TUser>): StepResult | Promise<StepResult> {
  if (state.channel === null) return undefined
  return mayUseChannel(state, state.channel, 'connect').then((ok) =>
    ok ? undefined : reject('CHANNEL_FORBIDDEN'),
  )
}
