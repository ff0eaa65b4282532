import { createGateway, logEvents, type WebSocketEvent } from '@apigw-ws/core'
import { memoryStore } from '@apigw-ws/store-memory'

const gateway = createGateway({
  integration: 'lambda',
  store: memoryStore(), // use kyselyStore(…) on PostgreSQL: Lambda instances share nothing
  allowedOrigins: ['https://app.example.com'],
  onEvent: logEvents(), // a line per refusal and step, never a secret
})

export const handler = (event: WebSocketEvent) => gateway.lambda(event)
