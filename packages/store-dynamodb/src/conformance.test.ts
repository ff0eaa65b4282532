import type { Store } from '@apigw-ws/core'
import { testStore } from '@apigw-ws/core/testing'
import { ScanCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll } from 'vitest'
import { dropTable, freshTable, type LocalDynamo, startDynalite } from '../test/dynalite.js'
import { dynamodbStore } from './index.js'

let dynamo: LocalDynamo | null = null
const tables = new WeakMap<Store, string>()

beforeAll(async () => {
  dynamo = await startDynalite()
})

afterAll(async () => {
  await dynamo?.close()
})

function local() {
  if (dynamo === null) throw new Error('dynalite is not running')
  return dynamo
}

const client = () => {
  const found = shared ?? local().client()
  shared = found
  return found
}
let shared: ReturnType<LocalDynamo['client']> | null = null

testStore({
  name: 'dynamodb (dynalite)',
  create: async () => {
    const tableName = await freshTable(client())
    const store = dynamodbStore({ client: client(), tableName })
    tables.set(store, tableName)
    return store
  },
  destroy: async (store) => {
    const tableName = tables.get(store)
    if (tableName !== undefined) await dropTable(client(), tableName)
  },
  inspect: async (store) => {
    const result = await client().send(new ScanCommand({ TableName: tables.get(store) }))
    return JSON.stringify(result.Items ?? [])
  },
})
