import { createGateway, logEvents } from '@apigw-ws/core'
import { memoryStore } from '@apigw-ws/store-memory'

// One process owns all state: right for a single backend instance; lost on restart.
const store = memoryStore({
  maxKeys: 50_000, // per table: tokens, rate-limit windows, connections
  // A full table never drops live data: it refuses new entries (fails closed) and says so.
  onCapacity: (event) => console.warn(`apigw-ws: memory store full (${event.kind} table)`),
})

export const gateway = createGateway({
  store,
  integrationSecret: process.env.APIGW_SECRET,
  allowedOrigins: ['https://app.example.com'],
  onEvent: logEvents(), // a line per refusal and step, never a secret
})

// The store runs no timers: sweep expired tokens, ended rate-limit windows and stale
// connections yourself. unref() lets the process exit while the timer waits.
setInterval(() => {
  gateway.cleanup().catch((error: unknown) => console.error('apigw-ws: cleanup failed', error))
}, 60_000).unref()
