import {
  DummyDriver,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
} from 'kysely'
import { describe, expect, it } from 'vitest'
import type { StoreDatabase } from './schema.js'
import { tableNames } from './schema.js'
import { tablePrefixPlugin } from './table-prefix-plugin.js'

const db = new Kysely<StoreDatabase>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new SqliteIntrospector(k),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
}).withPlugin(tablePrefixPlugin(tableNames('p_')))

describe('tablePrefixPlugin', () => {
  it('renames logical tables in every position, including qualified column references', () => {
    const query = db
      .selectFrom('connections')
      .innerJoin('subscriptions', 'subscriptions.connection_id', 'connections.id')
      .select(['connections.id', sql<string>`${sql.ref('tokens.hash')}`.as('h')])
      .where('connections.id', 'in', db.selectFrom('rate_limits').select('key'))
      .compile()
    expect(query.sql).toContain('from "p_connections"')
    expect(query.sql).toContain('join "p_subscriptions" on "p_subscriptions"."connection_id"')
    expect(query.sql).toContain('"p_connections"."id"')
    expect(query.sql).toContain('"p_tokens"."hash"')
    expect(query.sql).toContain('from "p_rate_limits"')
    expect(query.sql).not.toMatch(/"(connections|subscriptions|tokens|rate_limits)"/)
  })

  it('leaves aliases, excluded, and schema-qualified or unknown tables alone', () => {
    const upsert = db
      .insertInto('rate_limits')
      .values({ key: 'k', count: 1, reset_at: 2 })
      .onConflict((oc) => oc.column('key').doUpdateSet({ count: (eb) => eb.ref('excluded.count') }))
      .compile()
    expect(upsert.sql).toContain('insert into "p_rate_limits"')
    expect(upsert.sql).toContain('"excluded"."count"')
    const aliased = db.selectFrom('subscriptions as s').select('s.channel').compile()
    expect(aliased.sql).toBe('select "s"."channel" from "p_subscriptions" as "s"')
    const qualified =
      sql`select 1 from ${sql.table('other.connections')}, ${sql.table('users')}`.compile(db)
    expect(qualified.sql).toBe('select 1 from "other"."connections", "users"')
  })
})
