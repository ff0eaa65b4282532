/**
 * Services that some tests need: PostgreSQL (`DATABASE_URL`) and Debian's Chromium. On a
 * developer's machine a missing service skips the tests that need it, with a printed reason; with
 * `APIGW_WS_REQUIRE_SERVICES=1` (set by `.ci/run`) a missing service fails the run instead, so CI
 * can never pass by skipping.
 */
import { existsSync } from 'node:fs'

/** Whether a missing service must fail the run rather than skip. */
export const REQUIRE_SERVICES: boolean = process.env.APIGW_WS_REQUIRE_SERVICES === '1'

/** The PostgreSQL server for tests, or `undefined` when none is configured. */
export const DATABASE_URL: string | undefined = process.env.DATABASE_URL || undefined

/** Where the browser tests find Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

/** Whether Chromium is installed. */
export const HAS_CHROMIUM: boolean = existsSync(CHROMIUM_PATH)

const hints = {
  postgres: 'set DATABASE_URL (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)',
  chromium: `install Debian's chromium (${CHROMIUM_PATH}; .ci/run installs it)`,
} as const

/**
 * `true` when the tests named by `what` must be skipped because `service` is missing. Prints why.
 * Throws instead when services are required, so the test file fails loudly.
 */
export function skipWithout(service: keyof typeof hints, what: string): boolean {
  const present = service === 'postgres' ? DATABASE_URL !== undefined : HAS_CHROMIUM
  if (present) return false
  const message = `${what} needs ${service}: ${hints[service]}`
  if (REQUIRE_SERVICES) throw new Error(`APIGW_WS_REQUIRE_SERVICES=1 and ${message}`)
  console.warn(`[skipped] ${message}`)
  return true
}
