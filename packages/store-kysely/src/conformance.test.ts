import type { Store } from '@apigw-ws/core'
import { testStore } from '@apigw-ws/core/testing'
import { afterAll, beforeAll, describe } from 'vitest'
import {
  dumpTables,
  postgresSchema,
  skipWithoutPostgres,
  sqliteFile,
  sqliteMemory,
  type TestDatabase,
  uniquePrefix,
} from '../test/databases.js'
import { kyselyStore, migrate } from './index.js'

const noPostgres = skipWithoutPostgres('the conformance suite (testStore) on PostgreSQL')

/** Where each store under test lives, so `destroy` and `inspect` can reach its tables. */
const homes = new WeakMap<Store, { readonly database: TestDatabase; readonly prefix: string }>()

async function storeIn(database: TestDatabase, direct = false): Promise<Store> {
  const prefix = uniquePrefix('conf')
  await migrate(database.db, { tablePrefix: prefix })
  const store = kyselyStore({
    db: database.db,
    tablePrefix: prefix,
    ...(direct ? { sqliteDatabase: database.sqlite } : {}),
  })
  homes.set(store, { database, prefix })
  return store
}

function home(store: Store) {
  const found = homes.get(store)
  if (found === undefined) throw new Error('store was not created by this test file')
  return found
}

const inspect = (store: Store) => dumpTables(home(store).database.db, home(store).prefix)

// SQLite: a new database for every test, closed (and its file deleted) afterwards.
testStore({
  name: 'kysely (sqlite, memory)',
  create: () => storeIn(sqliteMemory()),
  destroy: (store) => home(store).database.close(),
  inspect,
})

testStore({
  name: 'kysely (sqlite, file)',
  create: () => storeIn(sqliteFile()),
  destroy: (store) => home(store).database.close(),
  inspect,
})

// The direct path (statements on the better-sqlite3 database itself), held to the same suite.
testStore({
  name: 'kysely (sqlite, memory, direct)',
  create: () => storeIn(sqliteMemory(), true),
  destroy: (store) => home(store).database.close(),
  inspect,
})

testStore({
  name: 'kysely (sqlite, file, direct)',
  create: () => storeIn(sqliteFile(), true),
  destroy: (store) => home(store).database.close(),
  inspect,
})

// PostgreSQL: one schema for the file (dropped at the end), fresh tables for every test under a
// table prefix of their own, pool of 10 connections so concurrent checks really interleave.
describe.skipIf(noPostgres)('postgres', () => {
  let database: TestDatabase | null = null
  beforeAll(async () => {
    database = await postgresSchema(10)
  })
  afterAll(async () => {
    await database?.close()
  })

  testStore({
    name: 'kysely (postgres)',
    create: () => {
      if (database === null) throw new Error('no PostgreSQL schema')
      return storeIn(database)
    },
    inspect,
  })
})
