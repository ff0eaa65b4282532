/**
 * What the gateway does once every check of a request has passed: `$connect` stores the
 * connection, `$disconnect` marks it disconnected, and a message runs its handler, whose return
 * value becomes the integration response. A duplicate connection id is refused here, because
 * only the store can tell.
 */
import type { RequestState } from '../checks/request-state.js'
import type { GatewayEvent } from '../events.js'
import { guard } from '../failures.js'
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

/** Builds the acceptance step of one gateway. */
export function createAcceptance<TUser>(
  config: Config<TUser>,
  emit: (event: GatewayEvent) => void,
  send: Sender,
  { refuse }: Refusals<TUser>,
): (state: RequestState<TUser>) => Promise<GatewayResponse> {
  const { store } = config

  async function connect(state: RequestState<TUser>): Promise<GatewayResponse> {
    const { request } = state
    const connectionId = state.connectionId as string
    const created = await guard('store', () =>
      store.connections.create({
        connectionId,
        userId: state.userId,
        channels: state.channel === null ? [] : [state.channel],
        apiId: state.attributes?.apiId ?? null,
        stage: state.attributes?.stage ?? null,
        domainName: state.attributes?.domainName ?? null,
        connectedAt: state.now,
      }),
    )
    if (!created) return refuse(state, request.route, reject('CONNECTION_DUPLICATE'))
    emit({
      type: 'connect.accepted',
      at: state.now,
      connectionId,
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
    const response =
      result === undefined ? EMPTY_OK : await guard('handler', () => jsonResponse(200, result))
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
    if (state.route === '$connect') return connect(state)
    if (state.route === '$disconnect') return disconnect(state)
    return message(state)
  }
}
