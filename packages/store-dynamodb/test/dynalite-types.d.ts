/** The part of dynalite's (untyped) API the tests use. */
declare module 'dynalite' {
  import type { Server } from 'node:http'

  interface DynaliteOptions {
    /** Time tables stay CREATING / DELETING / UPDATING, in ms (default 500). */
    createTableMs?: number
    deleteTableMs?: number
    updateTableMs?: number
  }

  /** An HTTP server speaking the DynamoDB API, in memory unless given a path. */
  export default function dynalite(options?: DynaliteOptions): Server
}
