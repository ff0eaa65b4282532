/**
 * The state one running local gateway shares between its parts (client connections, the
 * `$connect` upgrade, the management API and shutdown): its normalized options, its backend, the
 * open connections, the backend calls in flight, and the logger. Nothing here acts on a socket.
 */
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { Backend, BackendCall, ClientConnection } from './backend.js'
import type { TimerHandle } from './clock.js'
import { newGatewayId } from './ids.js'
import type { GatewayLogEntry, NormalizedOptions } from './options.js'

/** One open client connection. */
export interface LiveConnection {
  readonly client: ClientConnection
  readonly socket: WebSocket
  lastActiveAt: number
  timer: TimerHandle | undefined
  /** Set when the gateway decided to close (or ws failed the connection): the code it sent. */
  closing: { code: number; reason: string } | undefined
  /** Resolves once the socket closed and `$disconnect` was dispatched. */
  readonly closed: Promise<void>
  readonly markClosed: () => void
}

/** The shared state of one gateway. */
export interface GatewayState {
  readonly opts: NormalizedOptions
  readonly backend: Backend
  /** Open connections addressable through `@connections` (closing ones are removed). */
  readonly connections: Map<string, LiveConnection>
  /** Every socket not yet closed, including closing ones. */
  readonly sockets: Set<LiveConnection>
  /** Handshakes waiting on `$connect`. */
  readonly pendingUpgrades: Set<Duplex>
  /** Backend calls in flight, awaited (bounded) by `close()`. */
  readonly inflight: Set<Promise<unknown>>
  /** Set once `close()` began: no new connection opens after it. */
  isClosing: boolean
  /** `host:port` for clients that sent no `Host` header (set once listening). */
  fallbackHost: string
  /** Remembers `promise` in `inflight` until it settles; returns it. */
  track<T>(promise: Promise<T>): Promise<T>
  /** Fresh ids and time for one backend call. */
  newCall(): BackendCall
  /** Passes `entry` to `onLog`; a throwing logger is ignored. */
  log(entry: GatewayLogEntry): void
}

/** Creates the state of a gateway with options `opts` calling `backend`. */
export function createGatewayState(opts: NormalizedOptions, backend: Backend): GatewayState {
  const inflight = new Set<Promise<unknown>>()
  return {
    opts,
    backend,
    connections: new Map(),
    sockets: new Set(),
    pendingUpgrades: new Set(),
    inflight,
    isClosing: false,
    fallbackHost: '',
    track(promise) {
      inflight.add(promise)
      const forget = (): void => {
        inflight.delete(promise)
      }
      promise.then(forget, forget)
      return promise
    },
    newCall: () => ({ requestId: newGatewayId(), requestTimeEpoch: opts.clock.now() }),
    log(entry) {
      try {
        opts.onLog?.(entry)
      } catch {
        // A faulty logger must not break connections.
      }
    },
  }
}
