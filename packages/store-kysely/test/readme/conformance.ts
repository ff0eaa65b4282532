import { testStore } from '@apigw-ws/core/testing'
import { kyselyStore, migrate } from '@apigw-ws/store-kysely'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'

// Runs the store conformance suite against your own setup (here: SQLite in memory).
testStore({
  name: 'my kysely store',
  create: async () => {
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new Database(':memory:') }),
    })
    await migrate(db)
    return kyselyStore({ db })
  },
})
