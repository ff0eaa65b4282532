/**
 * Starts the whole demo on loopback: the SQLite database (migrated), the Hono backend, and the
 * local API Gateway in front of it, wired with a fresh integration secret. Used by `pnpm demo`
 * and by the end-to-end tests, which start it on free ports.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { startLocalGateway } from '@apigw-ws/local-gateway'
import { kyselyStore, migrate } from '@apigw-ws/store-kysely'
import { serve } from '@hono/node-server'
import SQLite from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { createChatApp } from './chat-app.js'

/** Where and how to run the demo. */
export interface StartChatOptions {
  /** Backend port (0 = any free port). */
  readonly port?: number
  /** Local API Gateway port (0 = any free port). */
  readonly gatewayPort?: number
  /** SQLite file, or `:memory:`. */
  readonly databaseFile?: string
  /** Idle timeout of the local gateway (API Gateway's is 10 minutes). */
  readonly idleTimeoutMs?: number
  /** Maximum connection duration of the local gateway (API Gateway's is 2 hours). */
  readonly maxDurationMs?: number
  /** The page's rollover period (default: the client's, just under 2 hours). */
  readonly rolloverMs?: number
}

/** The running demo. */
export interface RunningChat {
  /** The page: `http://127.0.0.1:<port>/`. */
  readonly url: string
  readonly webSocketUrl: string
  readonly managementEndpoint: string
  /** Signing in with this code makes an admin (printed by `pnpm demo`). */
  readonly adminCode: string
  close(): Promise<void>
}

const HOST = '127.0.0.1'

/** Starts the database, backend and local gateway. */
export async function startChat(options: StartChatOptions = {}): Promise<RunningChat> {
  const file = options.databaseFile ?? ':memory:'
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(file) }) })
  await migrate(db)
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')
  const adminCode = Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('base64url')

  // Listen first: the page's origin (and so `allowedOrigins`) depends on the port we get.
  let handler: ((request: Request) => Response | Promise<Response>) | null = null
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      {
        fetch: (request) => handler?.(request) ?? new Response('starting', { status: 503 }),
        port: options.port ?? 3000,
        hostname: HOST,
      },
      () => resolve(s),
    )
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0

  let webSocketUrl = ''
  let managementEndpoint = ''
  const { app, gateway } = createChatApp({
    store: kyselyStore({ db }),
    secret,
    allowedOrigins: [`http://${HOST}:${port}`, `http://localhost:${port}`],
    webSocketUrl: () => webSocketUrl,
    managementEndpoint: () => managementEndpoint,
    adminCode,
    ...(options.rolloverMs === undefined ? {} : { rolloverMs: options.rolloverMs }),
  })
  handler = app.fetch

  const local = await startLocalGateway({
    port: options.gatewayPort ?? 3001,
    host: HOST,
    stage: 'local',
    integration: { type: 'http', baseUrl: `http://${HOST}:${port}/ws` },
    secret: { value: secret },
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    ...(options.maxDurationMs === undefined ? {} : { maxDurationMs: options.maxDurationMs }),
  })
  webSocketUrl = local.url
  managementEndpoint = local.managementEndpoint

  const sweep = setInterval(() => {
    gateway.cleanup().catch((error: unknown) => console.error('cleanup failed', error))
  }, 60_000)
  sweep.unref()

  return {
    url: `http://${HOST}:${port}/`,
    webSocketUrl,
    managementEndpoint,
    adminCode,
    async close() {
      clearInterval(sweep)
      await local.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await db.destroy()
    },
  }
}
