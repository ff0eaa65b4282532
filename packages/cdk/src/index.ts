/**
 * `@apigw-ws/cdk`: the AWS CDK construct that wires an API Gateway WebSocket API to an apigw-ws
 * backend, and the settings it shares with the app (also at `@apigw-ws/cdk/settings`, which does
 * not load the CDK).
 */
export type { HttpBackend, LambdaBackend } from './backend.js'
export { WebSocketBackend } from './backend.js'
export type { ConnectionTableProps } from './connection-table.js'
export { CONNECTION_TABLE_ACTIONS, ConnectionTable } from './connection-table.js'
export type { BoundIntegrationSecret, SecretsManagerSecret } from './integration-secret.js'
export { IntegrationSecret } from './integration-secret.js'
export * from './settings.js'
export type {
  ManageConnectionsGrant,
  WebSocketGatewayProps,
  WebSocketThrottle,
} from './websocket-gateway.js'
export {
  API_ID_ENV,
  DEFAULT_ACCESS_LOG_FORMAT,
  DEFAULT_THROTTLE,
  WebSocketGateway,
} from './websocket-gateway.js'
