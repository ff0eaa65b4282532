import { ConnectionTable } from '@apigw-ws/cdk'
import { App, Stack } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'

const stack = new Stack(new App(), 'ChatState')

// The table of @apigw-ws/store-dynamodb: its keys, indexes and TTL attribute, retained on delete.
const connections = new ConnectionTable(stack, 'Connections')

const backendRole = new iam.Role(stack, 'BackendRole', {
  assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
})
// Exactly the store's actions, on the table and its indexes.
connections.grantStoreAccess(backendRole)
// Give the backend connections.tableName for dynamodbStore({ client, tableName }).
