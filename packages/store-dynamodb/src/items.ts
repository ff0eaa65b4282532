/**
 * Items: how the store's records are written to and read from DynamoDB attribute values, and
 * the keys of every item kind (see the layout in `table.ts`). Nothing here sends a request.
 */

import type { ConnectionRecord, TokenRecord } from '@apigw-ws/core'
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { TABLE_LAYOUT } from './table.js'

/** One DynamoDB item in the low-level attribute-value form. */
export type Item = Record<string, AttributeValue>

const { partitionKey: PK, sortKey: SK } = TABLE_LAYOUT

/** The sort key of every item that is alone in its partition, and of a connection record. */
export const RECORD_SK = '#'
/** Sort keys of a connection's subscriptions start with this. */
export const SUBSCRIPTION_SK_PREFIX = 's#'

export const str = (value: string): AttributeValue => ({ S: value })
export const num = (value: number): AttributeValue => ({ N: String(value) })

/** The primary key of an item. */
export function key(pk: string, sk: string = RECORD_SK): Item {
  return { [PK]: str(pk), [SK]: str(sk) }
}

export const connectionPk = (connectionId: string): string => `c#${connectionId}`
export const tokenPk = (hash: string): string => `t#${hash}`
export const limitPk = (limitKey: string): string => `l#${limitKey}`
export const userLookup = (userId: string): string => `u#${userId}`
export const channelLookup = (channel: string): string => `h#${channel}`
export const subscriptionSk = (channel: string): string => `${SUBSCRIPTION_SK_PREFIX}${channel}`

/** The connection id of a connection or subscription item key (`c#<id>`). */
export function connectionIdOf(pk: string): string {
  if (!pk.startsWith('c#')) throw new Error(`dynamodb store: unexpected key ${JSON.stringify(pk)}`)
  return pk.slice(2)
}

/** Status index partition of connected connections. */
export const LIVE = 'live'
/** Status index partition of disconnected connections. */
export const GONE = 'gone'
/** Sweep index partitions. */
export const SWEEP = Object.freeze({ connection: 'conn', token: 'token', limit: 'limit' })

/**
 * The status-index sort key of a disconnected connection: its disconnection time as a
 * fixed-width decimal, so that string order is time order. Rounded up, so that a query for
 * "at or before t" (rounded down) never returns a record disconnected after t.
 */
export function goneSortKey(disconnectedAt: number): string {
  return String(Math.max(0, Math.ceil(disconnectedAt))).padStart(16, '0')
}

/** The upper bound of a status-index query for records disconnected at or before `time`. */
export function goneBound(time: number): string | null {
  const floor = Math.floor(time)
  return floor < 0 ? null : String(floor).padStart(16, '0')
}

/** DynamoDB TTL value (epoch seconds) for a record that may go at `timeMs`. */
export const ttlSeconds = (timeMs: number): number => Math.max(0, Math.ceil(timeMs / 1000))

export function readString(item: Item, name: string): string | null {
  const value = item[name]
  if (value === undefined || value.NULL === true) return null
  if (typeof value.S !== 'string') {
    throw new Error(`dynamodb store: attribute ${name} is not a string`)
  }
  return value.S
}

export function readNumber(item: Item, name: string): number | null {
  const value = item[name]
  if (value === undefined || value.NULL === true) return null
  const parsed = typeof value.N === 'string' ? Number(value.N) : Number.NaN
  if (!Number.isFinite(parsed)) throw new Error(`dynamodb store: attribute ${name} is not a number`)
  return parsed
}

export function requireString(item: Item, name: string): string {
  const value = readString(item, name)
  if (value === null) throw new Error(`dynamodb store: attribute ${name} is missing`)
  return value
}

export function requireNumber(item: Item, name: string): number {
  const value = readNumber(item, name)
  if (value === null) throw new Error(`dynamodb store: attribute ${name} is missing`)
  return value
}

/** Copies `value` into `item` under `name` unless it is `null` (absent attributes mean null). */
export function putOptional(item: Item, name: string, value: string | null): void {
  if (value !== null) item[name] = str(value)
}

/** A connection record from its item. */
export function toConnection(item: Item): ConnectionRecord {
  return Object.freeze({
    connectionId: connectionIdOf(requireString(item, PK)),
    userId: readString(item, 'userId'),
    apiId: readString(item, 'apiId'),
    stage: readString(item, 'stage'),
    domainName: readString(item, 'domainName'),
    connectedAt: requireNumber(item, 'connectedAt'),
    lastSeenAt: requireNumber(item, 'lastSeenAt'),
    requestCount: requireNumber(item, 'requestCount'),
    disconnectedAt: readNumber(item, 'disconnectedAt'),
  })
}

/** A token record from its item. */
export function toToken(item: Item): TokenRecord {
  const pk = requireString(item, PK)
  return Object.freeze({
    hash: pk.slice(2),
    userId: requireString(item, 'userId'),
    sessionHash: readString(item, 'sessionHash'),
    channel: readString(item, 'channel'),
    expiresAt: requireNumber(item, 'expiresAt'),
  })
}
