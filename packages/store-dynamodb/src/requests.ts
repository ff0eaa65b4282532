/**
 * Requests: the multi-item DynamoDB calls the store makes (batched reads and writes, which may
 * leave part of the work unprocessed under load) and the recognition of a failed condition.
 * Throttling errors are not handled here: the SDK client retries them with its own policy.
 * `UnprocessedKeys` / `UnprocessedItems` are not errors to the SDK, so they are retried here,
 * with a short exponential backoff, and turn into a thrown error if they persist.
 */
import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  type KeysAndAttributes,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb'
import type { Item } from './items.js'

/** Most keys one `BatchGetItem` may carry. */
const BATCH_GET_MAX = 100
/** Most requests one `BatchWriteItem` may carry. */
const BATCH_WRITE_MAX = 25
/** Attempts for unprocessed batch work before giving up (the first attempt included). */
const BATCH_ATTEMPTS = 6

/** `true` when `error` is DynamoDB's answer to a condition that did not hold. */
export function isConditionFailure(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'ConditionalCheckFailedException'
  )
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt))
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** `BatchGetItem` calls one `batchGet` keeps in flight. */
const BATCH_GET_WIDTH = 4

/**
 * Reads the items with `keys` from `tableName` with strongly consistent reads, in as few
 * `BatchGetItem` calls as the 100-key limit allows (up to four at once). Missing items are absent
 * from the result; the order of the result is unspecified.
 */
export async function batchGet(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly Item[],
): Promise<Item[]> {
  const pages = await mapBounded(chunks(keys, BATCH_GET_MAX), BATCH_GET_WIDTH, async (chunk) => {
    const found: Item[] = []
    let pending: KeysAndAttributes | undefined = { Keys: chunk, ConsistentRead: true }
    for (let attempt = 0; pending !== undefined; attempt += 1) {
      if (attempt >= BATCH_ATTEMPTS) {
        throw new Error('dynamodb store: BatchGetItem left keys unprocessed after retries')
      }
      if (attempt > 0) await backoff(attempt)
      const result: BatchGetItemCommandOutput = await client.send(
        new BatchGetItemCommand({ RequestItems: { [tableName]: pending } }),
      )
      found.push(...(result.Responses?.[tableName] ?? []))
      const left: KeysAndAttributes | undefined = result.UnprocessedKeys?.[tableName]
      pending = left?.Keys !== undefined && left.Keys.length > 0 ? left : undefined
    }
    return found
  })
  return pages.flat()
}

/**
 * Runs `requests` (puts and deletes, unconditional) against `tableName` in `BatchWriteItem`
 * calls of at most 25, retrying unprocessed ones. Each item is written exactly as asked or the
 * promise rejects; there is no ordering between items of one call.
 */
export async function batchWrite(
  client: DynamoDBClient,
  tableName: string,
  requests: readonly WriteRequest[],
): Promise<void> {
  for (const chunk of chunks(requests, BATCH_WRITE_MAX)) {
    let pending: WriteRequest[] = chunk
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt >= BATCH_ATTEMPTS) {
        throw new Error('dynamodb store: BatchWriteItem left items unprocessed after retries')
      }
      if (attempt > 0) await backoff(attempt)
      const result: BatchWriteItemCommandOutput = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }),
      )
      pending = result.UnprocessedItems?.[tableName] ?? []
    }
  }
}

/** Runs `task` over `items` with at most `width` in flight; resolves the results in order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  width: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next
      next += 1
      results[index] = await task(items[index] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker))
  return results
}
