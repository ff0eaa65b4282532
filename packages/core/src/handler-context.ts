/**
 * The context a handler runs with. One instance per message; its methods live on the prototype
 * so a message does not allocate a closure per helper. `join` and `leave` validate the channel
 * name and (for `join`) ask `authorizeChannel` before touching the store, which enforces the
 * channel limit. Channels are loaded only when a handler asks (`channels()`), so a message costs
 * the same however many channels its connection is in.
 */
import { mayUseChannel } from './checks/identity-checks.js'
import type { RequestState } from './checks/request-state.js'
import { guard } from './failures.js'
import type { EventMeta, HandlerContext } from './handlers.js'
import { RejectionError } from './rejections.js'
import type { SendData } from './send/payload.js'
import type { SendReport } from './send/report.js'
import type { Sender } from './send/sender.js'
import { isChannel } from './validators.js'

function validChannel(channel: string): string {
  if (!isChannel(channel)) throw new RejectionError('CHANNEL_INVALID')
  return channel
}

/** The `HandlerContext` implementation. */
export class MessageContext<TUser> implements HandlerContext<TUser> {
  readonly connectionId: string
  readonly userId: string | null
  readonly user: TUser | null
  readonly message: Readonly<Record<string, unknown>>
  readonly event: EventMeta
  readonly send: Sender
  readonly #state: RequestState<TUser>

  constructor(state: RequestState<TUser>, send: Sender) {
    const { request, connection } = state
    this.#state = state
    this.connectionId = state.connectionId as string
    this.userId = state.userId
    this.user = state.user
    this.message = state.message ?? {}
    this.send = send
    this.event = {
      route: state.route,
      requestId: request.lambda?.requestId ?? request.headers['x-amzn-trace-id'] ?? null,
      apiId: connection?.apiId ?? null,
      stage: connection?.stage ?? null,
      domainName: connection?.domainName ?? null,
      receivedAt: state.now,
    }
  }

  reply(data: SendData): Promise<SendReport> {
    return this.send.toConnection(this.connectionId, data)
  }

  channels(): Promise<readonly string[]> {
    return guard('store', () => this.#state.config.store.connections.channels(this.connectionId))
  }

  async join(name: string): Promise<void> {
    const channel = validChannel(name)
    const state = this.#state
    if (!(await mayUseChannel(state, channel, 'join'))) {
      throw new RejectionError('CHANNEL_FORBIDDEN')
    }
    const { store, maxChannelsPerConnection } = state.config
    const result = await guard('store', () =>
      store.connections.subscribe(this.connectionId, channel, maxChannelsPerConnection),
    )
    if (result === 'limit') throw new RejectionError('CHANNEL_LIMIT_REACHED')
    if (result !== 'subscribed') throw new RejectionError('CONNECTION_UNKNOWN')
  }

  async leave(name: string): Promise<void> {
    const channel = validChannel(name)
    await guard('store', () =>
      this.#state.config.store.connections.unsubscribe(this.connectionId, channel),
    )
  }
}
