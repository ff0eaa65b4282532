/**
 * The executable behind `bin/apigw-ws.js`: runs `runCli` on the process's arguments, streams and
 * environment; SIGINT and SIGTERM stop `cleanup --interval` after the current sweep.
 */
import { runCli } from './main.js'

const controller = new AbortController()
// Only `cleanup --interval` keeps running; it stops after the sweep in progress. Every other
// command keeps Node's default: a signal ends it at once.
if (process.argv[2] === 'cleanup') {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => controller.abort())
  }
}
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  signal: controller.signal,
})
