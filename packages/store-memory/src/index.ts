/**
 * `@apigw-ws/store-memory`: the in-memory store for apigw-ws. Everything a user may rely on is
 * exported here; the tables and indexes behind it are internal.
 */

export type { MemoryStoreCapacityEvent, MemoryStoreOptions } from './memory-store.js'
export { memoryStore } from './memory-store.js'
