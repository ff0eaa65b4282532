#!/usr/bin/env node
/**
 * The `apigw-ws-local` executable: parses the command line, starts the gateway, prints where it
 * listens and one line per backend call, and closes cleanly on SIGINT/SIGTERM.
 */
import { HELP_TEXT, parseCliArgs } from './cli-args.js'
import { formatBanner, formatLogEntry } from './cli-output.js'
import { startLocalGateway } from './gateway.js'

const command = parseCliArgs(process.argv.slice(2), process.env)

if (command.kind === 'help') {
  process.stdout.write(HELP_TEXT)
} else if (command.kind === 'error') {
  process.stderr.write(`apigw-ws-local: ${command.message}\nRun apigw-ws-local --help for usage.\n`)
  process.exitCode = 2
} else {
  const { options } = command
  try {
    const gateway = await startLocalGateway({
      ...options,
      ...(!command.isQuiet && { onLog: (entry) => console.log(formatLogEntry(entry)) }),
    })
    console.log(
      formatBanner({
        url: gateway.url,
        managementEndpoint: gateway.managementEndpoint,
        target: options.integration.type === 'http' ? options.integration.baseUrl : 'lambda',
        routes: options.routes,
        secretSource: command.secretSource,
        secretHeader: options.secret?.header ?? 'x-apigw-secret',
      }),
    )
    const stop = (): void => {
      gateway.close().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  } catch (error) {
    process.stderr.write(
      `apigw-ws-local: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exitCode = 1
  }
}
