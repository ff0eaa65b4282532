import { webSocketSettings } from '@apigw-ws/cdk/settings'

// One module imported by the CDK app and by the backend, so both sides agree.
export const chatSettings = webSocketSettings({
  routes: ['join', 'leave', 'chat', 'who'],
  twoWayRoutes: ['join', 'leave', 'who'], // handlers that return a value to the client
})
