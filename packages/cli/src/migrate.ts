/**
 * `apigw-ws migrate`: brings the Kysely store's tables up to date on the database `DATABASE_URL`
 * (or `--database-url`) names, under a table prefix, with store-kysely's own `migrate`.
 */
import { migrate } from '@apigw-ws/store-kysely'
import { parse } from './args.js'
import { openDatabase } from './database.js'
import { type CliIo, EXIT, printJson } from './io.js'

/** `apigw-ws migrate --help`. */
export const MIGRATE_HELP = `Usage: apigw-ws migrate [options]

Creates or updates the apigw-ws store tables (idempotent; safe to run from several
instances at once).

Options:
  --database-url <url>   postgres://… or sqlite:<path> (default: $DATABASE_URL)
  --table-prefix <p>     table prefix, as given to kyselyStore (default: apigw_)
  --json                 print the result as JSON
  -h, --help             show this help
`

/** Runs `migrate`; resolves the exit code. */
export async function migrateCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parse(argv, {
    'database-url': { type: 'string' },
    'table-prefix': { type: 'string' },
  })
  if (args.help === true) {
    io.stdout(MIGRATE_HELP)
    return EXIT.OK
  }
  const tablePrefix = args['table-prefix'] ?? 'apigw_'
  const database = await openDatabase(args['database-url'] ?? io.env.DATABASE_URL)
  try {
    const applied = (await migrate(database.db, { tablePrefix })).map((m) => m.migrationName)
    if (args.json === true) {
      printJson(io, { database: database.displayUrl, tablePrefix, applied })
    } else if (applied.length === 0) {
      io.stdout(`${database.displayUrl} (prefix ${tablePrefix}): up to date\n`)
    } else {
      io.stdout(`${database.displayUrl} (prefix ${tablePrefix}): applied ${applied.join(', ')}\n`)
    }
    return EXIT.OK
  } finally {
    await database.close()
  }
}
