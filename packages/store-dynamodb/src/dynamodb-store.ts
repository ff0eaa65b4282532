/**
 * `dynamodbStore()`: the apigw-ws store SPI over one DynamoDB table (layout in `table.ts`), for
 * serverless backends that keep no database of their own. Every atomic promise is a single
 * conditional write, so it holds across any number of Lambda instances: a token is consumed by
 * one `UpdateItem` whose condition says unused, unexpired and bound to the session; a rate-limit
 * hit is one `UpdateItem` that counts inside a live window (a window that ended is restarted by a
 * second, conditional write); `touch` and `disconnect` are one `UpdateItem` each.
 *
 * Subscriptions are items of their own (so a message never pays for a connection's channels) and
 * a counter on the connection item bounds them. DynamoDB can write both in one transaction, but
 * dynalite — the emulator every local and CI run uses — has no `TransactWriteItems`, so the store
 * orders single writes instead, such that an interruption at any point leaves the counter at or
 * above the number of subscriptions: the limit can only get stricter, never looser (see the
 * README for the argument).
 */

import {
  type CleanupCounts,
  type CleanupRequest,
  type ConnectionFilter,
  type ConnectionRecord,
  type ConnectionStore,
  defineStore,
  type LimitResult,
  type LimitStore,
  type NewConnection,
  type Page,
  type PageRequest,
  type Store,
  type TokenRecord,
  type TokenStore,
} from '@apigw-ws/core'
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb'
import {
  channelLookup,
  connectionIdOf,
  connectionPk,
  GONE,
  goneBound,
  goneSortKey,
  type Item,
  key,
  LIVE,
  limitPk,
  num,
  putOptional,
  RECORD_SK,
  readNumber,
  requireNumber,
  requireString,
  SUBSCRIPTION_SK_PREFIX,
  SWEEP,
  str,
  subscriptionSk,
  toConnection,
  tokenPk,
  toToken,
  ttlSeconds,
  userLookup,
} from './items.js'
import { batchGet, batchWrite, isConditionFailure, mapBounded } from './requests.js'
import { TABLE_LAYOUT } from './table.js'

/** Options for {@link dynamodbStore}. */
export interface DynamoDBStoreOptions {
  /**
   * The DynamoDB client to send every request with, owned by the caller (the store never
   * destroys it). Its retry policy handles throttling (`ProvisionedThroughputExceededException`,
   * `ThrottlingException`); configure `maxAttempts` on the client, not here.
   */
  readonly client: DynamoDBClient
  /** The table, created with the layout of `tableDefinition` / `createTable`. */
  readonly tableName: string
}

/** How a subscription attempt ended. */
type SubscribeOutcome = 'subscribed' | 'limit' | 'gone'

/** Attempts of the rate-limit hit's count-or-restart loop before it reports contention. */
const HIT_ATTEMPTS = 8
/** Conditional deletes `cleanup` runs at once. */
const CLEANUP_WIDTH = 16

const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = TABLE_LAYOUT
const { lookupIndex, statusIndex, sweepIndex } = TABLE_LAYOUT

function assertTime(where: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${where}: ${name} must be a finite number of ms`)
  }
}

function assertCount(where: string, name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`${where}: ${name} must be an integer of at least ${min}`)
  }
}

function assertText(where: string, name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${where}: ${name} must be a non-empty string`)
  }
}

/** Reads the one selector of a filter; `TypeError` unless exactly one is set. */
function filterSelector(filter: ConnectionFilter): 'userId' | 'channel' | 'all' {
  if (typeof filter !== 'object' || filter === null) {
    throw new TypeError('connections.list: filter must be an object')
  }
  const record = filter as { userId?: unknown; channel?: unknown; all?: unknown }
  const set = (['userId', 'channel', 'all'] as const).filter((name) => record[name] !== undefined)
  const [selector] = set
  if (
    set.length !== 1 ||
    (selector === 'userId' && typeof record.userId !== 'string') ||
    (selector === 'channel' && typeof record.channel !== 'string') ||
    (selector === 'all' && record.all !== true)
  ) {
    throw new TypeError(
      'connections.list: filter must set exactly one of ' +
        'userId (string), channel (string), all (true)',
    )
  }
  return selector as 'userId' | 'channel' | 'all'
}

