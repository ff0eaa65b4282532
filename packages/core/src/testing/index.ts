/**
 * `@apigw-ws/core/testing`: the store conformance suite and the test kit. Importing it pulls in
 * vitest (an optional peer of core), so it is for test files only, never for production code.
 */

export * from './capturing-connections.js'
export type { FakeClock } from './fake-clock.js'
export { FAKE_CLOCK_START, fakeClock } from './fake-clock.js'
export type { ApiGatewaySettings, ConnectInit, MessageInit } from './requests.js'
export { connectionIdFor, httpRequests, lambdaEvents } from './requests.js'
export * from './test-adapter.js'
export type { TestStoreOptions } from './test-store.js'
export { testStore } from './test-store.js'
