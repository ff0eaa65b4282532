/**
 * Argument parsing shared by the commands: `node:util`'s strict `parseArgs`, with every error
 * turned into a `UsageError` (exit code 2) and numbers parsed in one place.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { UsageError } from './io.js'

type Options = NonNullable<ParseArgsConfig['options']>

/** Parsed values: strings for string options, booleans for flags. */
export type Values<T extends Options> = {
  readonly [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string
} & { readonly help?: boolean; readonly json?: boolean }

/** Parses `argv` against `options` (plus `--help` and `--json`); unknown flags are errors. */
export function parse<T extends Options>(argv: readonly string[], options: T): Values<T> {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        ...options,
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values as Values<T>
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/** A non-negative integer option, or `fallback` when absent. */
export function integer(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer`)
  return Number(value)
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A duration such as `500ms`, `30s`, `5m`, `2h` (a bare number is milliseconds). */
export function duration(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const match = /^(\d{1,12})(ms|s|m|h)?$/.exec(value)
  if (match === null) throw new UsageError(`--${name} must be a duration like 500ms, 30s, 5m or 2h`)
  return Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1)
}
