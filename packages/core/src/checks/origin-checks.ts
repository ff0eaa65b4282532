/**
 * Browser-facing checks on `$connect`: the client address, `Origin` and `Host`. Origins are
 * compared as whole serialized strings against a set, so `https://app.example.com.evil.net` and
 * `https://evil.net/?https://app.example.com` never match `https://app.example.com`.
 */
import { reject } from '../rejections.js'
import { parseClientAddress, rawClientIp } from './client-ip.js'
import type { RequestState, StepResult } from './request-state.js'

/** A valid client address must be known on `$connect` (it keys the connect rate limit). */
export function clientAddress<TUser>(state: RequestState<TUser>): StepResult {
  const address = parseClientAddress(rawClientIp(state.request, state.config))
  if (address === null) return reject('CLIENT_IP_MISSING')
  state.address = address
  return undefined
}

/** `true` when `origin` is allowed by exact match. */
export function isOriginAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  return origin !== undefined && allowed.has(origin)
}

/** `Origin` exactly one of `allowedOrigins`; a missing one only with `allowMissingOrigin`. */
export function origin<TUser>(state: RequestState<TUser>): StepResult {
  const { config, request } = state
  const value = request.headers.origin
  if (value === undefined) {
    return config.allowMissingOrigin ? undefined : reject('ORIGIN_REJECTED', 'missing')
  }
  return isOriginAllowed(value, config.allowedOrigins) ? undefined : reject('ORIGIN_REJECTED')
}

/** Printable ASCII: what a host name can be. Lower-casing anything else folds look-alikes. */
const ASCII_HOST = /^[\x21-\x7e]+$/

/**
 * `Host` exactly one of `allowedHosts`, when configured, compared case-insensitively over ASCII
 * only: a non-ASCII value is refused before lower-casing, because Unicode case folding maps the
 * Kelvin sign (U+212A) to `k` and would let `ws.\u212Aiosk.example` match `ws.kiosk.example`.
 */
export function host<TUser>(state: RequestState<TUser>): StepResult {
  const allowed = state.config.allowedHosts
  if (allowed === null) return undefined
  const value = state.request.headers.host
  return value !== undefined && ASCII_HOST.test(value) && allowed.has(value.toLowerCase())
    ? undefined
    : reject('HOST_REJECTED')
}
