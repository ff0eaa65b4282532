import { createGateway, logEvents } from '@apigw-ws/core'
import { handlePoolErrors, kyselyStore, migrate } from '@apigw-ws/store-kysely'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'

// One pool per backend instance. Every instance × max must fit in the server's
// max_connections (see "Pool sizing"). handlePoolErrors keeps the process alive when
// PostgreSQL drops a connection (restart, failover, pg_terminate_backend): the requests
// on it get a 503, and the next ones reconnect.
const pool = handlePoolErrors(
  new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 }),
  { onError: (error) => console.error('apigw-ws: database connection lost', error.message) },
)
const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })

// Safe when several instances start at once: each migration runs once, in a
// transaction, under the lock in apigw_migrations_lock.
await migrate(db, { tablePrefix: 'apigw_' })

export const gateway = createGateway({
  store: kyselyStore({ db, tablePrefix: 'apigw_' }),
  integrationSecret: process.env.APIGW_SECRET,
  allowedOrigins: ['https://app.example.com'],
  onEvent: logEvents(), // a line per refusal and step, never a secret
})

// Every instance may run this: concurrent cleanups take disjoint batches.
setInterval(() => {
  gateway.cleanup().catch((error: unknown) => console.error('apigw-ws: cleanup failed', error))
}, 60_000).unref()
