/**
 * `dynamodbStore()`: the apigw-ws store SPI over one DynamoDB table (layout in `table.ts`), for
 * serverless backends that keep no database of their own. Every atomic promise is a single
 * conditional write, so it holds across any number of Lambda instances: a token is consumed by
 * one `UpdateItem` whose condition says unused, unexpired and bound to the session; a rate-limit
 * hit is one `UpdateItem` that counts inside a live window (a window that ended is restarted by a
 * second, conditional write); `touch` and `disconnect` are one `UpdateItem` each.
 *
 * Subscriptions are items of their own (so a message never pays for a connection's channels) and
 * a counter on the connection item bounds them. DynamoDB could write a connection and its
 * subscriptions in one transaction, but dynalite — the emulator every local and CI run uses — has
 * no `TransactWriteItems`, so the store orders single writes instead, such that an interruption
 * at any point leaves the counter at or above the number of subscriptions (the limit can only get
 * stricter, never looser) and never shows a connection without its initial channels (see the
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
  type LimitRule,
  type LimitStore,
  type NewConnection,
  type Page,
  type PageRequest,
  type Store,
  type SubscribeResult,
  type TokenRecord,
  type TokenStore,
} from '@apigw-ws/core'
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
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

/** Attempts of the rate-limit hit's count-or-restart loop before it reports contention. */
const HIT_ATTEMPTS = 8
/** Conditional deletes `cleanup` runs at once. */
const CLEANUP_WIDTH = 16

const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = TABLE_LAYOUT
const { lookupIndex, statusIndex, sweepIndex } = TABLE_LAYOUT

/**
 * The condition of every write that needs a connected record: it exists, is not disconnected,
 * and is not `pending` (a record whose initial subscriptions are still being written).
 */
const CONNECTED =
  'attribute_exists(#pk) AND attribute_not_exists(disconnectedAt) AND attribute_not_exists(pending)'

/** `true` for a connection item that readers may see (not still being created). */
const isVisible = (item: Item): boolean => item.pending === undefined

