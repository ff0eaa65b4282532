/**
 * `testStore()`: the store conformance suite (DESIGN §6). Every store, ours and users', proves it
 * honours the contract written in `store.ts` by calling it in a test file. Each check is a plain
 * async function over a fresh store and a fake clock, kept in `store-checks/` by concern;
 * `testStore` registers them as vitest tests grouped by concern. The concurrency properties run unconditionally: there is no option to turn
 * them off, because a store that loses races is the bug this library exists to prevent.
 */
import { afterEach, beforeEach, describe, it } from 'vitest'
import { defineStore } from '../define-store.js'
import type { Store, StoreParts } from '../store.js'
import { type FakeClock, fakeClock } from './fake-clock.js'
import { admitChecks } from './store-checks/admit.js'
import { admitMessageChecks } from './store-checks/admit-message.js'
import { channelChecks } from './store-checks/channels.js'
import { cleanupChecks } from './store-checks/cleanup.js'
import { concurrencyChecks } from './store-checks/concurrency.js'
import { connectionChecks, listChecks, shapeChecks } from './store-checks/connections.js'
import type { StoreCheck, StoreCheckContext } from './store-checks/helpers.js'
import { limitChecks } from './store-checks/limits.js'
import { hashAtRestChecks, tokenChecks } from './store-checks/tokens.js'

export type { StoreCheck, StoreCheckContext } from './store-checks/helpers.js'

/** Options for {@link testStore}. */
export interface TestStoreOptions<S extends StoreParts = Store> {
  /** Name of the `describe` block, e.g. `'memory'` or `'kysely (postgres)'`. */
  readonly name: string
  /**
   * Returns a new, **empty** store. Called before every test (in `beforeEach`), so no test sees
   * another's data. For a database store, create fresh tables or truncate them here. A store
   * that is not built with `defineStore` is run through it, as `createGateway` would.
   */
  readonly create: () => S | Promise<S>
  /** Releases a store after its test (in `afterEach`): close pools, drop tables. */
  readonly destroy?: ((store: S) => void | Promise<void>) | undefined
  /**
   * Returns a text dump of everything the store holds at rest (every row of every table, as
   * JSON or any text). When given, the suite issues tokens through a real gateway and checks the
   * dump holds the token's SHA-256 but neither the token nor the session id. Without it that
   * check is reported as skipped.
   */
  readonly inspect?: ((store: S) => string | Promise<string>) | undefined
}

/**
 * Every conformance check, in registration order. Internal: `testStore` registers these; the
 * suite's own tests run them against deliberately broken stores to prove each one can fail.
 */
export const storeChecks: readonly StoreCheck[] = Object.freeze([
  ...shapeChecks,
  ...connectionChecks,
  ...listChecks,
  ...channelChecks,
  ...tokenChecks,
  ...limitChecks,
  ...admitChecks,
  ...admitMessageChecks,
  ...cleanupChecks,
  ...concurrencyChecks,
  ...hashAtRestChecks,
])

function assertOptions(value: unknown): void {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError('testStore: options must be an object')
  }
  const options = value as Record<string, unknown>
  if (typeof options.name !== 'string' || options.name.length === 0) {
    throw new TypeError('testStore: name must be a non-empty string')
  }
  if (typeof options.create !== 'function') {
    throw new TypeError('testStore: create must be a function')
  }
  for (const key of ['destroy', 'inspect']) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new TypeError(`testStore: ${key} must be a function`)
    }
  }
}

/**
 * Registers the store conformance suite as a vitest `describe(name)` block. Call it at the top
 * level of a test file. Every test gets a fresh store from `create` (in `beforeEach`) and a fresh
 * fake clock, and `destroy` runs in `afterEach` even when the test failed.
 *
 * The suite covers every method of the store SPI and every sentence of its TSDoc: connection
 * bookkeeping, `list` filters and keyset pagination (1,000 connections, ascending binary order
 * of ids, stable while records come and go), channels with their limit, single-use
 * session-bound tokens with exact TTL boundaries (a duplicate `put` resolves `false`),
 * fixed-window limits, every outcome of `admit` and `admitMessage`, batched idempotent
 * `cleanup`, key isolation, and concurrency: 50 parallel `consume`s of one token have exactly one winner, 100 parallel
 * `hit`s with limit 20 allow exactly 20 with counts 1..100, 40 parallel `subscribe`s never pass
 * the channel limit, 20 parallel `admit`s with one token admit one connection and the address
 * and user limits admit exactly their limit, 40 parallel `admitMessage`s on one connection with
 * limit 10 admit exactly 10 and count 40, 50 parallel `touch`es count 50, 10 parallel
 * `disconnect`s have exactly one `true`. The concurrency checks (in every group) cannot be
 * disabled. With `inspect`, it also checks that tokens are stored only as SHA-256 and session
 * ids not at all.
 *
 * Throws `TypeError` at registration for invalid options.
 *
 * @example
 * ```ts
 * import { testStore } from '@apigw-ws/core/testing'
 * import { myStore } from './my-store.js'
 *
 * testStore({
 *   name: 'my store',
 *   create: () => myStore({ url: process.env.DATABASE_URL }),
 *   destroy: (store) => store.close(),
 *   inspect: (store) => store.dumpAllRowsAsJson(),
 * })
 * ```
 */
export function testStore<S extends StoreParts>(options: TestStoreOptions<S>): void {
  assertOptions(options)
  const { name, create, destroy, inspect } = options

  describe(name, () => {
    let current: { readonly parts: S; readonly store: Store; readonly clock: FakeClock } | null =
      null

    beforeEach(async () => {
      const parts = await create()
      current = { parts, store: defineStore(parts), clock: fakeClock() }
    })

    afterEach(async () => {
      const finished = current
      current = null
      if (finished !== null && destroy !== undefined) await destroy(finished.parts)
    })

    const context = (): StoreCheckContext => {
      if (current === null) throw new Error(`testStore(${name}): create() did not run`)
      const { parts, store, clock } = current
      return {
        store,
        clock,
        inspect: inspect === undefined ? null : async () => inspect(parts),
      }
    }

    const groups = [...new Set(storeChecks.map((check) => check.group))]
    for (const groupName of groups) {
      describe(groupName, () => {
        for (const check of storeChecks.filter((c) => c.group === groupName)) {
          if (check.needsInspect && inspect === undefined) {
            it.skip(`${check.name} (needs the inspect option)`, () => {})
          } else {
            it(check.name, () => check.run(context()), check.timeoutMs)
          }
        }
      })
    }
  })
}
