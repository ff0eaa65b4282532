/**
 * `$connect` in one round trip on PostgreSQL. The store's `admit` runs five steps (address
 * limit, token consume, channel check, user limit, connection insert); through Kysely each is a
 * statement of its own, four sequential round trips to the server. Here they are one PL/pgSQL
 * function, `<prefix>admit`, created by the store's migration `0003_postgres_admit`, and `admit`
 * is one `select` of it. Every step is the same statement the store runs on its own (the same
 * upsert for a limit hit, the same conditional `update … returning` for the consume, the same
 * `insert … on conflict do nothing` for the connection), in the same order, stopping at the first
 * refusal: each keeps its atomicity (row locks under READ COMMITTED, a fresh snapshot per
 * statement), and effects of completed steps stay when a later step refuses, because a refusal is
 * a normal return, not an error. An error in any step (a store failure) rolls the whole call
 * back and rejects, and the gateway fails closed.
 */
import type { AdmitRequest, AdmitResult, TokenRecord } from '@apigw-ws/core'
import { CompiledQuery, type Kysely, sql } from 'kysely'
import type { QueryRunner } from './prepared.js'
import { tableNames } from './schema.js'

/** The function's name for a table prefix (a valid prefix keeps it a plain identifier). */
export function admitFunctionName(prefix: string): string {
  return `${prefix}admit`
}

/**
 * One limit hit in PL/pgSQL, as `limits.hit` runs it: count and window decided inside the upsert
 * on `key` (an expression) with the window `window` ms from `p_now`, its result stored in
 * `o_count` and `o_reset_at`.
 */
export function hitStatement(t: ReturnType<typeof tableNames>, key: string, window: string) {
  return `
    insert into "${t.rate_limits}" as r ("key", "count", "reset_at")
      values (${key}, 1, p_now + ${window})
      on conflict ("key") do update set
        "count" = case when r."reset_at" <= p_now then 1 else r."count" + 1 end,
        "reset_at" = case when r."reset_at" <= p_now then excluded."reset_at" else r."reset_at" end
      returning r."count", r."reset_at" into o_count, o_reset_at;`
}

/** `create or replace function <prefix>admit(…)` for the tables under `prefix`. */
export function admitFunctionSql(prefix: string): string {
  const t = tableNames(prefix)
  const hit = (key: string, window: string) => hitStatement(t, key, window)
  return `create or replace function "${admitFunctionName(prefix)}"(
  p_ip_key text, p_ip_limit bigint, p_ip_window bigint,
  p_token_hash text, p_session_hash text, p_channel text,
  p_user_prefix text, p_user_limit bigint, p_user_window bigint,
  p_id text, p_api_id text, p_stage text, p_domain_name text, p_now bigint,
  out o_outcome text, out o_count bigint, out o_reset_at bigint,
  out o_user_id text, out o_session_hash text, out o_token_channel text, out o_expires_at bigint,
  out o_channel text)
language plpgsql as $admit$
begin
  if p_ip_key is not null then${hit('p_ip_key', 'p_ip_window')}
    if o_count > p_ip_limit then o_outcome := 'ip'; return; end if;
  end if;
  update "${t.tokens}" as k set "used_at" = p_now
    where k."hash" = p_token_hash and k."used_at" is null and k."expires_at" > p_now
      and (k."session_hash" is null or k."session_hash" = p_session_hash)
    returning k."user_id", k."session_hash", k."channel", k."expires_at"
    into o_user_id, o_session_hash, o_token_channel, o_expires_at;
  if not found then o_outcome := 'token'; return; end if;
  if o_token_channel is not null and p_channel is not null and o_token_channel <> p_channel then
    o_outcome := 'channel'; return;
  end if;
  if p_user_prefix is not null then${hit('p_user_prefix || o_user_id', 'p_user_window')}
    if o_count > p_user_limit then o_outcome := 'user'; return; end if;
  end if;
  o_channel := coalesce(p_channel, o_token_channel);
  insert into "${t.connections}" ("id", "user_id", "api_id", "stage", "domain_name",
      "connected_at", "last_seen_at", "request_count", "disconnected_at", "channel_count")
    values (p_id, o_user_id, p_api_id, p_stage, p_domain_name, p_now, p_now, 0, null,
      case when o_channel is null then 0 else 1 end)
    on conflict ("id") do nothing;
  if not found then o_outcome := 'duplicate'; return; end if;
  if o_channel is not null then
    insert into "${t.subscriptions}" ("connection_id", "channel") values (p_id, o_channel);
  end if;
  o_outcome := 'admitted';
end
$admit$`
}

/** Creates (or replaces) the function for the tables under `prefix`. */
export async function createAdmitFunction(db: Kysely<unknown>, prefix: string): Promise<void> {
  await sql.raw(admitFunctionSql(prefix)).execute(db)
}

/** Drops the function for `prefix`, if it exists. */
export async function dropAdmitFunction(db: Kysely<unknown>, prefix: string): Promise<void> {
  await sql.raw(`drop function if exists "${admitFunctionName(prefix)}"`).execute(db)
}

interface AdmitRow {
  o_outcome: string
  o_count: string | number | null
  o_reset_at: string | number | null
  o_user_id: string | null
  o_session_hash: string | null
  o_token_channel: string | null
  o_expires_at: string | number | null
  o_channel: string | null
}

/** `admit` for the PostgreSQL store with `prefix`: one `select` of the function. */
export function postgresAdmit(
  runner: QueryRunner,
  prefix: string,
): (request: AdmitRequest, now: number) => Promise<AdmitResult> {
  const text = `select * from "${admitFunctionName(prefix)}"(${Array.from({ length: 14 }, (_, i) => `$${i + 1}`).join(', ')})`
  return async function admit(request, now) {
    const { ipLimit, userLimit, connection } = request
    const query = CompiledQuery.raw(text, [
      ipLimit?.key ?? null,
      ipLimit?.rule.limit ?? null,
      ipLimit?.rule.windowMs ?? null,
      request.tokenHash,
      request.sessionHash,
      request.channel,
      userLimit?.keyPrefix ?? null,
      userLimit?.rule.limit ?? null,
      userLimit?.rule.windowMs ?? null,
      connection.connectionId,
      connection.apiId,
      connection.stage,
      connection.domainName,
      now,
    ])
    const [row] = (await runner.executeQuery<AdmitRow>(query)).rows
    if (row === undefined) throw new Error('admit: the function returned no row')
    switch (row.o_outcome) {
      case 'ip':
      case 'user': {
        const count = Number(row.o_count)
        return {
          admitted: false,
          code: 'RATE_LIMITED',
          scope: row.o_outcome,
          limit: { allowed: false, count, resetAt: Number(row.o_reset_at) },
        }
      }
      case 'token':
        return { admitted: false, code: 'TOKEN_INVALID' }
      case 'channel':
        return { admitted: false, code: 'TOKEN_CHANNEL_MISMATCH' }
      case 'duplicate':
        return { admitted: false, code: 'CONNECTION_DUPLICATE' }
      case 'admitted': {
        const token: TokenRecord = Object.freeze({
          hash: request.tokenHash,
          userId: row.o_user_id as string,
          sessionHash: row.o_session_hash,
          channel: row.o_token_channel,
          expiresAt: Number(row.o_expires_at),
        })
        return { admitted: true, token, channel: row.o_channel }
      }
      default:
        throw new Error(`admit: unexpected outcome ${JSON.stringify(row.o_outcome)}`)
    }
  }
}
