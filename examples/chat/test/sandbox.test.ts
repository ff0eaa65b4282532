/**
 * The independent check of the Lambda adapter: `@architect/sandbox` 8.0.0 (Architect's own
 * emulator of API Gateway WebSocket APIs with Lambda integrations, written by others) runs the
 * test application's Lambda handler, and a real `ws` client and the real AWS SDK talk to it.
 *
 * How sandbox is driven here (from reading its source): `sandbox.start({ cwd, port, host })`
 * reads `app.arc` in `cwd`, serves `@ws` on `port` (the `$connect` Lambda runs before the
 * upgrade; a non-2xx status fails the handshake with that status), and serves `@connections` on
 * its internal services port (`ARC_INTERNAL_PORT`) under `/_arc/ws/@connections/<id>`. Every
 * invocation is a fresh `node` child process whose environment is built from scratch (PATH,
 * dummy AWS credentials, `ARC_SANDBOX` with the ports, and the `env` option). So that each
 * invocation loads JavaScript rather than transpiling TypeScript, the test bundles
 * `support/sandbox-lambda.ts` (with the workspace sources it imports) once with esbuild; the
 * handlers share state through an SQLite file this test migrates. The Arc project (`app.arc` with
 * `@ws`, one `index.mjs` per route re-exporting the bundle) is generated in a temporary directory.
 * Sandbox listens on 127.0.0.1 only (`host`), takes its credentials from the dummy ones set in the
 * environment, and is started with `runtimeCheck: false` so it does not shell out to check
 * runtime versions.
 *
 * Teardown is part of the test: every `$disconnect` Lambda must finish within the wait (else the
 * file fails), and no Lambda process may outlive sandbox (each registers its pid in a directory;
 * a live one after teardown is killed and fails the file).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Gateway, Store } from '@apigw-ws/core'
import { kyselyStore, migrate } from '@apigw-ws/store-kysely'
import SQLite from 'better-sqlite3'
import { build } from 'esbuild'
import { Kysely, SqliteDialect } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APP_ORIGIN, createE2eGateway } from './support/e2e-app.js'
import { DATABASE_ENV, PIDS_ENV, sandboxManagementEndpoint } from './support/sandbox-lambda.js'
import { eventually, handshakeStatus, openSocket, type TestSocket } from './support/ws-client.js'

/** The part of sandbox's module API this test uses (the package ships no types). */
interface ArcSandbox {
  start(options: {
    cwd: string
    port: number
    host: string
    quiet: boolean
    runtimeCheck: false
    env: Record<string, string>
  }): Promise<string>
  end(): Promise<string>
}

/** Each invocation starts a Node process: allow for a loaded machine. */
const SANDBOX_WAIT_MS = 30_000
/** How long a Lambda process may take to exit once sandbox has ended (it exits itself after 5 s). */
const LAMBDA_EXIT_WAIT_MS = 10_000
const require = createRequire(import.meta.url)
const handlerSource = fileURLToPath(new URL('./support/sandbox-lambda.ts', import.meta.url))

/**
 * Bundles the Lambda module into `outfile`: workspace packages resolve to their TypeScript
 * sources (the `@apigw-ws/source` condition); better-sqlite3, a native addon, stays an import of
 * its installed absolute path; `require` is provided for the CommonJS dependencies.
 */
async function bundleLambda(outfile: string): Promise<void> {
  const nativeSqlite = require.resolve('better-sqlite3')
  await build({
    entryPoints: [handlerSource],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@apigw-ws/source'],
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'native-sqlite',
        setup(esbuild) {
          esbuild.onResolve({ filter: /^better-sqlite3$/ }, () => ({
            path: nativeSqlite,
            external: true,
          }))
        },
      },
    ],
    logLevel: 'warning',
  })
}

/** Pids registered in `dir` whose process is still alive. */
function liveLambdas(dir: string): number[] {
  return readdirSync(dir)
    .map(Number)
    .filter((pid) => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    })
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (typeof address !== 'object' || address === null) throw new Error('no port')
  return address.port
}

/** Writes the Arc project: `@ws` with the three default routes, all served by `handler`. */
function writeArcProject(dir: string, handler: string): void {
  writeFileSync(
    join(dir, 'app.arc'),
    ['@app', 'apigwws-e2e', '', '@aws', 'runtime nodejs20.x', 'timeout 60', '', '@ws', ''].join(
      '\n',
    ),
  )
  for (const route of ['connect', 'disconnect', 'default']) {
    mkdirSync(join(dir, 'src', 'ws', route), { recursive: true })
    writeFileSync(
      join(dir, 'src', 'ws', route, 'index.mjs'),
      `export { handler } from ${JSON.stringify(pathToFileURL(handler).href)}\n`,
    )
  }
}

