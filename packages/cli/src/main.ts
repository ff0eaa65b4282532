/**
 * The `apigw-ws` command line: dispatches `migrate`, `cleanup` and `doctor`, prints help, and
 * turns errors into exit codes (2 for usage and credentials, 1 for a failed run) with one-line
 * messages on stderr.
 */
import { cleanupCommand } from './cleanup.js'
import { doctorCommand } from './doctor.js'
import { type CliIo, EXIT, printJson, UsageError } from './io.js'
import { migrateCommand } from './migrate.js'

/** `apigw-ws --help`. */
export const HELP = `Usage: apigw-ws <command> [options]

Commands:
  migrate   create or update the store tables (Kysely: PostgreSQL or SQLite)
  cleanup   delete expired tokens, rate-limit windows and old connections (once or on an interval)
  doctor    check a deployed API Gateway WebSocket API and print each fix

Run apigw-ws <command> --help for its options. Every command takes --json.
`

const COMMANDS: ReadonlyMap<string, (argv: readonly string[], io: CliIo) => Promise<number>> =
  new Map([
    ['migrate', migrateCommand],
    ['cleanup', cleanupCommand],
    ['doctor', doctorCommand],
  ])

/** Runs the command line `argv` (without `node` and the script); resolves the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(HELP)
    return name === undefined ? EXIT.USAGE : EXIT.OK
  }
  const command = COMMANDS.get(name)
  if (command === undefined) {
    io.stderr(`apigw-ws: unknown command "${name}"\n\n${HELP}`)
    return EXIT.USAGE
  }
  const json = rest.includes('--json')
  try {
    return await command(rest, io)
  } catch (error) {
    const usage = error instanceof UsageError
    const message = error instanceof Error ? error.message : String(error)
    const cause =
      error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ''
    io.stderr(
      usage ? `apigw-ws ${name}: ${message}\n` : `apigw-ws ${name} failed: ${message}${cause}\n`,
    )
    // With --json, scripts also get the error as JSON on stdout.
    if (json)
      printJson(io, { error: { kind: usage ? 'usage' : 'failed', message: message + cause } })
    return usage ? EXIT.USAGE : EXIT.FINDINGS
  }
}
