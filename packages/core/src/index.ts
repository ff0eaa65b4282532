/**
 * `@apigw-ws/core`: the public entry point for apps. Everything a user may rely on is exported
 * from here, adapter plumbing from `@apigw-ws/core/adapter`; anything not exported is internal
 * and may change.
 */
export type { FetchOptions } from './adapters/fetch.js'
export type { WebSocketEvent, WebSocketResult } from './adapters/lambda.js'
export type { Clock } from './clock.js'
export { systemClock } from './clock.js'
export {
  admitBySteps,
  admitMessageBySteps,
  defineStore,
  isStore,
  STORE_BRAND,
} from './define-store.js'
export type * from './events.js'
export type { CleanupStoreOptions } from './gateway/cleanup.js'
export { cleanupStore } from './gateway/cleanup.js'
export type {
  CleanupOptions,
  Gateway,
  TokenGrant,
  TokenIdentity,
  TokenRequest,
} from './gateway.js'
export { createGateway } from './gateway.js'
export type { AnyHandler, EventMeta, Handler, HandlerContext, HandlerMap } from './handlers.js'
export { defineHandler } from './handlers.js'
export type { LogEventsOptions } from './log-events.js'
export { formatEvent, logEvents } from './log-events.js'
export type {
  AuthHooks,
  CheckInput,
  CustomCheck,
  GatewayOptions,
  RateLimitOptions,
  RateLimitRule,
  Subject,
} from './options.js'
export { secretWeakness } from './options.js'
export type { Permissions } from './permissions.js'
export type { Rejection, RejectionCode } from './rejections.js'
export { isRejectionError, REJECTION_STATUS, RejectionError, reject } from './rejections.js'
export type { GatewayRequest, GatewayResponse, LambdaContext, RouteKey } from './request.js'
export * from './send/index.js'
export type * from './store.js'
export {
  isApiId,
  isChannel,
  isConnectionId,
  isDomainName,
  isReservedName,
  isStage,
  MAX_CHANNEL_LENGTH,
  MAX_CONNECTION_ID_LENGTH,
  RESERVED_ROUTE_NAMES,
} from './validators.js'
