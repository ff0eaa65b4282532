/**
 * Keeping a process alive when PostgreSQL drops its connections. A `pg` pool and each of its
 * clients are event emitters that emit `'error'` when a backend dies (`pg_terminate_backend`, a
 * server restart, a failover, a network cut). An `'error'` event without a listener is thrown by
 * Node and ends the process, so one dying backend would take every in-flight request with it.
 * `handlePoolErrors` attaches the listeners; the queries running on the dead connection still
 * fail (core answers them with a generic 503), the pool discards the connection, and the next
 * queries open fresh ones. This module types the pool structurally, so it imports nothing from
 * `pg`.
 */

/** A `pg.Client` (or `pg.PoolClient`) as far as error handling needs it. */
export interface ErrorEmittingClient {
  on(event: 'error', listener: (error: Error) => void): unknown
}

/** A `pg.Pool` as far as error handling needs it. */
export interface ErrorEmittingPool {
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'connect', listener: (client: ErrorEmittingClient) => void): unknown
}

/** Options of {@link handlePoolErrors}. */
export interface PoolErrorOptions {
  /**
   * Receives every connection error (for logging). Called synchronously from the emitter; it
   * must not throw (a throw is swallowed). The error carries no query parameters from this
   * library, but a driver message may name the database or user, so log it to operators only.
   */
  readonly onError?: ((error: Error) => void) | undefined
}

/**
 * Attaches `'error'` listeners to `pool` and to every client it connects from now on, so a
 * backend dying while idle or mid-query never crashes the process. Call it right after creating
 * the pool, before the first query; it returns the same pool, so it can wrap the constructor:
 * `const pool = handlePoolErrors(new pg.Pool({ … }))`. Calling it twice on one pool attaches the
 * listeners twice (harmless, but `onError` then sees each error twice).
 *
 * What it does not do: retry. A query on a dying connection still rejects; the store passes the
 * error on, and the gateway refuses that request with 503 `STORE_UNAVAILABLE` (never an allow).
 * Each store operation is one atomic statement, so a request cut off this way either committed
 * its statement or did not; it is never applied twice.
 */
export function handlePoolErrors<P extends ErrorEmittingPool>(
  pool: P,
  options: PoolErrorOptions = {},
): P {
  if (typeof pool !== 'object' || pool === null || typeof pool.on !== 'function') {
    throw new TypeError('handlePoolErrors: pool must be a pg.Pool (an event emitter)')
  }
  const onError = options.onError
  if (onError !== undefined && typeof onError !== 'function') {
    throw new TypeError('handlePoolErrors: options.onError must be a function')
  }
  function connectionError(error: Error): void {
    if (onError === undefined) return
    try {
      onError(error)
    } catch {
      // A failing logger must not turn a handled error back into a crash.
    }
  }
  pool.on('error', connectionError)
  pool.on('connect', (client) => {
    client.on('error', connectionError)
  })
  return pool
}
