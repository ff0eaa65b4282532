/**
 * The Lambda function of the `@architect/sandbox` end-to-end test. Sandbox runs every invocation
 * in a fresh Node process, which loads this module bundled to one JavaScript file (the test
 * bundles it with esbuild once, resolving the workspace's TypeScript sources); the process builds the test application over the SQLite file the test migrated, serves one event
 * with `gateway.lambda`, and is then killed. Everything that must outlive an invocation (tokens,
 * connections, channels, limits) therefore lives in that file. Sends go through the real AWS SDK
 * to sandbox's own `@connections` endpoint, whose port sandbox passes in `ARC_SANDBOX`.
 */

import { unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { WebSocketEvent, WebSocketResult } from '@apigw-ws/core'
import { kyselyStore } from '@apigw-ws/store-kysely'
import SQLite from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { createE2eGateway } from './e2e-app.js'

/** The environment variable naming the shared SQLite file. */
export const DATABASE_ENV = 'APIGW_E2E_DB'
/**
 * The environment variable naming a directory where every Lambda process registers itself (a
 * file named after its pid, removed when it exits), so the test can prove none outlives it.
 */
export const PIDS_ENV = 'APIGW_E2E_PIDS'

registerProcess()

function registerProcess(): void {
  const dir = process.env[PIDS_ENV]
  if (!dir) return
  const file = join(dir, String(process.pid))
  writeFileSync(file, '')
  process.on('exit', () => {
    try {
      unlinkSync(file)
    } catch {
      // Already gone: the test removed the directory.
    }
  })
}

/** Sandbox's `@connections` endpoint for its internal services port. */
export function sandboxManagementEndpoint(arcPort: number): string {
  return `http://127.0.0.1:${arcPort}/_arc/ws`
}

function arcPortFromEnvironment(): number {
  const sandbox = JSON.parse(process.env.ARC_SANDBOX ?? '{}') as { ports?: { _arc?: unknown } }
  const port = sandbox.ports?._arc
  if (typeof port !== 'number') throw new Error('ARC_SANDBOX does not name the _arc port')
  return port
}

let gateway: ReturnType<typeof createE2eGateway> | null = null

function gatewayForThisProcess(): ReturnType<typeof createE2eGateway> {
  if (gateway !== null) return gateway
  const file = process.env[DATABASE_ENV]
  if (!file) throw new Error(`${DATABASE_ENV} is not set`)
  const database = new SQLite(file)
  // Invocations run in parallel processes on one file: wait for a lock instead of failing.
  database.pragma('busy_timeout = 10000')
  const endpoint = sandboxManagementEndpoint(arcPortFromEnvironment())
  gateway = createE2eGateway({
    store: kyselyStore({ db: new Kysely<unknown>({ dialect: new SqliteDialect({ database }) }) }),
    integration: 'lambda',
    managementEndpoint: () => endpoint,
    // The test cannot see this process's events: refusals and failures go to stdout, which
    // sandbox forwards to the test's output (codes and ids only, never tokens or bodies).
    onEvent: (event) => {
      if (event.type === 'request.rejected') {
        console.log(`[sandbox lambda] ${event.route} refused: ${event.code} (${event.status})`)
      } else if (event.type === 'internal.error') {
        console.log(`[sandbox lambda] internal error: ${JSON.stringify(event)}`)
      }
    },
  })
  return gateway
}

/**
 * The Lambda handler: one API Gateway WebSocket event in, one result out, passed to core
 * unchanged (sandbox 8.0.0 omits `requestContext.apiId`; core only needs it when `apiIds` is
 * pinned).
 */
export function handler(event: WebSocketEvent): Promise<WebSocketResult> {
  return gatewayForThisProcess().lambda(event).finally(exitSoon)
}

/**
 * Ends this process a few seconds after its one invocation. Sandbox posts the result at once and
 * then kills the process, but a process whose kill never comes (sandbox shut down in between)
 * would otherwise live on, kept alive by keep-alive sockets, long after the test.
 */
function exitSoon(): void {
  setTimeout(() => process.exit(0), EXIT_AFTER_MS)
}

const EXIT_AFTER_MS = 5_000
