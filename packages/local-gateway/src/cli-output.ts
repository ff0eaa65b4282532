/**
 * What `apigw-ws-local` prints: the start-up banner and one line per log entry. Pure string
 * formatting, so the output is tested without spawning the CLI. Secrets never appear.
 */
import type { GatewayLogEntry } from './options.js'

/** The lines printed once the gateway listens. */
export function formatBanner(info: {
  readonly url: string
  readonly managementEndpoint: string
  readonly target: string
  readonly routes: readonly string[] | undefined
  readonly secretSource: 'flag' | 'env' | undefined
  readonly secretHeader: string
}): string {
  const routes = info.routes?.length ? info.routes.join(', ') : 'any [A-Za-z0-9_-] key'
  const secret =
    info.secretSource === undefined
      ? 'none (the backend will warn)'
      : `${info.secretHeader} (from ${info.secretSource === 'env' ? 'APIGW_SECRET' : '--secret'})`
  return [
    'apigw-ws-local is listening',
    `  WebSocket URL        ${info.url}`,
    `  @connections         ${info.managementEndpoint}`,
    `  backend              ${info.target}`,
    `  custom routes        ${routes}`,
    `  secret header        ${secret}`,
  ].join('\n')
}

/** One log line, e.g. `message chat TXzPWdnOjoECGjA= → 200`. */
export function formatLogEntry(entry: GatewayLogEntry): string {
  switch (entry.kind) {
    case 'integration': {
      const outcome =
        entry.status === null ? `failed: ${entry.error ?? 'no response'}` : String(entry.status)
      return `${entry.route.padEnd(12)} ${entry.connectionId} → ${outcome}`
    }
    case 'close':
      return `${'close'.padEnd(12)} ${entry.connectionId} ${entry.code}${entry.reason ? ` ${entry.reason}` : ''}`
    case 'management':
      return `${`@${entry.method}`.padEnd(12)} ${entry.connectionId} → ${entry.status}`
  }
}
