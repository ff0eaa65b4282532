/**
 * `@apigw-ws/adapter-hono`: Hono routes for apigw-ws. `websocketRoutes` serves API Gateway's
 * HTTP integration, `tokenRoute` the app's connect-token endpoint. Both only translate between
 * Hono and `@apigw-ws/core`; every decision is core's.
 */
export type { TokenIdentity, TokenRouteOptions } from './token-route.js'
export { tokenRoute } from './token-route.js'
export type { WebSocketRoutesOptions } from './websocket-routes.js'
export { websocketRoutes } from './websocket-routes.js'
