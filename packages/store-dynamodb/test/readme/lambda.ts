import { createGateway, type WebSocketEvent } from '@apigw-ws/core'
import { dynamodbStore } from '@apigw-ws/store-dynamodb'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'

// One client per Lambda instance, created outside the handler so warm invocations reuse its
// connections. Its retry strategy handles throttling.
const client = new DynamoDBClient({ maxAttempts: 5 })

const gateway = createGateway({
  integration: 'lambda',
  store: dynamodbStore({ client, tableName: process.env.TABLE_NAME ?? 'apigw-ws' }),
  allowedOrigins: ['https://app.example.com'],
})

export const handler = (event: WebSocketEvent) => gateway.lambda(event)
