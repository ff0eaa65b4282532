/**
 * What the gateway does once every check of a request has passed: `$connect` reports the
 * connection `store.admit` created, `$disconnect` marks it disconnected, and a message runs its
 * handler, whose return value becomes the integration response. `release` undoes an admission
 * when a check after `admit` refused the connect.
 */
import type { RequestState } from '../checks/request-state.js'
import type { GatewayEvent } from '../events.js'
import { guard, tagged } from '../failures.js'
import { MessageContext } from '../handler-context.js'
import type { Config } from '../options.js'
import { jsonResponse, reject } from '../rejections.js'
import type { GatewayResponse } from '../request.js'
import type { Sender } from '../send/sender.js'
import type { Refusals } from './refusals.js'

const EMPTY_OK: GatewayResponse = Object.freeze({
  status: 200,
  headers: Object.freeze({}),
  body: null,
})

/**
 * The 200 answer carrying a handler's result, built synchronously; a result JSON cannot encode
 * fails as the handler (as `guard('handler', …)` would tag it).
 */
function handlerResponse(result: unknown): GatewayResponse {
  try {
    return jsonResponse(200, result)
  } catch (error) {
    throw tagged('handler', error)
  }
}

/** Builds the acceptance step of one gateway. */
export function createAcceptance<TUser>(
  config: Config<TUser>,
  emit: (event: GatewayEvent) => void,
  send: Sender,
  { refuse }: Refusals<TUser>,
): (state: RequestState<TUser>) => Promise<GatewayResponse> {
  const { store } = config

  function connect(state: RequestState<TUser>): GatewayResponse {
    emit({
      type: 'connect.accepted',
      at: state.now,
      connectionId: state.connectionId as string,
      userId: state.userId,
      channels: state.channel === null ? [] : [state.channel],
      ip: state.address?.ip ?? null,
    })
    return EMPTY_OK
  }

  async function disconnect(state: RequestState<TUser>): Promise<GatewayResponse> {
    const connectionId = state.connectionId as string
    const changed = await guard('store', () =>
      store.connections.disconnect(connectionId, state.now),
    )
    if (changed) {
      emit({ type: 'connection.disconnected', at: state.now, connectionId, reason: 'disconnect' })
    }
    return EMPTY_OK
  }

  async function message(state: RequestState<TUser>): Promise<GatewayResponse> {
    const handler = state.handler
    if (handler === null) return refuse(state, state.route, reject('HANDLER_UNKNOWN'))
    const result = await guard('handler', () =>
      handler.handle(new MessageContext(state, send), state.input),
    )
    const response = result === undefined ? EMPTY_OK : handlerResponse(result)
    if (config.onEvent !== null) {
      emit({
        type: 'message.handled',
        at: state.now,
        connectionId: state.connectionId as string,
        handler: handler.name,
      })
    }
    return response
  }

  return function accept(state) {
    if (state.route === '$connect') return Promise.resolve(connect(state))
    if (state.route === '$disconnect') return disconnect(state)
    return message(state)
  }
}

/**
 * Undoes the admission of a `$connect` that a later check refused: the connection `admit`
 * created is marked disconnected (and swept by `cleanup`), so it never receives messages. Best
 * effort: if the store fails here the refusal stands and the record ages out as a stale one.
 */
export async function release<TUser>(state: RequestState<TUser> | null): Promise<void> {
  if (state === null || !state.admitted) return
  state.admitted = false
  try {
    await state.config.store.connections.disconnect(state.connectionId as string, state.now)
  } catch {
    // The client is refused either way; the record is swept as stale.
  }
}
