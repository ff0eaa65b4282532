/**
 * The per-request state the pipeline threads through its steps, and the step type. Each step reads
 * what earlier steps established (connection id, client address, token, user, message) and either
 * adds to it or returns a rejection. State lives for one request only.
 */
import type { JsonObject } from '../body.js'
import type { RegisteredHandler } from '../handlers.js'
import type { Config } from '../options.js'
import type { Rejection } from '../rejections.js'
import type { GatewayRequest, RouteKey } from '../request.js'
import type { ConnectionRecord, TokenRecord } from '../store.js'
import type { ClientAddress } from './client-ip.js'

/** Where a connection is reached, read on `$connect` from trusted, validated sources only. */
export interface ConnectionAttributes {
  readonly apiId: string | null
  readonly stage: string | null
  readonly domainName: string | null
}

/** Mutable state of one request as it moves through the pipeline. */
export interface RequestState<TUser> {
  readonly config: Config<TUser>
  /** The request; an adapter's request gets its body once the head checks passed. */
  request: GatewayRequest
  readonly route: RouteKey
  /** The gateway clock's time when the request arrived. */
  readonly now: number
  connectionId: string | null
  /** Set on `$connect` by the `connectionAttributes` step. */
  attributes: ConnectionAttributes | null
  address: ClientAddress | null
  /** The channel requested on `$connect`, once validated. */
  channel: string | null
  /** SHA-256 of the well-formed connect token, once parsed (never the token itself). */
  tokenHash: string | null
  /** SHA-256 of the app session the token must be bound to, once resolved. */
  sessionHash: string | null
  /** `true` once `store.admit` created the connection (undone if a later check refuses). */
  admitted: boolean
  token: TokenRecord | null
  userId: string | null
  user: TUser | null
  connection: ConnectionRecord | null
  message: JsonObject | null
  handler: RegisteredHandler<TUser> | null
  input: unknown
}

/** A result a step may return: nothing to pass, a rejection to stop. */
export type StepResult = Rejection | undefined

/** One pipeline step. Steps may be sync or async; a throw is an internal failure. */
export type Step<TUser> = (state: RequestState<TUser>) => StepResult | Promise<StepResult>

/** A fresh state for `request` arriving at `now`, nothing established yet. */
export function newRequestState<TUser>(
  config: Config<TUser>,
  request: GatewayRequest,
  now: number,
): RequestState<TUser> {
  return {
    config,
    request,
    route: request.route,
    now,
    connectionId: null,
    attributes: null,
    address: null,
    channel: null,
    tokenHash: null,
    sessionHash: null,
    admitted: false,
    token: null,
    userId: null,
    user: null,
    connection: null,
    message: null,
    handler: null,
    input: undefined,
  }
}
