import {
  DummyDriver,
  Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely'
import { describe, expect, it } from 'vitest'
import { checkDialect, resolveDialect } from './dialect.js'

class CustomPostgresAdapter extends PostgresAdapter {}

const dummy = (createAdapter: () => SqliteAdapter | PostgresAdapter | MysqlAdapter) =>
  new Kysely<unknown>({
    dialect: {
      createAdapter,
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) =>
        createAdapter() instanceof MysqlAdapter
          ? new MysqlIntrospector(k)
          : createAdapter() instanceof SqliteAdapter
            ? new SqliteIntrospector(k)
            : new PostgresIntrospector(k),
      createQueryCompiler: () =>
        createAdapter() instanceof MysqlAdapter
          ? new MysqlQueryCompiler()
          : createAdapter() instanceof SqliteAdapter
            ? new SqliteQueryCompiler()
            : new PostgresQueryCompiler(),
    },
  })

describe('resolveDialect', () => {
  it('detects SQLite and PostgreSQL adapters, subclasses included', () => {
    expect(
      resolveDialect(
        dummy(() => new SqliteAdapter()),
        undefined,
      ),
    ).toBe('sqlite')
    expect(
      resolveDialect(
        dummy(() => new PostgresAdapter()),
        undefined,
      ),
    ).toBe('postgres')
    expect(
      resolveDialect(
        dummy(() => new CustomPostgresAdapter()),
        undefined,
      ),
    ).toBe('postgres')
  })

  it('names the dialect option when the adapter is unsupported', () => {
    expect(() =>
      resolveDialect(
        dummy(() => new MysqlAdapter()),
        undefined,
      ),
    ).toThrow(/MysqlAdapter.*"dialect"/s)
  })

  it('prefers an explicit dialect and validates it', () => {
    expect(
      resolveDialect(
        dummy(() => new MysqlAdapter()),
        'sqlite',
      ),
    ).toBe('sqlite')
    expect(() => checkDialect('Postgres')).toThrow(TypeError)
    expect(() => checkDialect(1)).toThrow(/"dialect"/)
  })
})