/**
 * Creates a store over the table `options.tableName`, sending every request with
 * `options.client`. The table must exist with the layout of {@link tableDefinition}; the store
 * never creates or alters it. Built with `defineStore`, so arguments are checked once and
 * `admit` runs the five `$connect` steps as separate requests (four without a channel), and
 * `admitMessage` a message's `touch` and limit hit as two (one without the message limit).
 *
 * Atomicity and concurrency, across any number of processes sharing the table:
 * `tokens.consume`, `tokens.put`, `touch` and `disconnect` are one conditional write each, so N
 * concurrent consumes of one token yield exactly one record; `limits.hit` counts with one
 * conditional `UpdateItem` (a second conditional write restarts an ended window), so N concurrent
 * hits yield counts 1..N. `connections.create` is one conditional `PutItem`; with initial
 * channels the record stays invisible (`pending`) until its subscriptions are written, so it
 * appears with them or not at all. `subscribe` reserves a place on the connection's channel
 * counter with a conditional write before it writes the subscription, so the channel limit holds
 * exactly under concurrency.
 *
 * Reads: `get`, `channels` and every record `list` returns are strongly consistent reads; `list`
 * finds candidates through a global secondary index, which DynamoDB updates asynchronously, so a
 * connection created a moment ago may be missing from a page (never a disconnected one: each
 * candidate is re-read and checked).
 *
 * Failures: any DynamoDB error other than a failed condition rejects the returned promise
 * unchanged (the gateway fails closed on it: `$connect` answers 503). Throttling is retried by
 * the SDK client first.
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

  /** Runs a conditional write; resolves `null` (instead of rejecting) when the condition fails. */
  async function conditional<R>(write: () => Promise<R>): Promise<R | null> {
    try {
      return await write()
    } catch (error) {
      if (isConditionFailure(error)) return null
      throw error
    }
  }

  /** Writes `item` unless an item with its key exists: `true` when written, `false` when not. */
  async function putNew(item: Item): Promise<boolean> {
    const written = await conditional(() =>
      client.send(
        new PutItemCommand({
          TableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      ),
    )
    return written !== null
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
  function readPartition(connectionId: string): Promise<Item[]> {
    return queryAll({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: { ':pk': str(connectionPk(connectionId)) },
      ConsistentRead: true,
    })
  }

  const isRecord = (item: Item): boolean => requireString(item, SK) === RECORD_SK

  function subscriptionItem(connectionId: string, channel: string, seq: number): Item {
    return {
      ...key(connectionPk(connectionId), subscriptionSk(channel)),
      seq: num(seq),
      [lookupIndex.partitionKey]: str(channelLookup(channel)),
      [lookupIndex.sortKey]: str(connectionId),
    }
  }

  /** Index keys of a connected connection: the user lookup (if any) and the live status. */
  function liveIndexKeys(connectionId: string, userId: string | null): Item {
    return {
      [statusIndex.partitionKey]: str(LIVE),
      [statusIndex.sortKey]: str(connectionId),
      ...(userId === null
        ? {}
        : {
            [lookupIndex.partitionKey]: str(userLookup(userId)),
            [lookupIndex.sortKey]: str(connectionId),
          }),
    }
  }

  /** Gives back one place of the channel counter (after a subscription was removed or not made). */
  async function releasePlace(connectionId: string): Promise<void> {
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

  const connections: ConnectionStore = {
    async create(connection: NewConnection, now: number): Promise<boolean> {
      const id = connection.connectionId
      const { channels, userId } = connection
      const isPending = channels.length > 0
      const item: Item = {
        ...key(connectionPk(id)),
        connectedAt: num(now),
        lastSeenAt: num(now),
        requestCount: num(0),
        channelCount: num(channels.length),
        nextSeq: num(channels.length),
        [sweepIndex.partitionKey]: str(SWEEP.connection),
        [sweepIndex.sortKey]: num(now),
        // With channels, the record is written invisible and without index keys, and shown
        // (index keys set, `pending` removed) only once its subscriptions exist.
        ...(isPending ? { pending: { BOOL: true } } : liveIndexKeys(id, userId)),
      }
      putOptional(item, 'userId', userId)
      putOptional(item, 'apiId', connection.apiId)
      putOptional(item, 'stage', connection.stage)
      putOptional(item, 'domainName', connection.domainName)
      // The record first, conditionally: a replayed id must never touch the existing record's
      // subscriptions. Its counter already counts the channels written next.
      if (!(await putNew(item))) return false
      if (!isPending) return true
      await batchWrite(
        client,
        TableName,
        channels.map(
          (channel, i): WriteRequest => ({
            PutRequest: { Item: subscriptionItem(id, channel, i + 1) },
          }),
        ),
      )
      const live = liveIndexKeys(id, userId)
      const names: Record<string, string> = { '#pk': PK }
      const values: Record<string, AttributeValue> = {}
      const sets = Object.entries(live).map(([name, value], i) => {
        names[`#k${i}`] = name
        values[`:k${i}`] = value
        return `#k${i} = :k${i}`
      })
      await client.send(
        new UpdateItemCommand({
          TableName,
          Key: key(connectionPk(id)),
          UpdateExpression: `SET ${sets.join(', ')} REMOVE pending`,
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      )
      return true
    },

    async get(connectionId: string): Promise<ConnectionRecord | null> {
      const { Item: item } = await client.send(
        new GetItemCommand({
          TableName,
          Key: key(connectionPk(connectionId)),
          ConsistentRead: true,
        }),
      )
      return item === undefined || !isVisible(item) ? null : toConnection(item)
    },

    async touch(connectionId: string, now: number): Promise<ConnectionRecord | null> {
      const result = await conditional(() =>
        client.send(
          new UpdateItemCommand({
            TableName,
            Key: key(connectionPk(connectionId)),
            UpdateExpression: 'SET lastSeenAt = :now ADD requestCount :one',
            ConditionExpression: CONNECTED,
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':now': num(now), ':one': num(1) },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      )
      return result?.Attributes === undefined ? null : toConnection(result.Attributes)
    },

    async disconnect(connectionId: string, now: number): Promise<boolean> {
      const result = await conditional(() =>
        client.send(
          new UpdateItemCommand({
            TableName,
            Key: key(connectionPk(connectionId)),
            // Out of the user and live indexes, into the disconnected one, in the same write.
            UpdateExpression:
              'SET disconnectedAt = :now, #statusPk = :gone, #statusSk = :goneAt ' +
              'REMOVE #lookupPk, #lookupSk',
            ConditionExpression: CONNECTED,
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
      const partition = await readPartition(connectionId)
      const record = partition.find(isRecord)
      if (record === undefined || !isVisible(record)) return Object.freeze([])
      const channels = partition
        .filter((item) => !isRecord(item))
        .map((item) => ({
          channel: requireString(item, SK).slice(SUBSCRIPTION_SK_PREFIX.length),
          seq: requireNumber(item, 'seq'),
        }))
        .sort((a, b) => a.seq - b.seq)
        .map((entry) => entry.channel)
      return Object.freeze(channels)
    },

    /**
     * Two ordered writes: a conditional reservation on the connection item (connected, under
     * `maxChannels`), then the subscription item, written only if absent (else the place is
     * given back). Cut off between them, a place stays reserved without a subscription: the
     * limit gets stricter for this connection, never looser.
     */
    async subscribe(
      connectionId: string,
      channel: string,
      maxChannels: number,
    ): Promise<SubscribeResult> {
      const reserved = await conditional(() =>
        client.send(
          new UpdateItemCommand({
            TableName,
            Key: key(connectionPk(connectionId)),
            UpdateExpression: 'ADD channelCount :one, nextSeq :one',
            ConditionExpression: `${CONNECTED} AND channelCount < :max`,
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':one': num(1), ':max': num(maxChannels) },
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      )
      if (reserved === null) {
        // No place: gone, or full — with this channel already among them, or not.
        const items = await batchGet(client, TableName, [
          key(connectionPk(connectionId)),
          key(connectionPk(connectionId), subscriptionSk(channel)),
        ])
        const record = items.find(isRecord)
        if (
          record === undefined ||
          !isVisible(record) ||
          readNumber(record, 'disconnectedAt') !== null
        ) {
          return 'gone'
        }
        return items.length > 1 ? 'subscribed' : 'limit'
      }
      const seq = requireNumber(reserved.Attributes ?? {}, 'nextSeq')
      const written = await putNew(subscriptionItem(connectionId, channel, seq))
      if (!written) await releasePlace(connectionId)
      return 'subscribed'
    },

    async unsubscribe(connectionId: string, channel: string): Promise<boolean> {
      // The subscription goes first and its place after, so the counter never drops below the
      // number of subscriptions, even if the second write never happens.
      const removed = await client.send(
        new DeleteItemCommand({
          TableName,
          Key: key(connectionPk(connectionId), subscriptionSk(channel)),
          ReturnValues: 'ALL_OLD',
        }),
      )
      if (removed.Attributes === undefined) return false
      await releasePlace(connectionId)
      return true
    },

    async list(filter: ConnectionFilter, request: PageRequest): Promise<Page<ConnectionRecord>> {
      const { limit } = request
      const cursor = request.cursor ?? null
      const index =
        'all' in filter
          ? { ...statusIndex, value: LIVE }
          : {
              ...lookupIndex,
              value: 'userId' in filter ? userLookup(filter.userId) : channelLookup(filter.channel),
            }
      // Candidates come from the index in id order, `Limit` at a time, following
      // `LastEvaluatedKey`; each is re-read consistently and kept only while connected. One
      // record more than asked tells whether another page exists.
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
        const items = await batchGet(
          client,
          TableName,
          ids.map((id) => key(connectionPk(id))),
        )
        const found = new Map(
          items.filter(isVisible).map((item) => {
            const record = toConnection(item)
            return [record.connectionId, record] as const
          }),
        )
        for (const id of ids) {
          const record = found.get(id)
          if (record !== undefined && record.disconnectedAt === null) live.push(record)
        }
      } while (start !== undefined && live.length <= limit)
      const items = live.slice(0, limit)
      const last = items[items.length - 1]
      return Object.freeze({
        items: Object.freeze(items),
        nextCursor: live.length > limit && last !== undefined ? last.connectionId : null,
      })
    },
  }

  const tokens: TokenStore = {
    async put(token: TokenRecord): Promise<boolean> {
      const item: Item = {
        ...key(tokenPk(token.hash)),
        userId: str(token.userId),
        expiresAt: num(token.expiresAt),
        [sweepIndex.partitionKey]: str(SWEEP.token),
        [sweepIndex.sortKey]: num(token.expiresAt),
        [TTL]: num(ttlSeconds(token.expiresAt)),
      }
      putOptional(item, 'sessionHash', token.sessionHash)
      putOptional(item, 'channel', token.channel)
      return putNew(item)
    },

    async consume(
      hash: string,
      sessionHash: string | null,
      now: number,
    ): Promise<TokenRecord | null> {
      // The whole check is the condition of one write: DynamoDB applies conditional writes to
      // one item one at a time, so of N concurrent consumes exactly one finds it unused. A used
      // token's sweep time drops to 0: cleanup may delete it at once.
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
  }

  const limits: LimitStore = {
    async hit(limitKey: string, rule: LimitRule, now: number): Promise<LimitResult> {
      const resetAt = now + rule.windowMs
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
              ExpressionAttributeNames: {
                '#sweepPk': sweepIndex.partitionKey,
                '#sweepAt': sweepIndex.sortKey,
                '#ttl': TTL,
              },
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
  }

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
    const record = partition.find(isRecord)
    if (record === undefined) return false
    const connectedAt = requireNumber(record, 'connectedAt')
    const disconnectedAt = readNumber(record, 'disconnectedAt')
    const due =
      connectedAt <= request.connectedBefore ||
      (disconnectedAt !== null && disconnectedAt <= request.disconnectedBefore)
    if (!due) return false
    if (disconnectedAt === null && isVisible(record)) {
      await connections.disconnect(connectionId, now)
      partition = await readPartition(connectionId)
    }
    await batchWrite(
      client,
      TableName,
      partition
        .filter((item) => !isRecord(item))
        .map(
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
