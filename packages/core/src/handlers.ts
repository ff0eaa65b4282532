/**
 * Message handlers: definition, registry and the context a handler runs with. The registry is a
 * `Map` built once from explicitly registered names; lookups never reach `Object.prototype`, and
 * names are validated both at registration and on every message. A handler's payload is
 * validated by its Standard Schema (valibot, zod, arktype… anything implementing the spec).
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { normalizePermissions, type Permissions } from './permissions.js'
import type { RouteKey } from './request.js'
import type { SendData } from './send/payload.js'
import type { SendReport } from './send/report.js'
import type { Sender } from './send/sender.js'
import { isHandlerName, isReservedName } from './validators.js'

/** Metadata about the event being handled. */
export interface EventMeta {
  readonly route: RouteKey
  /** API Gateway's request id (Lambda) or trace id (HTTP), when present. */
  readonly requestId: string | null
  readonly apiId: string | null
  readonly stage: string | null
  readonly domainName: string | null
  /** When the gateway received the event (ms since the epoch). */
  readonly receivedAt: number
}

/** What a handler receives besides its validated input. */
export interface HandlerContext<TUser = unknown> {
  readonly connectionId: string
  readonly userId: string | null
  /** The user from `auth.loadUser`, or `null` when no loader is configured. */
  readonly user: TUser | null
  /**
   * Loads the channels the connection is subscribed to, in subscription order, from the store
   * (one store call per call; at most `maxChannelsPerConnection` names). Not part of a message's
   * fixed cost: call it only when the handler needs them.
   */
  channels(): Promise<readonly string[]>
  /** The whole parsed message (the object the schema validated). */
  readonly message: Readonly<Record<string, unknown>>
  readonly event: EventMeta
  /** The gateway's sender (requires the `connections` option). */
  readonly send: Sender
  /** Sends `data` to this connection through the `@connections` API. */
  reply(data: SendData): Promise<SendReport>
  /**
   * Subscribes this connection to `channel` after validating the name and asking
   * `auth.authorizeChannel`, then asks the store to add it within `maxChannelsPerConnection`
   * (atomically; joining a channel the connection has is a no-op). A refusal throws a
   * `RejectionError` (`CHANNEL_INVALID` → 400, `CHANNEL_FORBIDDEN` → 403,
   * `CHANNEL_LIMIT_REACHED` → 403, `CONNECTION_UNKNOWN` → 404) that the gateway turns into the
   * response, unless caught.
   */
  join(channel: string): Promise<void>
  /** Unsubscribes from `channel`; invalid names are refused like `join`. */
  leave(channel: string): Promise<void>
}

/**
 * A handler definition. `TInput` is inferred from the schema; `TResult` from `handle`, so that a
 * typed client (`@apigw-ws/client`) can infer replies from `typeof handlers`.
 */
export interface Handler<
  TUser = unknown,
  TInput = Readonly<Record<string, unknown>>,
  TResult = unknown,
> {
  /** Validates the message object; failures become 400 `PAYLOAD_INVALID`. */
  readonly schema?: StandardSchemaV1<unknown, TInput> | undefined
  /** Required permissions, in addition to the gateway-level `permissions`. */
  readonly permissions?: Permissions | undefined
  /**
   * Handles one message. The returned value, if not `undefined`, is serialized as JSON and becomes
   * the integration response body (the reply of a two-way route). Throwing a `RejectionError`
   * refuses the message with its code; any other throw becomes a generic 500.
   */
  handle(context: HandlerContext<TUser>, input: TInput): TResult
}

/** Defines a handler with its input type inferred from `schema` and its reply from `handle`. */
export function defineHandler<
  TUser = unknown,
  TInput = Readonly<Record<string, unknown>>,
  TResult = unknown,
>(handler: Handler<TUser, TInput, TResult>): Handler<TUser, TInput, TResult> {
  return handler
}

/** A handler as registered: input erased, permissions normalized. */
export interface RegisteredHandler<TUser> {
  readonly name: string
  readonly schema: StandardSchemaV1 | null
  readonly permissions: Permissions | null
  readonly handle: (context: HandlerContext<TUser>, input: unknown) => unknown
}

/** Any handler for users of type `TUser`, its input type erased (what registries hold). */
export interface AnyHandler<TUser> {
  readonly schema?: StandardSchemaV1<unknown, unknown> | undefined
  readonly permissions?: Permissions | undefined
  handle(context: HandlerContext<TUser>, input: never): unknown
}

/** Handlers as the `handlers` option accepts them: a record or a `Map` of name → handler. */
export type HandlerMap<TUser> =
  | Readonly<Record<string, AnyHandler<TUser>>>
  | ReadonlyMap<string, AnyHandler<TUser>>

/** The handler name that serves `$default` messages without a handler key. */
export const DEFAULT_HANDLER = 'default'

/**
 * Builds the frozen registry; names of system routes (`connect`, `disconnect` and spellings of
 * `default` other than `default` itself, in any case, with or without `$`) are refused;
 * throws `TypeError` for those and for malformed names or definitions.
 */
export function buildRegistry<TUser>(
  handlers: HandlerMap<TUser> | undefined,
): ReadonlyMap<string, RegisteredHandler<TUser>> {
  const registry = new Map<string, RegisteredHandler<TUser>>()
  if (handlers === undefined) return registry
  const entries =
    handlers instanceof Map ? [...handlers.entries()] : Object.entries(handlers as object)
  for (const [name, value] of entries as [string, AnyHandler<TUser>][]) {
    // `default` itself is the documented handler of the `$default` route; every other spelling
    // of a system route name would let a custom route of that name reach a system route.
    if (isReservedName(name) && name !== DEFAULT_HANDLER) {
      const route = `$${String(name).replace(/^\$/, '').toLowerCase()}`
      throw new TypeError(
        route === '$default'
          ? `handlers: "${name}" is reserved; the handler of the $default route is registered as "default"`
          : `handlers: "${name}" is reserved for API Gateway's system route ${route}; choose another name`,
      )
    }
    if (!isHandlerName(name)) {
      throw new TypeError(
        `handlers: "${name}" is not a valid handler name (^[A-Za-z][A-Za-z0-9_-]{0,63}$)`,
      )
    }
    if (typeof value !== 'object' || value === null || typeof value.handle !== 'function') {
      throw new TypeError(`handlers.${name} must be a handler from defineHandler()`)
    }
    const schema = value.schema ?? null
    if (schema !== null && typeof schema['~standard']?.validate !== 'function') {
      throw new TypeError(`handlers.${name}.schema must implement Standard Schema`)
    }
    registry.set(name, {
      name,
      schema: schema as StandardSchemaV1 | null,
      permissions: normalizePermissions(value.permissions, `handlers.${name}.permissions`),
      handle: value.handle as RegisteredHandler<TUser>['handle'],
    })
  }
  return registry
}
