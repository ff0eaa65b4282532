/**
 * `ConnectionTable`: the DynamoDB table `@apigw-ws/store-dynamodb` keeps its records in, with the
 * key schema, the three `KEYS_ONLY` indexes and the TTL attribute that store expects, and a grant
 * of exactly the actions it calls. The layout is the store's documented one (its `TABLE_LAYOUT`);
 * a test compares this construct's template with the store's own `tableDefinition()`.
 */
import { RemovalPolicy } from 'aws-cdk-lib'
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import type * as iam from 'aws-cdk-lib/aws-iam'
import { Construct } from 'constructs'

/** The actions `@apigw-ws/store-dynamodb` calls; nothing else (no `Scan`, no table management). */
export const CONNECTION_TABLE_ACTIONS: readonly string[] = Object.freeze([
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
])

const INDEXES = [
  { indexName: 'lookup', partitionKey: 'lookupPk', sortKey: 'lookupSk', numeric: false },
  { indexName: 'status', partitionKey: 'statusPk', sortKey: 'statusSk', numeric: false },
  { indexName: 'sweep', partitionKey: 'sweepPk', sortKey: 'sweepAt', numeric: true },
] as const

/** Props of {@link ConnectionTable}. */
export interface ConnectionTableProps {
  /** Physical table name; CloudFormation generates one when omitted. */
  readonly tableName?: string | undefined
  /**
   * What happens to the table when it leaves the stack. Default `RemovalPolicy.RETAIN`: the
   * table holds live connections and tokens, so deleting a stack never drops it silently.
   */
  readonly removalPolicy?: RemovalPolicy | undefined
}

/**
 * One on-demand DynamoDB table in the layout of `@apigw-ws/store-dynamodb`: string keys `pk` and
 * `sk`, `KEYS_ONLY` global secondary indexes `lookup`, `status` and `sweep`, and TTL on `ttl`
 * (which only saves storage: the store never relies on TTL timing). Pass `table.tableName` to
 * `dynamodbStore({ tableName })` and call {@link ConnectionTable.grantStoreAccess} for the
 * function or task that runs the store.
 */
export class ConnectionTable extends Construct {
  /** The table. */
  readonly table: dynamodb.Table
  /** Its physical name (a token until deployment when generated). */
  readonly tableName: string

  constructor(scope: Construct, id: string, props: ConnectionTableProps = {}) {
    super(scope, id)
    this.table = new dynamodb.Table(this, 'Table', {
      ...(props.tableName === undefined ? {} : { tableName: props.tableName }),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    })
    for (const index of INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: {
          name: index.sortKey,
          type: index.numeric ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING,
        },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      })
    }
    this.tableName = this.table.tableName
  }

  /**
   * Lets `grantee` run the store: {@link CONNECTION_TABLE_ACTIONS} on the table and its indexes,
   * nothing more.
   */
  grantStoreAccess(grantee: iam.IGrantable): iam.Grant {
    return this.table.grant(grantee, ...CONNECTION_TABLE_ACTIONS)
  }
}
