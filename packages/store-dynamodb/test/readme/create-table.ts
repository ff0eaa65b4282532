import { createTable } from '@apigw-ws/store-dynamodb'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'

// Development and tests only: in production, provision the table with CloudFormation or CDK.
await createTable(new DynamoDBClient({}), { tableName: 'apigw-ws' })
