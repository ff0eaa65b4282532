/**
 * Checks on message routes: the body must be a bounded JSON object, the handler must be explicitly
 * registered, permissions must hold, and the payload must satisfy the handler's schema. That the
 * connection is known and connected (touched atomically) is `message-admission.ts`'s job.
 */
import { decodeBody, parseJsonObject } from '../body.js'
import { HEARTBEAT_ACTION, heartbeatHandler } from '../client-protocol.js'
import { guard } from '../failures.js'
import { reject } from '../rejections.js'
import { isHandlerName } from '../validators.js'
import { holds } from './identity-checks.js'
import type { RequestState, StepResult } from './request-state.js'

/** UTF-8 text holding a JSON object within the configured depth and width. */
export function jsonMessage<TUser>(state: RequestState<TUser>): StepResult {
  const text = decodeBody(state.request.body)
  if (text === null) return reject('BODY_ENCODING_INVALID')
  const message = parseJsonObject(text, state.config.json)
  if (message === null) return reject('JSON_INVALID')
  state.message = message
  return undefined
}

/**
 * Selects the handler: the first of `handlerKeys` present in the message (it must be a string),
 * else the custom route's name, else `default`; `$heartbeat` is the client protocol's built-in
 * no-op when `clientProtocol` is on. Only explicitly registered names are served;
 * an unknown name is refused, never routed to `default`.
 */
export function selectHandler<TUser>(state: RequestState<TUser>): StepResult {
  const { config } = state
  const message = state.message ?? {}
  let name: unknown
  for (const key of config.handlerKeys) {
    if (Object.hasOwn(message, key)) {
      name = message[key]
      break
    }
  }
  if (name === undefined) name = state.route === '$default' ? 'default' : state.route
  if (name === HEARTBEAT_ACTION && config.clientProtocol) {
    state.handler = heartbeatHandler
    return undefined
  }
  const handler = isHandlerName(name) ? config.handlers.get(name) : undefined
  if (handler === undefined) return reject('HANDLER_UNKNOWN')
  state.handler = handler
  return undefined
}

/** Gateway-level `permissions` and the handler's, both enforced when both are set. */
export function messagePermissions<TUser>(
  state: RequestState<TUser>,
): StepResult | Promise<StepResult> {
  const gatewayLevel = state.config.permissions
  const handlerLevel = state.handler?.permissions ?? null
  if (gatewayLevel === null && handlerLevel === null) return undefined
  return (async () => {
    for (const requirement of [gatewayLevel, handlerLevel]) {
      if (requirement !== null && !(await holds(state, requirement))) {
        return reject('PERMISSION_DENIED', state.handler?.name)
      }
    }
    return undefined
  })()
}

/** The handler's Standard Schema, when it has one; the validated value becomes the input. */
export function payloadSchema<TUser>(state: RequestState<TUser>): StepResult | Promise<StepResult> {
  const schema = state.handler?.schema ?? null
  if (schema === null) {
    state.input = state.message
    return undefined
  }
  return guard('check', () => schema['~standard'].validate(state.message)).then((result) => {
    if (result.issues !== undefined) return reject('PAYLOAD_INVALID', state.handler?.name)
    state.input = result.value
    return undefined
  })
}
