/**
 * What the store checks share: the check types, fixtures (connections, tokens, hashes computed
 * through WebCrypto as an oracle independent of core's own SHA-256) and helpers that page through
 * `list` while checking every page. Internal to `testStore`.
 */
import { expect } from 'vitest'
import type {
  ConnectionFilter,
  ConnectionRecord,
  NewConnection,
  Page,
  Store,
  TokenRecord,
} from '../../store.js'
import type { FakeClock } from '../fake-clock.js'

/**
 * What each check receives: the fresh store of this test and the test's fake clock. Internal,
 * like {@link StoreCheck}.
 */
export interface StoreCheckContext {
  readonly store: Store
  readonly clock: FakeClock
  /** Dumps the store at rest; `null` when the suite was given no `inspect`. */
  readonly inspect: (() => Promise<string>) | null
}

/** One conformance check. Internal: exported for the suite's own tests, not from the index. */
export interface StoreCheck {
  readonly group: string
  readonly name: string
  readonly needsInspect: boolean
  readonly timeoutMs: number | undefined
  readonly run: (context: StoreCheckContext) => Promise<void>
}

export type Run = (context: StoreCheckContext) => Promise<void>

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
/** The channel limit the checks pass to `subscribe` unless a check is about the limit. */
export const MAX = 100
const encoder = new TextEncoder()

/** Lower-case hex SHA-256 through WebCrypto: an oracle independent of core's own SHA-256. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text))
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** A realistic, distinct token hash for a label (stores may validate the hex format). */
export function hashOf(label: string): Promise<string> {
  return sha256Hex(`apigw-ws conformance token ${label}`)
}

export function randomHex(bytes: number): string {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes))
  return Array.from(buffer, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** A connection to create, with the time to create it at (passed as `now`, never stored as is). */
export interface Seed extends NewConnection {
  readonly connectedAt: number
}

export function newConnection(
  clock: FakeClock,
  connectionId: string,
  overrides: Partial<Seed> = {},
): Seed {
  return {
    connectionId,
    userId: 'user-1',
    channels: [],
    apiId: 'a1b2c3d4e5',
    stage: 'prod',
    domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
    connectedAt: clock.now(),
    ...overrides,
  }
}

/** Creates `seed` at its `connectedAt`, passing the store only the `NewConnection` fields. */
export function create(store: Store, seed: Seed): Promise<boolean> {
  const { connectedAt, ...connection } = seed
  return store.connections.create(connection, connectedAt)
}

export function newToken(hash: string, clock: FakeClock, overrides: Partial<TokenRecord> = {}) {
  return {
    hash,
    userId: 'user-1',
    sessionHash: null,
    channel: null,
    expiresAt: clock.now() + MINUTE,
    ...overrides,
  } satisfies TokenRecord
}

/** The contract's fields of a connection record (a store may carry more; they are ignored). */
export function connectionFields(record: ConnectionRecord) {
  return {
    connectionId: record.connectionId,
    userId: record.userId,
    apiId: record.apiId,
    stage: record.stage,
    domainName: record.domainName,
    connectedAt: record.connectedAt,
    lastSeenAt: record.lastSeenAt,
    requestCount: record.requestCount,
    disconnectedAt: record.disconnectedAt,
  }
}

/** The record `seed` should produce, before any message. */
export function freshRecord(seed: Seed) {
  const { channels: _channels, ...fields } = seed
  return { ...fields, lastSeenAt: seed.connectedAt, requestCount: 0, disconnectedAt: null }
}

export function tokenFields(record: TokenRecord) {
  return {
    hash: record.hash,
    userId: record.userId,
    sessionHash: record.sessionHash,
    channel: record.channel,
    expiresAt: record.expiresAt,
  }
}

/** The channels of a connection as a plain array. */
export async function channelsOf(store: Store, connectionId: string): Promise<string[]> {
  return [...(await store.connections.channels(connectionId))]
}

/** The expected order of `list`: ascending binary (UTF-16 code unit) order, like `COLLATE "C"`. */
export function binarySorted(ids: readonly string[]): string[] {
  return [...ids].sort()
}

/** Runs `task` over `items` with at most `width` in flight, so big fixtures stay fast anywhere. */
export async function inBatches<T, R>(
  items: readonly T[],
  width: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = []
  for (let start = 0; start < items.length; start += width) {
    results.push(...(await Promise.all(items.slice(start, start + width).map(task))))
  }
  return results
}

export async function createAll(store: Store, seeds: readonly Seed[]): Promise<void> {
  const created = await inBatches(seeds, 50, (seed) => create(store, seed))
  expect(created.every(Boolean), 'every fresh id is created').toBe(true)
}

/**
 * Pages through `list` until `nextCursor` is `null`, checking each page: at most `limit` items,
 * progress on every page that has a successor, and no trailing empty page (the page holding the
 * last record already says it is the last).
 */
export async function listAll(
  store: Store,
  filter: ConnectionFilter,
  limit: number,
  maxPages = 2_000,
): Promise<ConnectionRecord[]> {
  const records: ConnectionRecord[] = []
  let cursor: string | null = null
  for (let pages = 1; pages <= maxPages; pages += 1) {
    const page: Page<ConnectionRecord> = await store.connections.list(filter, { cursor, limit })
    expect(page.items.length, 'a page holds at most `limit` records').toBeLessThanOrEqual(limit)
    records.push(...page.items)
    if (page.nextCursor === null) {
      if (pages > 1) expect(page.items, 'no empty page after the last record').not.toHaveLength(0)
      return records
    }
    expect(page.items.length, 'a page with a nextCursor holds records').toBeGreaterThan(0)
    expect(typeof page.nextCursor).toBe('string')
    cursor = page.nextCursor
  }
  throw new Error(`list did not reach nextCursor: null within ${maxPages} pages`)
}

export function idsOf(records: readonly ConnectionRecord[]): string[] {
  return records.map((record) => record.connectionId)
}

/** Deterministic API-Gateway-like ids (16 chars of `[A-Za-z0-9_=-]`) in scrambled order. */
export function scrambledIds(count: number, seed: number): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_=-'
  let state = seed >>> 0 || 1
  const next = () => {
    // xorshift32: reproducible test data, not security material.
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state
  }
  const ids = new Set<string>()
  while (ids.size < count) {
    let id = ''
    for (let i = 0; i < 16; i += 1) id += alphabet[next() % alphabet.length]
    ids.add(id)
  }
  return [...ids]
}

/** How many hits `key` has had in its window (counts one more, as an oracle). */
export async function hitsOf(store: Store, key: string, now: number): Promise<number> {
  return (await store.limits.hit(key, { limit: 1_000, windowMs: MINUTE }, now)).count - 1
}

export function countTrue(values: readonly boolean[]): number {
  return values.filter(Boolean).length
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

/** Builds the checks of one group from `name → run` (or `{ run, timeoutMs, needsInspect }`). */
export function group(
  name: string,
  runs: Record<string, Run | { run: Run; timeoutMs?: number; needsInspect?: boolean }>,
): StoreCheck[] {
  return Object.entries(runs).map(([checkName, entry]) =>
    Object.freeze({
      group: name,
      name: checkName,
      run: typeof entry === 'function' ? entry : entry.run,
      timeoutMs: typeof entry === 'function' ? undefined : entry.timeoutMs,
      needsInspect: typeof entry === 'function' ? false : entry.needsInspect === true,
    }),
  )
}
