/**
 * The DynamoDB the tests run against: dynalite (the emulator `@architect/sandbox` uses) on a
 * loopback ephemeral port, in memory, started by the test file that needs it and stopped at its
 * end. Each store under test gets a table of its own, so no test sees another's items.
 */
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import dynalite from 'dynalite'
import { createTable } from '../src/index.js'

/** A running dynalite. */
export interface LocalDynamo {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string
  /** Closes every client opened with `client()`, then the server. */
  readonly close: () => Promise<void>
  /** A new, independent SDK client (its own connection pool) for this endpoint. */
  readonly client: () => DynamoDBClient
}

/** Starts dynalite on 127.0.0.1 and an ephemeral port. */
export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const endpoint = `http://127.0.0.1:${port}`
  const clients: DynamoDBClient[] = []
  return {
    endpoint,
    client: () => {
      const client = new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      })
      clients.push(client)
      return client
    },
    close: async () => {
      for (const client of clients) client.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      )
    },
  }
}

/** Creates a table with the store's layout under a fresh name; resolves the name. */
export async function freshTable(client: DynamoDBClient): Promise<string> {
  const tableName = `apigw-test-${randomBytes(6).toString('hex')}`
  await createTable(client, { tableName, timeToLive: false })
  return tableName
}

/** Deletes a table made by `freshTable`. */
export async function dropTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: tableName }))
}
