/**
 * One complete HTTP-mode stack for a test: a fresh in-memory SQLite database (migrated) under the
 * Kysely store, the test application's gateway, a backend built with one adapter, and the local
 * gateway in front of it on a manual clock (so timeouts are driven, never waited for). Clients
 * get their tokens from the backend's token route, as a browser would.
 */
import type { Gateway, GatewayEvent, Store } from '@apigw-ws/core'
import { createManualClock, type ManualClock, startLocalGateway } from '@apigw-ws/local-gateway'
import { kyselyStore, migrate } from '@apigw-ws/store-kysely'
import SQLite from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import type { RunningBackend } from './backends.js'
import { APP_ORIGIN, createE2eGateway, INTEGRATION_SECRET } from './e2e-app.js'
import { createRecorder } from './recorder.js'
import { openSocket, type TestSocket } from './ws-client.js'

/** The local gateway's idle timeout in these stacks (driven by the manual clock). */
export const IDLE_TIMEOUT_MS = 60_000

/** A running stack. */
export interface HttpStack {
  readonly store: Store
  readonly gateway: Gateway
  readonly backend: RunningBackend
  /** Every operator event the gateway emitted. */
  readonly events: readonly GatewayEvent[]
  /** The local gateway's clock: `advance` fires idle and max-duration timeouts. */
  readonly clock: ManualClock
  /** `ws://127.0.0.1:<port>/local`. */
  readonly url: string
  /** Opens a socket as `userId` with a fresh token and the app's Origin; sends nothing. */
  open(userId: string): Promise<TestSocket>
  /**
   * `open`, then learns the connection id with a `whoami` message (answered through
   * `@connections`) and waits until the backend has finished serving it, so no integration call
   * is in flight when the test goes on (a manual-clock advance would otherwise time it out).
   */
  connect(userId: string): Promise<{ readonly socket: TestSocket; readonly connectionId: string }>
  close(): Promise<void>
}

/** Starts a stack whose backend is built by `startBackend` for the stack's gateway. */
export async function startHttpStack(
  startBackend: (gateway: Gateway) => Promise<RunningBackend>,
): Promise<HttpStack> {
  const db = new Kysely<unknown>({
    dialect: new SqliteDialect({ database: new SQLite(':memory:') }),
  })
  await migrate(db)
  const store = kyselyStore({ db })
  const log = createRecorder<GatewayEvent>('a gateway event')
  let managementEndpoint = ''
  const gateway = createE2eGateway({
    store,
    integration: 'http',
    managementEndpoint: () => managementEndpoint,
    onEvent: log.push,
  })
  const backend = await startBackend(gateway)
  const clock = createManualClock()
  const local = await startLocalGateway({
    integration: { type: 'http', baseUrl: backend.baseUrl },
    port: 0,
    secret: { value: INTEGRATION_SECRET },
    idleTimeoutMs: IDLE_TIMEOUT_MS,
    clock,
  })
  managementEndpoint = local.managementEndpoint
  const sockets: TestSocket[] = []
  const open = async (userId: string): Promise<TestSocket> => {
    const token = await backend.token(userId)
    const socket = await openSocket(`${local.url}?token=${encodeURIComponent(token)}`, {
      origin: APP_ORIGIN,
    })
    sockets.push(socket)
    return socket
  }

  return {
    store,
    gateway,
    backend,
    events: log.items,
    clock,
    url: local.url,
    open,
    async connect(userId) {
      const socket = await open(userId)
      // The id comes back through `@connections` (a POST from the backend via the AWS SDK),
      // before the backend has answered the `whoami` call itself.
      socket.send({ action: 'whoami' })
      const you = await socket.nextJson<{ type: string; connectionId: string }>()
      if (you.type !== 'you')
        throw new Error(`expected the whoami reply, got ${JSON.stringify(you)}`)
      await backend.waitForCall((c) => c.route === 'whoami' && c.connectionId === you.connectionId)
      return { socket, connectionId: you.connectionId }
    },
    async close() {
      await Promise.all(sockets.map((socket) => socket.close()))
      await local.close()
      await backend.close()
      await db.destroy()
    },
  }
}
