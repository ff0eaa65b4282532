/**
 * Where connect tokens come from. A token is single-use, so the client asks for a fresh one
 * before every connection attempt. A token URL is fetched the way apigw-ws token routes expect:
 * `POST`, `credentials: 'include'`, a JSON content type (the browser adds `Origin` and
 * `Sec-Fetch-Site`, which the route's CSRF check reads). 401/403 means signed out; 429 carries
 * `Retry-After`.
 */
import { ClientError } from './errors.js'

/** A token URL and what to send with it. */
export interface TokenUrl {
  /** The token route, e.g. `/ws-token`. */
  readonly url: string
  /** Extra request headers (on Node, `origin` for the CSRF check). */
  readonly headers?: Readonly<Record<string, string>>
  /** JSON body; default `{}`. */
  readonly body?: unknown
}

/**
 * A function resolving a fresh token (called once per connection attempt; throw a `ClientError`
 * with code `SIGNED_OUT` to stop the client), or a token URL to fetch.
 */
export type TokenSource = (() => Promise<string>) | TokenUrl

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds from `now`. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** The token getter for a source; errors are always `ClientError`s. */
export function tokenGetter(source: TokenSource, now: () => number): () => Promise<string> {
  if (typeof source === 'function') return source
  return async function fetchToken() {
    let response: Response
    try {
      response = await fetch(source.url, {
        method: 'POST',
        credentials: 'include',
        headers: { 'content-type': 'application/json', ...source.headers },
        body: JSON.stringify(source.body ?? {}),
      })
    } catch {
      throw new ClientError('TOKEN_FAILED', 'token request failed')
    }
    const { status } = response
    if (status === 401 || status === 403) {
      throw new ClientError('SIGNED_OUT', 'signed out', { status })
    }
    const retry =
      status === 429 ? retryAfterMs(response.headers.get('retry-after'), now()) : undefined
    const body = (await response.json().catch(() => null)) as { token?: unknown } | null
    if (status !== 200 || typeof body?.token !== 'string') {
      throw new ClientError('TOKEN_FAILED', `token route answered ${status}`, {
        status,
        ...(retry === undefined ? {} : { retryAfterMs: retry }),
      })
    }
    return body.token
  }
}
