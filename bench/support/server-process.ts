/**
 * Servers under test run in a process of their own, which measures itself: it counts the
 * requests each server answered and reads its own `process.cpuUsage()`, and the benchmark asks
 * for both before and after each load run. CPU per request is therefore the server's CPU alone,
 * untouched by the load generator or the benchmark's own bookkeeping.
 *
 * The child side is `serveForBench(servers)`, called by a module the parent started with
 * `startServerProcess(moduleUrl, args)`.
 */
import { type ChildProcess, fork } from 'node:child_process'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { pinServer } from './cpus.js'
import type { Variant } from './rounds.js'
import { runWrk, type WrkRequest } from './wrk.js'

/** A reading of the server process: CPU used so far and requests answered per server. */
export interface ServerSnapshot {
  readonly cpuUs: number
  readonly requests: Readonly<Record<string, number>>
}

type ToChild = { readonly type: 'snapshot' }
type FromChild =
  | { readonly type: 'ready'; readonly ports: Record<string, number> }
  | ({ readonly type: 'snapshot' } & ServerSnapshot)

/**
 * Child side: counts the requests of each listening server and answers the parent's snapshot
 * requests; reports the ports once. Exits when the parent disconnects.
 */
export function serveForBench(servers: Readonly<Record<string, Server>>): void {
  const requests: Record<string, number> = {}
  const ports: Record<string, number> = {}
  for (const [name, server] of Object.entries(servers)) {
    requests[name] = 0
    server.on('request', () => {
      requests[name] = (requests[name] ?? 0) + 1
    })
    ports[name] = (server.address() as AddressInfo).port
  }
  process.on('message', (message: ToChild) => {
    if (message.type !== 'snapshot') return
    const { user, system } = process.cpuUsage()
    process.send?.({ type: 'snapshot', cpuUs: user + system, requests: { ...requests } })
  })
  process.once('disconnect', () => process.exit(0))
  process.send?.({ type: 'ready', ports } satisfies FromChild)
}

/** Resolves once `server` listens on a free loopback port. */
export function listening(server: Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

/** Parent side of a running server process. */
export interface ServerProcess {
  readonly ports: Readonly<Record<string, number>>
  /** The process's CPU and request counts now. */
  snapshot(): Promise<ServerSnapshot>
  /** Measures `load` against server `name`: server CPU µs per request it answered meanwhile. */
  measure<T>(
    name: string,
    load: () => Promise<T>,
  ): Promise<{ result: T; cpuUs: number; served: number }>
  stop(): Promise<void>
}

/** Forks `moduleUrl` (which calls `serveForBench`) with `args`; resolves once it is ready. */
export async function startServerProcess(
  moduleUrl: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<ServerProcess> {
  const child: ChildProcess = fork(fileURLToPath(moduleUrl), [...args], {
    env: { ...process.env, ...env },
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    const onMessage = (message: FromChild) => {
      if (message.type === 'ready') {
        child.off('message', onMessage)
        resolve(message.ports)
      }
    }
    child.on('message', onMessage)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`bench server exited with code ${code}`)))
  })
  if (child.pid !== undefined) pinServer(child.pid)
  const snapshot = () =>
    new Promise<ServerSnapshot>((resolve) => {
      const onMessage = (message: FromChild) => {
        if (message.type !== 'snapshot') return
        child.off('message', onMessage)
        resolve(message)
      }
      child.on('message', onMessage)
      child.send({ type: 'snapshot' } satisfies ToChild)
    })
  return {
    ports,
    snapshot,
    async measure(name, load) {
      const before = await snapshot()
      const result = await load()
      const after = await snapshot()
      const served = (after.requests[name] ?? 0) - (before.requests[name] ?? 0)
      return {
        result,
        served,
        cpuUs: served > 0 ? (after.cpuUs - before.cpuUs) / served : Number.NaN,
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.removeAllListeners('exit')
        child.once('exit', () => resolve())
        child.disconnect()
      }),
  }
}

/**
 * Builds wrk variants against the servers of `server`: each run loads server `key` with
 * `requests` from wrk (`connections` keep-alive connections for `durationMs`), fails on any
 * failed request, and reports wrk's figures with the server's CPU per request.
 */
export function wrkVariants(
  server: ServerProcess,
  requests: readonly WrkRequest[],
  load: { readonly connections: number; readonly durationMs: number },
): (name: string, key: string, moreWorkThan?: string) => Variant {
  return (name, key, moreWorkThan) => ({
    name,
    ...(moreWorkThan === undefined ? {} : { moreWorkThan: [moreWorkThan] }),
    run: async () => {
      const port = server.ports[key] as number
      const { result, cpuUs } = await server.measure(key, () => runWrk({ port, requests, ...load }))
      if (result.failed > 0) throw new Error(`${name}: ${result.failed} failed requests`)
      return { ...result, cpuUs }
    },
  })
}