/**
 * Creates a store over the table `options.tableName`, sending every request with
 * `options.client`. The table must exist with the layout of {@link tableDefinition}; the store
 * never creates or alters it.
 *
 * Atomicity and concurrency, across any number of processes sharing the table:
 * `tokens.consume`, `tokens.put`, `connections.create` (the record), `touch`, `disconnect` are
 * one conditional write each, so N concurrent consumes of one token yield exactly one record;
 * `limits.hit` counts with one conditional `UpdateItem` (a second conditional write restarts an
 * ended window), so N concurrent hits yield counts 1..N. `subscribe` reserves a slot on the
 * connection's channel counter with a conditional write before it writes the subscription, so
 * the channel limit holds exactly under concurrency.
 *
 * Reads: `get` and every record `list` returns are read with strongly consistent reads; `list`
 * finds candidates through a global secondary index, which DynamoDB updates asynchronously, so a
 * connection created a moment ago may be missing from a page (never a disconnected one: each
 * candidate is re-read and checked).
 *
 * Failures: any DynamoDB error other than a failed condition rejects the returned promise
 * unchanged (the gateway fails closed on it: `$connect` answers 503). Throttling is retried by
 * the SDK client first. Programmer errors (non-finite times, invalid rules, an invalid page or
 * filter) reject with `TypeError`.
 *
 * Throws `TypeError` at construction for a missing client or table name.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
 * import { dynamodbStore } from '@apigw-ws/store-dynamodb'
 *
 * const store = dynamodbStore({ client: new DynamoDBClient({}), tableName: 'apigw-ws' })
 * ```
 */
