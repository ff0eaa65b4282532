/**
 * `@apigw-ws/local-gateway`: a local stand-in for AWS API Gateway WebSocket APIs for
 * development and tests. It speaks WebSocket to clients, calls an HTTP backend or a Lambda
 * handler the way API Gateway does, and serves the `@connections` management API.
 */
export {
  createManualClock,
  type GatewayClock,
  type ManualClock,
  systemClock,
  type TimerHandle,
} from './clock.js'
export { type LocalGateway, startLocalGateway } from './gateway.js'
export type {
  LambdaIdentity,
  LambdaRequestContext,
  LambdaWebSocketEvent,
  LambdaWebSocketHandler,
  LambdaWebSocketResult,
} from './lambda-types.js'
export type {
  GatewayLogEntry,
  HttpIntegrationOptions,
  IntegrationOptions,
  LambdaIntegrationOptions,
  LocalGatewayOptions,
  SecretHeaderOptions,
} from './options.js'
