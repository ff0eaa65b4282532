import { awsConnections } from '@apigw-ws/core/aws'

// Two WebSocket APIs mapped under one custom domain. The endpoint is chosen per connection from
// the API id it connected through; a connection of any other API fails with NO_ENDPOINT.
const basePaths = new Map([
  ['a1b2c3d4e5', 'chat'],
  ['f6g7h8i9j0', 'admin'],
])

export const connections = awsConnections({
  region: 'eu-west-1',
  endpoint: ({ apiId }) => {
    const basePath = apiId === null ? undefined : basePaths.get(apiId)
    return basePath === undefined ? null : `https://ws.example.com/${basePath}`
  },
})