export function dynamodbStore(options: DynamoDBStoreOptions): Store {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('dynamodbStore: options must be an object')
  }
  const { client, tableName } = options
  if (typeof client !== 'object' || client === null || typeof client.send !== 'function') {
    throw new TypeError('dynamodbStore: option "client" must be a DynamoDBClient')
  }
  if (typeof tableName !== 'string' || tableName.length === 0) {
    throw new TypeError('dynamodbStore: option "tableName" must be a non-empty string')
  }
  const TableName = tableName

  /** Runs a conditional write; resolves `false` (instead of rejecting) when the condition fails. */
  async function conditional<R>(write: () => Promise<R>): Promise<R | null> {
    try {
      return await write()
    } catch (error) {
      if (isConditionFailure(error)) return null
      throw error
    }
  }

  /** Every item of a query, following `LastEvaluatedKey`. */
  async function queryAll(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  ): Promise<Item[]> {
    const items: Item[] = []
    let start: Record<string, AttributeValue> | undefined
    do {
      const result = await client.send(
        new QueryCommand({ ...input, TableName, ExclusiveStartKey: start }),
      )
      items.push(...(result.Items ?? []))
      start = result.LastEvaluatedKey
    } while (start !== undefined)
    return items
  }

  /** The connection item and its subscription items, in one strongly consistent query. */
  async function readPartition(connectionId: string): Promise<Item[]> {
    return queryAll({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: { ':pk': str(connectionPk(connectionId)) },
      ConsistentRead: true,
    })
  }

  function channelsOf(partition: readonly Item[]): string[] {
    return partition
      .filter((item) => requireString(item, SK).startsWith(SUBSCRIPTION_SK_PREFIX))
      .map((item) => ({
        channel: requireString(item, SK).slice(SUBSCRIPTION_SK_PREFIX.length),
        seq: requireNumber(item, 'seq'),
      }))
      .sort((a, b) => a.seq - b.seq)
      .map((entry) => entry.channel)
  }

  async function channelsOfConnection(connectionId: string): Promise<string[]> {
    const subscriptions = await queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :sub)',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: {
        ':pk': str(connectionPk(connectionId)),
        ':sub': str(SUBSCRIPTION_SK_PREFIX),
      },
      ConsistentRead: true,
    })
    return channelsOf(subscriptions)
  }

  function subscriptionItem(connectionId: string, channel: string, seq: number): Item {
    return {
      ...key(connectionPk(connectionId), subscriptionSk(channel)),
      seq: num(seq),
      [lookupIndex.partitionKey]: str(channelLookup(channel)),
      [lookupIndex.sortKey]: str(connectionId),
    }
  }

  /** Gives back one slot of the channel counter (after a subscription was removed or not made). */
  async function releaseSlot(connectionId: string): Promise<void> {
    await conditional(() =>
      client.send(
        new UpdateItemCommand({
          TableName,
          Key: key(connectionPk(connectionId)),
          UpdateExpression: 'ADD channelCount :minusOne',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':minusOne': num(-1) },
        }),
      ),
    )
  }

  /**
   * Subscribes in two ordered writes: first a conditional reservation on the connection item
   * (connected, and under `maxChannels` when given), then the subscription item, written only if
   * absent. An interruption between them leaves a reserved slot without a subscription, which
   * makes the limit stricter; never a subscription without its slot.
   */
  async function subscribe(
    connectionId: string,
    channel: string,
    maxChannels: number,
  ): Promise<SubscribeOutcome> {
    const reserved = await conditional(() =>
      client.send(
        new UpdateItemCommand({
          TableName,
          Key: key(connectionPk(connectionId)),
          UpdateExpression: 'ADD channelCount :one, nextSeq :one',
          ConditionExpression:
            'attribute_exists(#pk) AND attribute_not_exists(disconnectedAt) AND channelCount < :max',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':one': num(1), ':max': num(maxChannels) },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    )
    if (reserved === null) {
      // Not reserved: gone, full, or full with this channel already among them.
      const items = await batchGet(client, TableName, [
        key(connectionPk(connectionId)),
        key(connectionPk(connectionId), subscriptionSk(channel)),
      ])
      const record = items.find((item) => requireString(item, SK) === RECORD_SK)
      if (record === undefined || readNumber(record, 'disconnectedAt') !== null) return 'gone'
      return items.length > 1 ? 'subscribed' : 'limit'
    }
    const seq = requireNumber(reserved.Attributes ?? {}, 'nextSeq')
    const written = await conditional(() =>
      client.send(
        new PutItemCommand({
          TableName,
          Item: subscriptionItem(connectionId, channel, seq),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      ),
    )
    if (written === null) await releaseSlot(connectionId)
    return 'subscribed'
  }

  const connections: ConnectionStore = Object.freeze({
    async create(connection: NewConnection, now: number): Promise<boolean> {
      // `defineStore` checked the arguments: valid ids and channels, no repeats, a finite now.
      const channels = connection.channels
      const id = connection.connectionId
      const item: Item = {
        ...key(connectionPk(id)),
        connectedAt: num(now),
        lastSeenAt: num(now),
        requestCount: num(0),
        channelCount: num(channels.length),
        nextSeq: num(channels.length),
        [statusIndex.partitionKey]: str(LIVE),
        [statusIndex.sortKey]: str(id),
        [sweepIndex.partitionKey]: str(SWEEP.connection),
        [sweepIndex.sortKey]: num(now),
      }
      putOptional(item, 'userId', connection.userId ?? null)
      putOptional(item, 'apiId', connection.apiId ?? null)
      putOptional(item, 'stage', connection.stage ?? null)
      putOptional(item, 'domainName', connection.domainName ?? null)
      if (connection.userId != null) {
        item[lookupIndex.partitionKey] = str(userLookup(connection.userId))
        item[lookupIndex.sortKey] = str(id)
      }
      // The record first, conditionally: a replayed id must not touch the existing record's
      // subscriptions. Its counter already counts the channels written next.
      const created = await conditional(() =>
        client.send(
          new PutItemCommand({
            TableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        ),
      )
      if (created === null) return false
      if (channels.length > 0) {
        await batchWrite(
          client,
          TableName,
          channels.map(
            (channel, i): WriteRequest => ({
              PutRequest: { Item: subscriptionItem(id, channel, i + 1) },
            }),
          ),
        )
      }
      return true
    },

    async get(connectionId: string): Promise<ConnectionRecord | null> {
      assertText('connections.get', 'connectionId', connectionId)
      const partition = await readPartition(connectionId)
      const record = partition.find((item) => requireString(item, SK) === RECORD_SK)
      return record === undefined ? null : Object.freeze(toConnection(record))
    },

    async touch(connectionId: string, now: number): Promise<ConnectionRecord | null> {
      assertText('connections.touch', 'connectionId', connectionId)
      assertTime('connections.touch', 'now', now)
      const result = await conditional(() =>
        client.send(
          new UpdateItemCommand({
            TableName,
            Key: key(connectionPk(connectionId)),
            UpdateExpression: 'SET lastSeenAt = :now ADD requestCount :one',
            ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(disconnectedAt)',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':now': num(now), ':one': num(1) },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      )
      // The record alone: a message never pays for the connection's channels.
      return result?.Attributes === undefined
        ? null
        : Object.freeze(toConnection(result.Attributes))
    },

    async disconnect(connectionId: string, now: number): Promise<boolean> {
      assertText('connections.disconnect', 'connectionId', connectionId)
      assertTime('connections.disconnect', 'now', now)
      const result = await conditional(() =>
        client.send(
          new UpdateItemCommand({
            TableName,
            Key: key(connectionPk(connectionId)),
            // Out of the user and live indexes, into the disconnected one, in the same write.
            UpdateExpression:
              'SET disconnectedAt = :now, #statusPk = :gone, #statusSk = :goneAt ' +
              'REMOVE #lookupPk, #lookupSk',
            ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(disconnectedAt)',
            ExpressionAttributeNames: {
              '#pk': PK,
              '#statusPk': statusIndex.partitionKey,
              '#statusSk': statusIndex.sortKey,
              '#lookupPk': lookupIndex.partitionKey,
              '#lookupSk': lookupIndex.sortKey,
            },
            ExpressionAttributeValues: {
              ':now': num(now),
              ':gone': str(GONE),
              ':goneAt': str(goneSortKey(now)),
            },
          }),
        ),
      )
      return result !== null
    },

    async channels(connectionId: string): Promise<readonly string[]> {
      return Object.freeze(await channelsOfConnection(connectionId))
    },

    subscribe(connectionId: string, channel: string, maxChannels: number) {
      return subscribe(connectionId, channel, maxChannels)
    },

    async unsubscribe(connectionId: string, channel: string): Promise<boolean> {
      assertText('connections.unsubscribe', 'connectionId', connectionId)
      assertText('connections.unsubscribe', 'channel', channel)
      // The subscription goes first and its slot after, so the counter never drops below the
      // number of subscriptions, even if the second write never happens.
      const removed = await client.send(
        new DeleteItemCommand({
          TableName,
          Key: key(connectionPk(connectionId), subscriptionSk(channel)),
          ReturnValues: 'ALL_OLD',
        }),
      )
      if (removed.Attributes === undefined) return false
      await releaseSlot(connectionId)
      return true
    },

    async list(filter: ConnectionFilter, request: PageRequest): Promise<Page<ConnectionRecord>> {
      const selector = filterSelector(filter)
      const { limit } = request
      const cursor = request.cursor ?? null
      assertCount('connections.list', 'limit', limit, 1)
      if (cursor !== null && (typeof cursor !== 'string' || cursor.length === 0)) {
        throw new TypeError('connections.list: cursor must be a non-empty string, null or absent')
      }
      const index =
        selector === 'all'
          ? { ...statusIndex, value: LIVE }
          : {
              ...lookupIndex,
              value:
                selector === 'userId'
                  ? userLookup((filter as { userId: string }).userId)
                  : channelLookup((filter as { channel: string }).channel),
            }
      // Candidates come from the index in id order; each is re-read consistently and kept only
      // while connected. One record more than asked tells whether another page exists.
      const live: ConnectionRecord[] = []
      let start: Record<string, AttributeValue> | undefined
      do {
        const result = await client.send(
          new QueryCommand({
            TableName,
            IndexName: index.name,
            KeyConditionExpression:
              cursor === null ? '#ipk = :ipk' : '#ipk = :ipk AND #isk > :cursor',
            ExpressionAttributeNames: {
              '#ipk': index.partitionKey,
              ...(cursor === null ? {} : { '#isk': index.sortKey }),
            },
            ExpressionAttributeValues: {
              ':ipk': str(index.value),
              ...(cursor === null ? {} : { ':cursor': str(cursor) }),
            },
            Limit: limit + 1 - live.length,
            ExclusiveStartKey: start,
          }),
        )
        start = result.LastEvaluatedKey
        const ids = (result.Items ?? []).map((item) => requireString(item, index.sortKey))
        const found = new Map(
          (
            await batchGet(
              client,
              TableName,
              ids.map((id) => key(connectionPk(id))),
            )
          ).map((item) => {
            const record = toConnection(item)
            return [record.connectionId, record] as const
          }),
        )
        for (const id of ids) {
          const record = found.get(id)
          if (record !== undefined && record.disconnectedAt === null) live.push(record)
        }
      } while (start !== undefined && live.length <= limit)
      const items = live.slice(0, limit).map((record) => Object.freeze(record))
      const last = items[items.length - 1]
      return Object.freeze({
        items: Object.freeze(items),
        nextCursor: live.length > limit && last !== undefined ? last.connectionId : null,
      })
    },
  })

  const tokens: TokenStore = Object.freeze({
    async put(token: TokenRecord): Promise<boolean> {
      assertText('tokens.put', 'hash', token.hash)
      assertText('tokens.put', 'userId', token.userId)
      assertTime('tokens.put', 'expiresAt', token.expiresAt)
      const item: Item = {
        ...key(tokenPk(token.hash)),
        userId: str(token.userId),
        expiresAt: num(token.expiresAt),
        [sweepIndex.partitionKey]: str(SWEEP.token),
        [sweepIndex.sortKey]: num(token.expiresAt),
        [TTL]: num(ttlSeconds(token.expiresAt)),
      }
      putOptional(item, 'sessionHash', token.sessionHash ?? null)
      putOptional(item, 'channel', token.channel ?? null)
      const stored = await conditional(() =>
        client.send(
          new PutItemCommand({
            TableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        ),
      )
      return stored !== null
    },

    async consume(
      hash: string,
      sessionHash: string | null,
      now: number,
    ): Promise<TokenRecord | null> {
      // The whole check is the condition of one write: DynamoDB applies conditional writes to
      // one item one at a time, so of N concurrent consumes exactly one finds it unused.
      const result = await conditional(() =>
        client.send(
          new UpdateItemCommand({
            TableName,
            Key: key(tokenPk(hash)),
            UpdateExpression: 'SET usedAt = :now, #sweepAt = :zero',
            ConditionExpression:
              'attribute_exists(#pk) AND attribute_not_exists(usedAt) AND expiresAt > :now AND ' +
              (sessionHash === null
                ? 'attribute_not_exists(sessionHash)'
                : '(attribute_not_exists(sessionHash) OR sessionHash = :session)'),
            ExpressionAttributeNames: { '#pk': PK, '#sweepAt': sweepIndex.sortKey },
            ExpressionAttributeValues: {
              ':now': num(now),
              ':zero': num(0),
              ...(sessionHash === null ? {} : { ':session': str(sessionHash) }),
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      )
      return result?.Attributes === undefined ? null : toToken(result.Attributes)
    },
  })

  const limits: LimitStore = Object.freeze({
    async hit(
      limitKey: string,
      rule: { readonly limit: number; readonly windowMs: number },
      now: number,
    ): Promise<LimitResult> {
      assertText('limits.hit', 'key', limitKey)
      assertCount('limits.hit', 'rule.limit', rule.limit, 0)
      assertCount('limits.hit', 'rule.windowMs', rule.windowMs, 1)
      assertTime('limits.hit', 'now', now)
      const resetAt = now + rule.windowMs
      const names = { '#sweepPk': sweepIndex.partitionKey, '#sweepAt': sweepIndex.sortKey }
      const result = (count: number, windowEnd: number): LimitResult =>
        Object.freeze({ allowed: count <= rule.limit, count, resetAt: windowEnd })
      // Each hit is counted by exactly one successful write: the first counts inside a live (or
      // new) window; only when the window has ended does the second restart it at count 1. A
      // failed condition writes nothing, so a loser of either race simply tries again.
      for (let attempt = 0; attempt < HIT_ATTEMPTS; attempt += 1) {
        const counted = await conditional(() =>
          client.send(
            new UpdateItemCommand({
              TableName,
              Key: key(limitPk(limitKey)),
              UpdateExpression:
                'SET resetAt = if_not_exists(resetAt, :resetAt), ' +
                '#sweepPk = if_not_exists(#sweepPk, :kind), ' +
                '#sweepAt = if_not_exists(#sweepAt, :resetAt), ' +
                '#ttl = if_not_exists(#ttl, :ttl) ADD hits :one',
              ConditionExpression: 'attribute_not_exists(resetAt) OR resetAt > :now',
              ExpressionAttributeNames: { ...names, '#ttl': TTL },
              ExpressionAttributeValues: {
                ':resetAt': num(resetAt),
                ':kind': str(SWEEP.limit),
                ':ttl': num(ttlSeconds(resetAt)),
                ':one': num(1),
                ':now': num(now),
              },
              ReturnValues: 'ALL_NEW',
            }),
          ),
        )
        if (counted?.Attributes !== undefined) {
          const item = counted.Attributes
          return result(requireNumber(item, 'hits'), requireNumber(item, 'resetAt'))
        }
        const restarted = await conditional(() =>
          client.send(
            new UpdateItemCommand({
              TableName,
              Key: key(limitPk(limitKey)),
              UpdateExpression:
                'SET hits = :one, resetAt = :resetAt, #sweepAt = :resetAt, #ttl = :ttl',
              ConditionExpression: 'resetAt <= :now',
              ExpressionAttributeNames: { '#sweepAt': sweepIndex.sortKey, '#ttl': TTL },
              ExpressionAttributeValues: {
                ':resetAt': num(resetAt),
                ':ttl': num(ttlSeconds(resetAt)),
                ':one': num(1),
                ':now': num(now),
              },
            }),
          ),
        )
        if (restarted !== null) return result(1, resetAt)
      }
      throw new Error(`limits.hit: no write succeeded in ${HIT_ATTEMPTS} attempts (contention)`)
    },
  })

  /** Keys of the sweep index entries of `kind` at or before `time`, at most `limit`. */
  async function sweepCandidates(kind: string, time: number, limit: number): Promise<Item[]> {
    const result = await client.send(
      new QueryCommand({
        TableName,
        IndexName: sweepIndex.name,
        KeyConditionExpression: '#k = :kind AND #at <= :time',
        ExpressionAttributeNames: { '#k': sweepIndex.partitionKey, '#at': sweepIndex.sortKey },
        ExpressionAttributeValues: { ':kind': str(kind), ':time': num(time) },
        Limit: limit,
      }),
    )
    return result.Items ?? []
  }

  /** Deletes each key on its condition; resolves how many deletes happened. */
  async function deleteWhere(
    keys: readonly Item[],
    condition: string,
    values: Record<string, AttributeValue>,
  ): Promise<number> {
    const deleted = await mapBounded(keys, CLEANUP_WIDTH, (item) =>
      conditional(() =>
        client.send(
          new DeleteItemCommand({
            TableName,
            Key: key(requireString(item, PK), requireString(item, SK)),
            ConditionExpression: condition,
            ExpressionAttributeValues: values,
          }),
        ),
      ),
    )
    return deleted.filter((outcome) => outcome !== null).length
  }

  /**
   * Deletes one connection and its subscriptions; resolves whether this call deleted the
   * record. A connected record is first marked disconnected (so no new subscription can be
   * reserved), then its subscriptions go, then the record, conditionally: interrupted anywhere,
   * the record is still there for the next cleanup to finish the job.
   */
  async function deleteConnection(
    connectionId: string,
    request: CleanupRequest,
    now: number,
  ): Promise<boolean> {
    let partition = await readPartition(connectionId)
    const record = partition.find((item) => requireString(item, SK) === RECORD_SK)
    if (record === undefined) return false
    const connectedAt = requireNumber(record, 'connectedAt')
    const disconnectedAt = readNumber(record, 'disconnectedAt')
    const due =
      connectedAt <= request.connectedBefore ||
      (disconnectedAt !== null && disconnectedAt <= request.disconnectedBefore)
    if (!due) return false
    if (disconnectedAt === null) {
      await connections.disconnect(connectionId, now)
      partition = await readPartition(connectionId)
    }
    const subscriptions = partition.filter((item) => requireString(item, SK) !== RECORD_SK)
    await batchWrite(
      client,
      TableName,
      subscriptions.map(
        (item): WriteRequest => ({
          DeleteRequest: { Key: key(requireString(item, PK), requireString(item, SK)) },
        }),
      ),
    )
    const deleted = await conditional(() =>
      client.send(
        new DeleteItemCommand({
          TableName,
          Key: key(connectionPk(connectionId)),
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      ),
    )
    return deleted !== null
  }

  async function cleanupConnections(request: CleanupRequest, now: number): Promise<number> {
    const { batchSize } = request
    const stale = await sweepCandidates(SWEEP.connection, request.connectedBefore, batchSize)
    const bound = goneBound(request.disconnectedBefore)
    const gone =
      bound === null
        ? []
        : ((
            await client.send(
              new QueryCommand({
                TableName,
                IndexName: statusIndex.name,
                KeyConditionExpression: '#spk = :gone AND #ssk <= :bound',
                ExpressionAttributeNames: {
                  '#spk': statusIndex.partitionKey,
                  '#ssk': statusIndex.sortKey,
                },
                ExpressionAttributeValues: { ':gone': str(GONE), ':bound': str(bound) },
                Limit: batchSize,
              }),
            )
          ).Items ?? [])
    const ids = [...new Set([...stale, ...gone].map((item) => requireString(item, PK)))]
      .slice(0, batchSize)
      .map(connectionIdOf)
    const deleted = await mapBounded(ids, CLEANUP_WIDTH, (id) => deleteConnection(id, request, now))
    return deleted.filter(Boolean).length
  }

  async function cleanup(request: CleanupRequest, now: number): Promise<CleanupCounts> {
    const { batchSize } = request
    const nowValue = { ':now': num(now) }
    // Each delete re-checks what the index said, so an item renewed meanwhile (a window
    // restarted by a hit) stays, and concurrent cleanups count every deletion once.
    const [tokensDeleted, limitsDeleted] = await Promise.all([
      sweepCandidates(SWEEP.token, now, batchSize).then((keys) =>
        deleteWhere(keys, 'attribute_exists(usedAt) OR expiresAt <= :now', nowValue),
      ),
      sweepCandidates(SWEEP.limit, now, batchSize).then((keys) =>
        deleteWhere(keys, 'resetAt <= :now', nowValue),
      ),
    ])
    return Object.freeze({
      tokens: tokensDeleted,
      rateLimits: limitsDeleted,
      connections: await cleanupConnections(request, now),
    })
  }

  return defineStore({ connections, tokens, limits, cleanup })
}
