import { createGateway, logEvents } from '@apigw-ws/core'
import { startLocalGateway } from '@apigw-ws/local-gateway'
import { memoryStore } from '@apigw-ws/store-memory'

const app = createGateway({
  integration: 'lambda',
  store: memoryStore(),
  allowedOrigins: ['http://127.0.0.1:5173'],
  onEvent: logEvents(), // a line per refusal and step, never a secret
})

export const gateway = await startLocalGateway({
  integration: { type: 'lambda', handler: (event) => app.lambda(event) },
})
