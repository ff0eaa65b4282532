/**
 * The table: one DynamoDB table holds every record of the store, under a string partition key
 * `pk` and a string sort key `sk`, with three global secondary indexes (all `KEYS_ONLY`, so that
 * a message, which updates only non-key attributes, never writes to an index). This module owns
 * the key schema — the names below are the documented, stable layout — and `createTable`, the
 * provisioning helper for development and tests.
 *
 * | item | `pk` | `sk` | `lookup` index | `status` index | `sweep` index |
 * |---|---|---|---|---|---|
 * | connection | `c#<connectionId>` | `#` | `u#<userId>` / id, while connected | `live` / id while connected, `gone` / disconnected time after | `conn` / `connectedAt` |
 * | subscription | `c#<connectionId>` | `s#<channel>` | `h#<channel>` / id | | |
 * | token | `t#<sha256 hex>` | `#` | | | `token` / `expiresAt` (0 once used) |
 * | rate-limit window | `l#<key>` | `#` | | | `limit` / `resetAt` |
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb'

/** Attribute and index names of the table layout. Stable: changing one is a migration. */
export const TABLE_LAYOUT = Object.freeze({
  /** Partition key (string) of the table. */
  partitionKey: 'pk',
  /** Sort key (string) of the table. */
  sortKey: 'sk',
  /** The TTL attribute (epoch seconds) set on tokens and rate-limit windows. */
  ttlAttribute: 'ttl',
  /** Connections of a user (while connected) and subscriptions of a channel, by connection id. */
  lookupIndex: Object.freeze({ name: 'lookup', partitionKey: 'lookupPk', sortKey: 'lookupSk' }),
  /** Connected connections by id (`live`), disconnected ones by disconnection time (`gone`). */
  statusIndex: Object.freeze({ name: 'status', partitionKey: 'statusPk', sortKey: 'statusSk' }),
  /** Everything cleanup deletes, by kind, ordered by the time it may go (a number). */
  sweepIndex: Object.freeze({ name: 'sweep', partitionKey: 'sweepPk', sortKey: 'sweepAt' }),
})

/** Options for {@link tableDefinition} and {@link createTable}. */
export interface TableOptions {
  /** Name of the table to create. */
  readonly tableName: string
  /**
   * Capacity mode. Default `'PAY_PER_REQUEST'` (on demand). With `'PROVISIONED'`, every index
   * gets the same read and write capacity as the table.
   */
  readonly billing?:
    | { readonly mode: 'PAY_PER_REQUEST' }
    | {
        readonly mode: 'PROVISIONED'
        readonly readCapacityUnits: number
        readonly writeCapacityUnits: number
      }
    | undefined
}

function keysOnlyIndex(
  index: { readonly name: string; readonly partitionKey: string; readonly sortKey: string },
  throughput: CreateTableCommandInput['ProvisionedThroughput'],
): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' },
      { AttributeName: index.sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'KEYS_ONLY' },
    ...(throughput === undefined ? {} : { ProvisionedThroughput: throughput }),
  }
}

/**
 * The `CreateTable` input of the store's table: the key schema, the attribute definitions and
 * the three `KEYS_ONLY` global secondary indexes, exactly as the store expects them. Use it to
 * create the table with the SDK, or as the reference for CloudFormation or CDK (the README has
 * the same layout as a CloudFormation resource). Throws `TypeError` for an invalid option.
 */
export function tableDefinition(options: TableOptions): CreateTableCommandInput {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('tableDefinition: options must be an object')
  }
  const { tableName } = options
  if (typeof tableName !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
    throw new TypeError('tableDefinition: tableName must match ^[A-Za-z0-9_.-]{3,255}$')
  }
  const billing = options.billing ?? { mode: 'PAY_PER_REQUEST' }
  let throughput: CreateTableCommandInput['ProvisionedThroughput']
  if (billing.mode === 'PROVISIONED') {
    for (const unit of ['readCapacityUnits', 'writeCapacityUnits'] as const) {
      if (!Number.isSafeInteger(billing[unit]) || billing[unit] < 1) {
        throw new TypeError(`tableDefinition: billing.${unit} must be a positive integer`)
      }
    }
    throughput = {
      ReadCapacityUnits: billing.readCapacityUnits,
      WriteCapacityUnits: billing.writeCapacityUnits,
    }
  } else if (billing.mode !== 'PAY_PER_REQUEST') {
    throw new TypeError("tableDefinition: billing.mode must be 'PAY_PER_REQUEST' or 'PROVISIONED'")
  }
  const { lookupIndex, statusIndex, sweepIndex } = TABLE_LAYOUT
  const strings = [
    TABLE_LAYOUT.partitionKey,
    TABLE_LAYOUT.sortKey,
    lookupIndex.partitionKey,
    lookupIndex.sortKey,
    statusIndex.partitionKey,
    statusIndex.sortKey,
    sweepIndex.partitionKey,
  ]
  const attributes: AttributeDefinition[] = [
    ...strings.map((name): AttributeDefinition => ({ AttributeName: name, AttributeType: 'S' })),
    { AttributeName: sweepIndex.sortKey, AttributeType: 'N' },
  ]
  return {
    TableName: tableName,
    AttributeDefinitions: attributes,
    KeySchema: [
      { AttributeName: TABLE_LAYOUT.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_LAYOUT.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [lookupIndex, statusIndex, sweepIndex].map((index) =>
      keysOnlyIndex(index, throughput),
    ),
    ...(throughput === undefined
      ? { BillingMode: 'PAY_PER_REQUEST' }
      : { BillingMode: 'PROVISIONED', ProvisionedThroughput: throughput }),
  }
}

/** Options for {@link createTable}. */
export interface CreateTableOptions extends TableOptions {
  /**
   * Enables DynamoDB TTL on the `ttl` attribute after creating the table. Default `true`.
   * Local emulators without `UpdateTimeToLive` (dynalite) need `false`; the store never depends
   * on TTL deletions, which only save storage.
   */
  readonly timeToLive?: boolean | undefined
  /** How long to wait for the table to become `ACTIVE`, in seconds. Default 300. */
  readonly maxWaitSeconds?: number | undefined
}

/**
 * Creates the store's table (see {@link tableDefinition}), waits until it is `ACTIVE`, and turns
 * on TTL. For development and tests; in production, provision the same layout with
 * CloudFormation or CDK. Rejects with the SDK's error when the table exists
 * (`ResourceInUseException`) or the caller lacks `dynamodb:CreateTable`.
 *
 * @example
 * ```ts
 * await createTable(new DynamoDBClient({}), { tableName: 'apigw-ws' })
 * ```
 */
export async function createTable(
  client: DynamoDBClient,
  options: CreateTableOptions,
): Promise<void> {
  const input = tableDefinition(options)
  const maxWaitTime = options.maxWaitSeconds ?? 300
  await client.send(new CreateTableCommand(input))
  await waitUntilTableExists(
    { client, maxWaitTime, minDelay: 1, maxDelay: 5 },
    { TableName: input.TableName },
  )
  if (options.timeToLive !== false) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: input.TableName,
        TimeToLiveSpecification: { AttributeName: TABLE_LAYOUT.ttlAttribute, Enabled: true },
      }),
    )
  }
}
