/**
 * `@apigw-ws/client`: the browser and Node client for WebSocket APIs served with apigw-ws behind
 * AWS API Gateway. Everything public is exported here.
 */
export type { BackoffOptions } from './backoff.js'
export { backoffDelay } from './backoff.js'
export type {
  Client,
  ClientEvents,
  ClientOptions,
  ClientState,
  LifecycleTarget,
  RequestArgs,
  RequestOptions,
  Timers,
  WebSocketLike,
} from './client.js'
export { createClient, MAX_MESSAGE_BYTES } from './client.js'
export type { ClientErrorCode } from './errors.js'
export { ClientError } from './errors.js'
export type { TokenSource, TokenUrl } from './token.js'
export type {
  HandlerName,
  HandlerShape,
  HandlerTypes,
  InputArgs,
  ReplyOf,
  RequestInput,
  ReservedKey,
} from './types.js'
