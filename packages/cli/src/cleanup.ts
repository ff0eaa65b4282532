/**
 * `apigw-ws cleanup`: sweeps the Kysely store (expired tokens, ended rate-limit windows,
 * disconnected and stale connections) with core's `cleanupStore`, once or every `--interval`
 * until interrupted or `--max-runs` sweeps have run. On an interval a failed sweep is reported
 * and the next one still runs; the exit code is then 1.
 */
import { type CleanupCounts, cleanupStore } from '@apigw-ws/core'
import { kyselyStore } from '@apigw-ws/store-kysely'
import { duration, integer, parse } from './args.js'
import { openDatabase } from './database.js'
import { type CliIo, EXIT, printJson, UsageError } from './io.js'

/** `apigw-ws cleanup --help`. */
export const CLEANUP_HELP = `Usage: apigw-ws cleanup [options]

Deletes expired tokens, ended rate-limit windows, and disconnected or stale connections.
Idempotent; safe to run from several processes at once.

Options:
  --database-url <url>             postgres://… or sqlite:<path> (default: $DATABASE_URL)
  --table-prefix <p>               table prefix, as given to kyselyStore (default: apigw_)
  --batch-size <n>                 rows per kind deleted per statement (default: 500)
  --stale-after <duration>         delete connections older than this (default: 2h10m as 130m)
  --disconnected-retention <dur.>  keep disconnected connections this long (default: 0)
  --interval <duration>            sweep again every <duration> until interrupted (e.g. 5m)
  --max-runs <n>                   with --interval: stop after n sweeps
  --json                           print each sweep's counts as JSON
  -h, --help                       show this help

Durations: 500ms, 30s, 5m, 2h.
`

function sleepFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Runs `cleanup`; resolves the exit code. */
export async function cleanupCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parse(argv, {
    'database-url': { type: 'string' },
    'table-prefix': { type: 'string' },
    'batch-size': { type: 'string' },
    'stale-after': { type: 'string' },
    'disconnected-retention': { type: 'string' },
    interval: { type: 'string' },
    'max-runs': { type: 'string' },
  })
  if (args.help === true) {
    io.stdout(CLEANUP_HELP)
    return EXIT.OK
  }
  const batchSize = integer(args['batch-size'], 'batch-size', 500)
  if (batchSize < 1) throw new UsageError('--batch-size must be at least 1')
  const staleConnectionMs = duration(args['stale-after'], 'stale-after')
  const disconnectedRetentionMs = duration(args['disconnected-retention'], 'disconnected-retention')
  const intervalMs = duration(args.interval, 'interval')
  if (intervalMs !== undefined && intervalMs < 1000) {
    throw new UsageError('--interval must be at least 1s')
  }
  const maxRuns = integer(args['max-runs'], 'max-runs', intervalMs === undefined ? 1 : Infinity)
  if (args['max-runs'] !== undefined && intervalMs === undefined) {
    throw new UsageError('--max-runs needs --interval')
  }
  if (maxRuns < 1) throw new UsageError('--max-runs must be at least 1')
  const tablePrefix = args['table-prefix'] ?? 'apigw_'
  const database = await openDatabase(args['database-url'] ?? io.env.DATABASE_URL, (error) =>
    io.stderr(`apigw-ws cleanup: database connection lost: ${error.message}\n`),
  )
  const store = kyselyStore({ db: database.db, tablePrefix })
  const signal = io.signal ?? new AbortController().signal
  const sleep = io.sleep ?? sleepFor
  let failed = 0
  try {
    for (let run = 1; run <= maxRuns && !signal.aborted; run++) {
      let counts: CleanupCounts
      try {
        counts = await cleanupStore(store, {
          batchSize,
          ...(staleConnectionMs === undefined ? {} : { staleConnectionMs }),
          ...(disconnectedRetentionMs === undefined ? {} : { disconnectedRetentionMs }),
        })
      } catch (error) {
        // One sweep: the failure is the result. On an interval: report it and try again next time.
        if (intervalMs === undefined) throw error
        failed++
        const cause =
          error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ''
        io.stderr(`apigw-ws cleanup: sweep ${run} failed: ${(error as Error).message}${cause}\n`)
        if (run < maxRuns) await sleep(intervalMs, signal)
        continue
      }
      if (args.json === true) {
        printJson(io, { at: new Date().toISOString(), run, deleted: counts })
      } else {
        io.stdout(
          `deleted ${counts.tokens} tokens, ${counts.rateLimits} rate-limit windows, ${counts.connections} connections\n`,
        )
      }
      if (run < maxRuns) await sleep(intervalMs ?? 0, signal)
    }
    return failed === 0 ? EXIT.OK : EXIT.FINDINGS
  } finally {
    await database.close()
  }
}
