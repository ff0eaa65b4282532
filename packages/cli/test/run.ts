/** Runs the CLI in-process with captured output. */
import { type CliIo, runCli } from '../src/index.js'

/** What one run printed and returned. */
export interface RunResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `argv` with `env` (and optionally a sleep and signal), capturing the output. */
export async function run(
  argv: readonly string[],
  extra: Partial<Pick<CliIo, 'env' | 'sleep' | 'signal'>> = {},
): Promise<RunResult> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    env: extra.env ?? {},
    ...(extra.sleep === undefined ? {} : { sleep: extra.sleep }),
    ...(extra.signal === undefined ? {} : { signal: extra.signal }),
  })
  return { code, stdout, stderr }
}
