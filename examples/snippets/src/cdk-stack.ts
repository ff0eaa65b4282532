import { WebSocketBackend, WebSocketGateway } from '@apigw-ws/cdk'
import { App, Stack } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import { chatSettings } from './cdk-settings.js'

const app = new App()
const stack = new Stack(app, 'Chat')

const ws = new WebSocketGateway(stack, 'WebSocket', {
  backend: WebSocketBackend.http('https://app.example.com/ws'), // where websocketRoutes() is mounted
  settings: chatSettings,
  // secret: IntegrationSecret.fromSecret(mySecret) — default: a generated Secrets Manager secret
})

// The app's role may send, and disconnect, on this stage only; and read the secret.
const appRole = new iam.Role(stack, 'AppRole', {
  assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
})
ws.grantManageConnections(appRole, { disconnect: true })
ws.grantSecretRead(appRole)
// Give the app ws.backendEnvironment(): APIGW_WS_API_ID and APIGW_WS_SECRET_SOURCE.
