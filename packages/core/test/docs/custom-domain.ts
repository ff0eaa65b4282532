import { awsConnections } from '@apigw-ws/core/aws'

// A custom domain whose API mapping puts the WebSocket API at the base path `chat`: the
// `@connections` endpoint is the domain plus that base path (no stage in the URL).
export const connections = awsConnections({
  region: 'eu-west-1',
  endpoint: 'https://ws.example.com/chat',
})
