import { createGateway, logEvents } from '@apigw-ws/core'
import { cachedStatements, kyselyStore, migrate } from '@apigw-ws/store-kysely'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'

const sqlite = new Database('apigw-ws.sqlite')
sqlite.pragma('journal_mode = WAL') // readers never wait for the writer
sqlite.pragma('busy_timeout = 5000') // another process writing: wait instead of failing

// You own the Kysely instance (it may be the one your app already uses).
// cachedStatements() is optional: it prepares each SQL text once, which Kysely does not.
const db = new Kysely<unknown>({
  dialect: new SqliteDialect({ database: cachedStatements(sqlite) }),
})

// Creates the apigw_* tables on first start; a no-op when they are up to date.
await migrate(db)

export const gateway = createGateway({
  store: kyselyStore({ db }),
  integrationSecret: process.env.APIGW_SECRET,
  allowedOrigins: ['https://app.example.com'],
  onEvent: logEvents(), // a line per refusal and step, never a secret
})

// Sweep used and expired tokens, ended rate-limit windows and old connections.
setInterval(() => {
  gateway.cleanup().catch((error: unknown) => console.error('apigw-ws: cleanup failed', error))
}, 60_000).unref()
