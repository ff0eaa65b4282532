import { startLocalGateway } from '@apigw-ws/local-gateway'

const backendUrl = process.env.BACKEND_URL ?? 'http://127.0.0.1:3000/ws'

const gateway = await startLocalGateway({
  integration: { type: 'http', baseUrl: backendUrl },
  routes: ['chat', 'join'],
  secret: { value: 'integration-secret-0123456789' },
})
// Clients connect to gateway.url (ws://127.0.0.1:<port>/local); the backend sends through
// gateway.managementEndpoint (http://127.0.0.1:<port>/local).
await gateway.close()
