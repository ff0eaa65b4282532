/**
 * `@apigw-ws/adapter-express`: an Express 5 router for apigw-ws. `websocketRouter` serves API
 * Gateway's HTTP integration, `tokenHandler` the app's connect-token endpoint. Both only
 * translate between Express and `@apigw-ws/core`; every decision is core's.
 */
export type { TokenHandlerOptions, TokenIdentity } from './token-handler.js'
export { tokenHandler } from './token-handler.js'
export type { WebSocketRouterOptions } from './websocket-router.js'
export { BodyAlreadyConsumedError, websocketRouter } from './websocket-router.js'
