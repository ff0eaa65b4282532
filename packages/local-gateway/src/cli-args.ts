/**
 * The `apigw-ws-local` command line: its help text and a pure parser from `argv` (and the
 * environment, for `APIGW_SECRET`) to gateway options. Range checks stay with
 * `startLocalGateway`, so the CLI and the API reject the same values with the same messages.
 */
import { parseArgs } from 'node:util'
import type { LocalGatewayOptions } from './options.js'

/** The default port of the CLI (the API defaults to 0, a free port). */
export const CLI_DEFAULT_PORT = 3001

/** `apigw-ws-local --help`. */
export const HELP_TEXT = `apigw-ws-local: a local stand-in for an AWS API Gateway WebSocket API.

Clients connect to ws://<host>:<port>/<stage>; every event is POSTed to the backend the way
API Gateway's HTTP_PROXY integration does: <target>/connect (before the handshake completes),
<target>/default or <target>/<route> for messages, <target>/disconnect. The @connections
management API is served at http://<host>:<port>/<stage>/@connections/<connectionId>.

Usage:
  apigw-ws-local --target <url> [options]

Options:
  --target <url>                  backend mount, e.g. http://127.0.0.1:3000/ws (required)
  --port <n>                      port to listen on (default ${CLI_DEFAULT_PORT}; 0 picks a free one)
  --host <addr>                   interface to listen on (default 127.0.0.1)
  --stage <name>                  stage name in the URLs (default local)
  --api-id <id>                   API id sent to the backend (default local)
  --secret <value>                static secret header sent on every backend call
                                  (default: the APIGW_SECRET environment variable, if set)
  --secret-header <name>          name of that header (default x-apigw-secret)
  --route <key>                   a custom route key; repeat for each route. Without any,
                                  every selected key matching [A-Za-z0-9_-]{1,128} is a route
  --route-selection <expr>        route selection expression (default $request.body.action)
  --idle-timeout-ms <n>           idle timeout (default 600000, 10 minutes)
  --max-duration-ms <n>           maximum connection duration (default 7200000, 2 hours)
  --max-message-bytes <n>         largest message (default 131072, 128 KiB)
  --integration-timeout-ms <n>    backend call timeout (default 29000)
  --quiet                         do not log each backend call and close
  -h, --help                      show this help

Example:
  apigw-ws-local --target http://127.0.0.1:3000/ws --port 3001 --route chat --route join
`

/** What the command line asks for. */
export type CliCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string }
  | {
      readonly kind: 'run'
      readonly options: LocalGatewayOptions & { readonly port: number }
      readonly isQuiet: boolean
      /** Where the secret came from, for the start-up banner; never the value itself. */
      readonly secretSource: 'flag' | 'env' | undefined
    }

const NUMERIC: ReadonlyArray<readonly [flag: string, option: string]> = [
  ['idle-timeout-ms', 'idleTimeoutMs'],
  ['max-duration-ms', 'maxDurationMs'],
  ['max-message-bytes', 'maxMessageBytes'],
  ['integration-timeout-ms', 'integrationTimeoutMs'],
]

/**
 * Parses `argv` (without the node and script paths). Never throws and never exits: unknown
 * flags, missing values and non-numeric numbers come back as `{ kind: 'error' }`.
 */
export function parseCliArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): CliCommand {
  let values: Record<string, string | boolean | string[] | undefined>
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        stage: { type: 'string' },
        'api-id': { type: 'string' },
        secret: { type: 'string' },
        'secret-header': { type: 'string' },
        route: { type: 'string', multiple: true },
        'route-selection': { type: 'string' },
        'idle-timeout-ms': { type: 'string' },
        'max-duration-ms': { type: 'string' },
        'max-message-bytes': { type: 'string' },
        'integration-timeout-ms': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) }
  }
  if (values.help === true) return { kind: 'help' }

  const str = (name: string): string | undefined => {
    const v = values[name]
    return typeof v === 'string' ? v : undefined
  }
  const target = str('target')
  if (target === undefined) return { kind: 'error', message: 'missing --target <url>' }

  const numbers: Record<string, number> = {}
  for (const [flag, option] of [['port', 'port'] as const, ...NUMERIC]) {
    const raw = str(flag)
    if (raw === undefined) continue
    if (!/^\d{1,10}$/.test(raw)) {
      return {
        kind: 'error',
        message: `--${flag} needs a whole number, got ${JSON.stringify(raw)}`,
      }
    }
    numbers[option] = Number(raw)
  }

  const flagSecret = str('secret')
  const envSecret = env.APIGW_SECRET
  const secretValue = flagSecret ?? (envSecret ? envSecret : undefined)
  const secretHeader = str('secret-header')
  if (secretHeader !== undefined && secretValue === undefined) {
    return { kind: 'error', message: '--secret-header needs --secret (or APIGW_SECRET)' }
  }

  const routes = values.route
  const options: LocalGatewayOptions & { port: number } = {
    integration: { type: 'http', baseUrl: target },
    port: numbers.port ?? CLI_DEFAULT_PORT,
    ...(str('host') !== undefined && { host: str('host') as string }),
    ...(str('stage') !== undefined && { stage: str('stage') as string }),
    ...(str('api-id') !== undefined && { apiId: str('api-id') as string }),
    ...(str('route-selection') !== undefined && {
      routeSelectionExpression: str('route-selection') as string,
    }),
    ...(Array.isArray(routes) && { routes }),
    ...(secretValue !== undefined && {
      secret:
        secretHeader === undefined
          ? { value: secretValue }
          : { header: secretHeader, value: secretValue },
    }),
    ...(numbers.idleTimeoutMs !== undefined && { idleTimeoutMs: numbers.idleTimeoutMs }),
    ...(numbers.maxDurationMs !== undefined && { maxDurationMs: numbers.maxDurationMs }),
    ...(numbers.maxMessageBytes !== undefined && { maxMessageBytes: numbers.maxMessageBytes }),
    ...(numbers.integrationTimeoutMs !== undefined && {
      integrationTimeoutMs: numbers.integrationTimeoutMs,
    }),
  }
  return {
    kind: 'run',
    options,
    isQuiet: values.quiet === true,
    secretSource: flagSecret !== undefined ? 'flag' : secretValue !== undefined ? 'env' : undefined,
  }
}
