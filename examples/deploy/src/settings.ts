/**
 * The chat example's WebSocket settings, shared by the CDK stacks and the Lambda backend: its four
 * handlers as custom routes, and the three that answer the sender as two-way routes.
 */
import { type WebSocketSettings, webSocketSettings } from '@apigw-ws/cdk/settings'

/** The chat's settings for `integration`. */
export function chatSettings(integration: 'http' | 'lambda'): WebSocketSettings {
  return webSocketSettings({
    integration,
    routes: ['join', 'leave', 'chat', 'who'],
    twoWayRoutes: ['join', 'leave', 'who'],
  })
}
