/**
 * What a command may touch: its output streams, the environment it reads (`DATABASE_URL`), and a
 * sleep for `cleanup --interval`. Injected so tests run commands in-process without global state.
 */

/** A command's surroundings. */
export interface CliIo {
  /** Human or JSON output. */
  readonly stdout: (text: string) => void
  /** Errors and progress notes. */
  readonly stderr: (text: string) => void
  /** Environment variables the commands read (`DATABASE_URL`). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Waits `ms` milliseconds, or resolves early when `signal` aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  /** Aborts `cleanup --interval` between runs (the CLI wires SIGINT and SIGTERM to it). */
  readonly signal?: AbortSignal
}

/** Exit codes: 0 success (doctor: clean), 1 doctor findings or a failed run, 2 usage or credentials. */
export const EXIT = Object.freeze({ OK: 0, FINDINGS: 1, USAGE: 2 })

/** A usage, configuration or credentials error: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** Writes `value` as one line of JSON. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`)
}