describe('the Lambda adapter under @architect/sandbox 8.0.0', () => {
  const sandbox = require('@architect/sandbox') as ArcSandbox
  const savedEnv = { ...process.env }
  let dir = ''
  let pids = ''
  let db: Kysely<unknown>
  let store: Store
  let gateway: Gateway
  let wsUrl = ''
  let started = false
  const sockets: TestSocket[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apigw-ws-sandbox-'))
    pids = join(dir, 'pids')
    mkdirSync(pids)
    const handler = join(dir, 'lambda', 'handler.mjs')
    await bundleLambda(handler)
    writeArcProject(dir, handler)
    const file = join(dir, 'state.sqlite')
    const database = new SQLite(file)
    database.pragma('journal_mode = WAL')
    database.pragma('busy_timeout = 10000')
    db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) })
    await migrate(db)
    store = kyselyStore({ db })

    const [httpPort, arcPort] = [await freePort(), await freePort()]
    // Dummy credentials: sandbox's credential lookup then never leaves the process.
    process.env.AWS_ACCESS_KEY_ID = 'local'
    process.env.AWS_SECRET_ACCESS_KEY = 'local'
    process.env.AWS_REGION = 'us-east-1'
    process.env.ARC_INTERNAL_PORT = String(arcPort)
    // Sandbox then waits for each Lambda process to be killed before it reports the invocation
    // done, instead of killing in the background (which can outlive the test).
    process.env.CI = 'true'
    await sandbox.start({
      cwd: dir,
      port: httpPort,
      host: '127.0.0.1',
      quiet: true,
      runtimeCheck: false,
      env: { [DATABASE_ENV]: file, [PIDS_ENV]: pids },
    })
    started = true
    wsUrl = `ws://127.0.0.1:${httpPort}`

    const endpoint = sandboxManagementEndpoint(arcPort)
    // Sandbox takes the next port when the chosen one is busy: make sure it is ours.
    const probe = await fetch(`${endpoint}/@connections/not-a-connection`)
    expect(probe.status).toBe(410)
    expect(probe.headers.get('x-amzn-errortype')).toBe('GoneException')
    gateway = createE2eGateway({ store, integration: 'lambda', managementEndpoint: () => endpoint })
  }, 120_000)

  afterAll(async () => {
    const failures: string[] = []
    try {
      await Promise.all(sockets.map((socket) => socket.close()))
      if (started) {
        // The $disconnect Lambdas of those closes must finish before sandbox goes away.
        await eventually(
          async () => {
            const open = await store.connections.list({ all: true }, { cursor: null, limit: 1 })
            return open.items.length === 0 ? true : undefined
          },
          'every $disconnect Lambda to finish',
          SANDBOX_WAIT_MS,
        ).catch((error: unknown) => failures.push(String(error)))
        await sandbox.end()
        const outlived = await eventually(
          async () => (liveLambdas(pids).length === 0 ? [] : undefined),
          'every Lambda process to exit',
          LAMBDA_EXIT_WAIT_MS,
        ).catch(() => liveLambdas(pids))
        for (const pid of outlived) process.kill(pid, 'SIGKILL')
        if (outlived.length > 0) {
          failures.push(`${outlived.length} Lambda process(es) outlived sandbox: ${outlived}`)
        }
      }
    } finally {
      await db?.destroy()
      for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key]
      Object.assign(process.env, savedEnv)
      if (dir) rmSync(dir, { recursive: true, force: true })
    }
    expect(failures).toEqual([])
  }, 90_000)

  async function token(userId: string): Promise<string> {
    const issued = await gateway.issueToken({
      method: 'POST',
      headers: { origin: APP_ORIGIN },
      userId,
    })
    expect(issued.status).toBe(200)
    return (JSON.parse(issued.body ?? '{}') as { token: string }).token
  }

  /**
   * Opens a socket as `userId` (one `$connect` invocation) and reads its id from the shared store:
   * the `$connect` Lambda stored it before sandbox completed the upgrade.
   */
  async function connect(
    userId: string,
    tokenValue?: string,
  ): Promise<{ socket: TestSocket; connectionId: string }> {
    const socket = await openSocket(
      `${wsUrl}/?token=${tokenValue ?? (await token(userId))}`,
      { origin: APP_ORIGIN },
      SANDBOX_WAIT_MS,
    )
    sockets.push(socket)
    const page = await store.connections.list({ userId }, { cursor: null, limit: 10 })
    const open = page.items.filter((c) => c.disconnectedAt === null)
    expect(open).toHaveLength(1)
    return { socket, connectionId: (open[0] as { connectionId: string }).connectionId }
  }

  // Every invocation is a Node process of its own, so each test below makes as few of them as its
  // claim needs.

  it('connects with a token, refuses its reuse (401) and a wrong Origin (403)', async () => {
    const used = await token('ann')
    const { connectionId } = await connect('ann', used)
    expect(await store.connections.get(connectionId)).toMatchObject({
      connectionId,
      userId: 'ann',
      apiId: null,
      stage: 'testing',
      disconnectedAt: null,
    })
    const [reused, forged] = await Promise.all([
      handshakeStatus(`${wsUrl}/?token=${used}`, { origin: APP_ORIGIN }, SANDBOX_WAIT_MS),
      handshakeStatus(
        `${wsUrl}/?token=${await token('bob')}`,
        { origin: 'https://evil.example' },
        SANDBOX_WAIT_MS,
      ),
    ])
    expect({ reused, forged }).toEqual({ reused: 401, forged: 403 })
  }, 120_000)

  it('replies through @connections with the SDK, and reports a refused message', async () => {
    const { socket, connectionId } = await connect('cid')
    socket.send({ action: 'whoami' })
    expect(await socket.nextJson(SANDBOX_WAIT_MS)).toEqual({
      type: 'you',
      connectionId,
      userId: 'cid',
    })
    // Core refuses the unknown handler (400); sandbox tells the client the invocation failed.
    socket.send({ action: 'no-such-handler' })
    expect(await socket.nextJson(SANDBOX_WAIT_MS)).toMatchObject({
      message: 'Internal server error',
      connectionId,
    })
  }, 120_000)

  it('sends toUser and toChannel from outside the Lambda, to the right sockets only', async () => {
    const [dee, eli] = await Promise.all([connect('dee'), connect('eli')])
    // Sandbox drops two-way replies, so the join is observed in the shared store.
    eli.socket.send({ action: 'join', room: 'lobby' })
    await eventually(
      async () =>
        (await store.connections.channels(eli.connectionId)).includes('lobby') ? true : undefined,
      'the join to reach the store',
      SANDBOX_WAIT_MS,
    )
    const toUser = await gateway.send.toUser('dee', { type: 'notify', text: 'hello dee' })
    expect(toUser).toMatchObject({ attempted: 1, delivered: 1, failed: [] })
    const toChannel = await gateway.send.toChannel('lobby', { type: 'said', text: 'to the lobby' })
    expect(toChannel).toMatchObject({ attempted: 1, delivered: 1, failed: [] })
    expect(await dee.socket.nextJson(SANDBOX_WAIT_MS)).toEqual({
      type: 'notify',
      text: 'hello dee',
    })
    expect(await eli.socket.nextJson(SANDBOX_WAIT_MS)).toEqual({
      type: 'said',
      text: 'to the lobby',
    })
    // Each socket got exactly its one message (sandbox posts synchronously before answering).
    expect([dee.socket.frames.length, eli.socket.frames.length]).toEqual([1, 1])
  }, 120_000)

  it('marks the connection disconnected when the client closes ($disconnect Lambda)', async () => {
    const { socket, connectionId } = await connect('fay')
    await socket.close()
    const disconnectedAt = await eventually(
      async () => (await store.connections.get(connectionId))?.disconnectedAt ?? undefined,
      'the $disconnect Lambda to mark the connection disconnected',
      SANDBOX_WAIT_MS,
    )
    expect(disconnectedAt).toBeGreaterThan(0)
  }, 120_000)

  it('closes a connection with DeleteConnection through the SDK', async () => {
    const { socket, connectionId } = await connect('gus')
    const report = await gateway.send.disconnect(connectionId)
    expect(report).toMatchObject({ attempted: 1, delivered: 1, failed: [] })
    await socket.closed(SANDBOX_WAIT_MS)
    expect((await store.connections.get(connectionId))?.disconnectedAt).not.toBeNull()
    // Sandbox now answers 410 GoneException for it: nothing is delivered.
    const again = await gateway.send.toConnection(connectionId, { type: 'late' })
    expect(again.delivered).toBe(0)
  }, 120_000)
})
