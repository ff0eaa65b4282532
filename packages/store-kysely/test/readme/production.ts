import { createGateway, type GatewayEvent } from '@apigw-ws/core'
import { awsConnections } from '@apigw-ws/core/aws'
import { handlePoolErrors, kyselyStore } from '@apigw-ws/store-kysely'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'

// The secret comes from the environment, filled from a secret manager at deploy time. No
// fallback value: when the variable is missing, NODE_ENV=production refuses to start.
// During a rotation the variable holds both secrets, comma-separated: new first, then old.
const secrets = process.env.APIGW_SECRETS?.split(',').map((s) => s.trim())

const pool = handlePoolErrors(
  new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 }),
  { onError: (error) => console.error('apigw-ws: database connection lost', error.message) },
)
const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })

/** Operator log: codes and safe fields only (events never carry tokens, cookies or bodies). */
function onEvent(event: GatewayEvent): void {
  if (event.type === 'request.rejected' || event.type === 'internal.error') {
    console.warn(JSON.stringify(event))
  }
}

export const gateway = createGateway({
  store: kyselyStore({ db }),
  connections: awsConnections({ region: 'eu-west-1' }),
  integrationSecret: secrets,
  allowedOrigins: ['https://app.example.com'],
  // The hosts clients connect to (the custom domain), and the API id that may call us.
  allowedHosts: ['ws.example.com'],
  apiIds: ['a1b2c3d4e5'],
  // The header the integration maps from context.stage (for the sender's endpoint).
  stageHeader: 'x-apigw-stage',
  // One load balancer between API Gateway and this app appends to X-Forwarded-For.
  trustedProxies: 1,
  rateLimits: { messagePerConnection: { limit: 120, windowMs: 60_000 } },
  maxChannelsPerConnection: 20,
  onEvent,
})

// Every instance may run the sweep; concurrent cleanups take disjoint batches.
setInterval(() => {
  gateway.cleanup().catch((error: unknown) => console.error('apigw-ws: cleanup failed', error))
}, 60_000).unref()
