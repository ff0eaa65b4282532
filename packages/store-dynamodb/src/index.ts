/**
 * `@apigw-ws/store-dynamodb`: the apigw-ws store on one DynamoDB table, for serverless backends.
 * `dynamodbStore` is the store; `tableDefinition` and `createTable` provision its table.
 */
export { type DynamoDBStoreOptions, dynamodbStore } from './dynamodb-store.js'
export {
  type CreateTableOptions,
  createTable,
  TABLE_LAYOUT,
  type TableOptions,
  tableDefinition,
} from './table.js'
