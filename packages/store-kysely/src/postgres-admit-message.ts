/**
 * Messages in one round trip on PostgreSQL. The store's `admitMessage` runs two steps (touch the
 * connection, then count one hit of its message limit); through Kysely each is a statement of its
 * own, two sequential round trips to the server. Here they are one PL/pgSQL function,
 * `<prefix>admit_message`, created by the store's migration `0004_postgres_admit_message`, and
 * `admitMessage` is one `select` of it. Each step is the same statement the store runs on its own
 * (the conditional `update … returning` of `touch`, the upsert of `limits.hit`), in the same
 * order, stopping when the connection is unknown: each keeps its atomicity (row locks under READ
 * COMMITTED, a fresh snapshot per statement), PL/pgSQL caches both statements' plans, and a touch
 * stays when the limit refuses, because a refusal is a normal return, not an error. An error in
 * either step (a store failure) rolls the whole call back and rejects, and the gateway fails
 * closed.
 */
import type { AdmitMessageRequest, AdmitMessageResult } from '@apigw-ws/core'
import { CompiledQuery, type Kysely, sql } from 'kysely'
import { hitStatement } from './postgres-admit.js'
import type { QueryRunner } from './prepared.js'
import { tableNames } from './schema.js'
import { type ConnectionRow, toConnection } from './statements.js'

/** The function's name for a table prefix (a valid prefix keeps it a plain identifier). */
export function admitMessageFunctionName(prefix: string): string {
  return `${prefix}admit_message`
}

/** The connection columns the function returns, in order, as `o_<column>`. */
const COLUMNS = [
  ['id', 'text'],
  ['user_id', 'text'],
  ['api_id', 'text'],
  ['stage', 'text'],
  ['domain_name', 'text'],
  ['connected_at', 'bigint'],
  ['last_seen_at', 'bigint'],
  ['request_count', 'bigint'],
  ['disconnected_at', 'bigint'],
] as const

/** `create or replace function <prefix>admit_message(…)` for the tables under `prefix`. */
export function admitMessageFunctionSql(prefix: string): string {
  const t = tableNames(prefix)
  const outs = COLUMNS.map(([name, type]) => `out o_${name} ${type}`).join(', ')
  return `create or replace function "${admitMessageFunctionName(prefix)}"(
  p_id text, p_key text, p_limit bigint, p_window bigint, p_now bigint,
  out o_outcome text, out o_count bigint, out o_reset_at bigint,
  ${outs})
language plpgsql as $admit_message$
begin
  update "${t.connections}" as c
    set "request_count" = c."request_count" + 1, "last_seen_at" = p_now
    where c."id" = p_id and c."disconnected_at" is null
    returning ${COLUMNS.map(([name]) => `c."${name}"`).join(', ')}
    into ${COLUMNS.map(([name]) => `o_${name}`).join(', ')};
  if not found then o_outcome := 'unknown'; return; end if;
  if p_key is not null then${hitStatement(t, 'p_key', 'p_window')}
    if o_count > p_limit then o_outcome := 'limited'; return; end if;
  end if;
  o_outcome := 'admitted';
end
$admit_message$`
}

/** Creates (or replaces) the function for the tables under `prefix`. */
export async function createAdmitMessageFunction(
  db: Kysely<unknown>,
  prefix: string,
): Promise<void> {
  await sql.raw(admitMessageFunctionSql(prefix)).execute(db)
}

/** Drops the function for `prefix`, if it exists. */
export async function dropAdmitMessageFunction(db: Kysely<unknown>, prefix: string): Promise<void> {
  await sql.raw(`drop function if exists "${admitMessageFunctionName(prefix)}"`).execute(db)
}

interface AdmitMessageRow extends ConnectionRow {
  readonly outcome: string
  readonly count: string | number | null
  readonly reset_at: string | number | null
}

/** `admitMessage` for the PostgreSQL store with `prefix`: one `select` of the function. */
export function postgresAdmitMessage(
  runner: QueryRunner,
  prefix: string,
): (request: AdmitMessageRequest, now: number) => Promise<AdmitMessageResult> {
  // The outputs renamed to the store's column names, so the row maps like a `touch` row.
  const columns = COLUMNS.map(([name]) => `o_${name} as "${name}"`).join(', ')
  const text = `select o_outcome as "outcome", o_count as "count", o_reset_at as "reset_at", ${columns} from "${admitMessageFunctionName(prefix)}"($1, $2, $3, $4, $5)`
  return async function admitMessage(request, now) {
    const { limit } = request
    const query = CompiledQuery.raw(text, [
      request.connectionId,
      limit?.key ?? null,
      limit?.rule.limit ?? null,
      limit?.rule.windowMs ?? null,
      now,
    ])
    const [row] = (await runner.executeQuery<AdmitMessageRow>(query)).rows
    if (row === undefined) throw new Error('admitMessage: the function returned no row')
    switch (row.outcome) {
      case 'unknown':
        return { admitted: false, code: 'CONNECTION_UNKNOWN' }
      case 'limited':
        return {
          admitted: false,
          code: 'RATE_LIMITED',
          limit: Object.freeze({
            allowed: false,
            count: Number(row.count),
            resetAt: Number(row.reset_at),
          }),
        }
      case 'admitted':
        return { admitted: true, connection: toConnection(row) }
      default:
        throw new Error(`admitMessage: unexpected outcome ${JSON.stringify(row.outcome)}`)
    }
  }
}
