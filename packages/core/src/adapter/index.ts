/**
 * `@apigw-ws/core/adapter`: the entry point for people who write framework adapters. An adapter
 * only translates: it hands the gateway the request head and a body reader
 * (`adapterOf(gateway).serve(head, readBody)`) and writes the `GatewayResponse` back. The gateway
 * checks the head (route, method, integration secret, API Gateway shape, connection id) before
 * the body is read, and reads it under `maxBodyBytes` and `bodyTimeoutMs`. Fetch-based adapters
 * use `fetchHead`, `fetchBody` and `toFetchResponse`; Node-based ones read the body themselves.
 */
export type { FetchBodyOptions, FetchOptions } from '../adapters/fetch.js'
export {
  declaredLength,
  fetchBody,
  fetchHead,
  parseQuery,
  parseRoute,
  readCapped,
  resolveRoute,
  targetPath,
  toFetchResponse,
} from '../adapters/fetch.js'
export type { NodeIncoming } from '../adapters/node.js'
export {
  nodeBodyConsumed,
  nodeBodyReader,
  nodeHeaders,
  readNodeBody,
} from '../adapters/node.js'
export type {
  AdapterRejectionCode,
  BodyRead,
  BodyReader,
  GatewayAdapter,
  IntegrationHead,
} from '../adapters/serve.js'
export { adapterOf } from '../adapters/serve.js'
export type { GatewayRequest, GatewayResponse, RouteKey } from '../request.js'
