/**
 * Typed operator events. The gateway reports every lifecycle step and every refusal through
 * `onEvent`. Events carry codes, ids and counts only: never tokens, cookies, secrets, session
 * ids or message bodies, so they are safe to ship to any log pipeline.
 */
import type { RejectionCode } from './rejections.js'
import type { RouteKey } from './request.js'

interface EventBase {
  /** When the event happened (ms since the epoch, from the gateway's clock). */
  readonly at: number
}

/** A `$connect` passed every check and the connection was stored. */
export interface ConnectAcceptedEvent extends EventBase {
  readonly type: 'connect.accepted'
  readonly connectionId: string
  readonly userId: string | null
  readonly channels: readonly string[]
  readonly ip: string | null
}

/** A request was refused by a check. */
export interface RequestRejectedEvent extends EventBase {
  readonly type: 'request.rejected'
  readonly route: RouteKey
  readonly code: RejectionCode
  readonly status: number
  readonly connectionId: string | null
  readonly ip: string | null
  /** Operator context from the check (safe by construction). */
  readonly detail: string | null
}

/** A rate limit refused a request. Also reported as `request.rejected` / `token.rejected`. */
export interface RateLimitedEvent extends EventBase {
  readonly type: 'rate.limited'
  /** Which limit: `connect.ip`, `connect.user`, `token.user`, `message.connection`. */
  readonly scope: string
  readonly count: number
  readonly limit: number
  readonly resetAt: number
}

/** A connect token was issued. */
export interface TokenIssuedEvent extends EventBase {
  readonly type: 'token.issued'
  readonly userId: string
  readonly channel: string | null
  readonly expiresAt: number
}

/** A token issuance request was refused. */
export interface TokenRejectedEvent extends EventBase {
  readonly type: 'token.rejected'
  readonly code: RejectionCode
  readonly userId: string | null
  readonly detail: string | null
}

/** A message was handled by a registered handler. */
export interface MessageHandledEvent extends EventBase {
  readonly type: 'message.handled'
  readonly connectionId: string
  readonly handler: string
}

/** `$disconnect` (or a send that found the connection gone) marked a connection disconnected. */
export interface DisconnectedEvent extends EventBase {
  readonly type: 'connection.disconnected'
  readonly connectionId: string
  /** `disconnect` for a `$disconnect` event, `gone` when a send found it gone, `api` for `send.disconnect`. */
  readonly reason: 'disconnect' | 'gone' | 'api'
}

/** Something threw where it must not: the request was refused (fail closed). */
export interface InternalErrorEvent extends EventBase {
  readonly type: 'internal.error'
  /** Where it happened: `store`, `hook`, `handler`, `check`, `transport`. */
  readonly source: string
  readonly route: RouteKey | null
  /** The error's `name` only; messages can carry user data and are not reported. */
  readonly errorName: string
}

/** A configuration the operator should know about (for example, no integration secret). */
export interface ConfigWarningEvent extends EventBase {
  readonly type: 'config.warning'
  readonly code: 'NO_INTEGRATION_SECRET'
  readonly message: string
}

/** A send finished (one report per `send.*` call). */
export interface SendCompletedEvent extends EventBase {
  readonly type: 'send.completed'
  /** `connection`, `user`, `channel`, `broadcast`, `disconnect`, `disconnectUser`, `verify`. */
  readonly target: string
  readonly attempted: number
  readonly delivered: number
  readonly gone: number
  readonly failed: number
  /** Failure counts by code, e.g. `{ ForbiddenException: 2 }`. */
  readonly failures: Readonly<Record<string, number>>
  /** Extra attempts the transport made (its own retries of throttling and 5xx), summed. */
  readonly retries: number
  /** `true` when a signal or deadline stopped the call before every recipient was tried. */
  readonly aborted: boolean
}

/** Every event `onEvent` can receive. */
export type GatewayEvent =
  | ConnectAcceptedEvent
  | RequestRejectedEvent
  | RateLimitedEvent
  | TokenIssuedEvent
  | TokenRejectedEvent
  | MessageHandledEvent
  | DisconnectedEvent
  | InternalErrorEvent
  | ConfigWarningEvent
  | SendCompletedEvent

/** The `onEvent` callback. It must not throw; if it does, the error is swallowed. */
export type EventListener = (event: GatewayEvent) => void
