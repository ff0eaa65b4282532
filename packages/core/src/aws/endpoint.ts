/**
 * Where a connection's `@connections` calls go. By default the endpoint is derived from the
 * API id and stage API Gateway stored with the connection, as
 * `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`; an explicit endpoint (a custom
 * domain with its base path, a local gateway) replaces the derivation. Inputs that would put
 * anything but an API id and a stage name into the URL are refused, so stored data can never
 * point signed requests at another host.
 */
import type { ConnectionTarget, TransportFailure } from '../send/transport.js'
import { isApiId, isStage } from '../validators.js'

/**
 * An explicit `@connections` endpoint: one URL for every connection, or a function choosing one
 * per connection (return `null` when it has none: the call fails with `NO_ENDPOINT`).
 */
export type EndpointOption = string | ((target: ConnectionTarget) => string | null)

const REGION = /^[a-z0-9-]{1,32}$/

/** Whether `region` is safe to put into a host name. */
export function isRegion(region: unknown): region is string {
  return typeof region === 'string' && REGION.test(region)
}

/**
 * Validates an explicit endpoint and strips its trailing slashes. Returns `null` unless it is an
 * absolute `http:`/`https:` URL without query, fragment or credentials.
 */
export function normalizeEndpoint(endpoint: string): string | null {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return null
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return null
  }
  if (endpoint.includes('?') || endpoint.includes('#')) return null
  return endpoint.replace(/\/+$/, '')
}

/** The default endpoint for a target, or the failure it gets when it cannot have one. */
export function defaultEndpoint(
  region: string,
  target: ConnectionTarget,
): string | TransportFailure {
  const { apiId, stage } = target
  if (apiId === null || stage === null) return failure('NO_ENDPOINT')
  if (!isApiId(apiId) || !isStage(stage)) return failure('INVALID_ENDPOINT')
  return `https://${apiId}.execute-api.${region}.amazonaws.com/${stage}`
}

/** A non-retryable endpoint failure: no request was made. */
export function failure(code: 'NO_ENDPOINT' | 'INVALID_ENDPOINT'): TransportFailure {
  return { ok: false, code, gone: false, retryable: false }
}
