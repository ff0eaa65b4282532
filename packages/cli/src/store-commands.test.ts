import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { kyselyStore } from '@apigw-ws/store-kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASE_URL, skipWithout } from '../../../test/services.js'
import { run } from '../test/run.js'
import { openDatabase } from './database.js'

const HOUR = 3_600_000

interface Target {
  readonly name: string
  readonly skip: boolean
  /** A database URL and the table prefix to use there. */
  readonly url: () => string
}

const dir = mkdtempSync(join(tmpdir(), 'apigw-cli-'))
const TARGETS: readonly Target[] = [
  { name: 'SQLite', skip: false, url: () => `sqlite:${join(dir, 'store.sqlite')}` },
  {
    name: 'PostgreSQL',
    skip: skipWithout('postgres', 'apigw-ws migrate/cleanup on PostgreSQL'),
    url: () => DATABASE_URL ?? '',
  },
]

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Old rows for the sweep to delete: one expired token, one stale connection, one fresh each. */
async function seed(url: string, tablePrefix: string, now: number): Promise<void> {
  const database = await openDatabase(url)
  try {
    const store = kyselyStore({ db: database.db, tablePrefix })
    const token = (hash: string, expiresAt: number) =>
      store.tokens.put({ hash, userId: 'u1', sessionHash: null, channel: null, expiresAt })
    await token('a'.repeat(64), now - 1000)
    await token('b'.repeat(64), now + HOUR)
    const connection = (connectionId: string, connectedAt: number) =>
      store.connections.create(
        { connectionId, userId: 'u1', channels: [], apiId: null, stage: null, domainName: null },
        connectedAt,
      )
    await connection('stale=', now - 3 * HOUR)
    await connection('fresh=', now)
  } finally {
    await database.close()
  }
}

async function dropTables(url: string, prefix: string): Promise<void> {
  const database = await openDatabase(url)
  try {
    for (const table of [
      'subscriptions',
      'rate_limits',
      'tokens',
      'connections',
      'migrations',
      'migrations_lock',
    ]) {
      await database.db.schema.dropTable(`${prefix}${table}`).ifExists().execute()
    }
  } finally {
    await database.close()
  }
}

for (const target of TARGETS) {
  describe.skipIf(target.skip)(`migrate and cleanup on ${target.name}`, () => {
    const prefix = `cli_${randomBytes(4).toString('hex')}_`
    let url: string

    beforeAll(() => {
      url = target.url()
    })
    afterAll(async () => {
      await dropTables(url, prefix)
    })

    it('migrates once, then reports the database up to date', async () => {
      const first = await run(['migrate', '--table-prefix', prefix, '--json'], {
        env: { DATABASE_URL: url },
      })
      expect(first.stderr).toBe('')
      expect(first.code).toBe(0)
      const report = JSON.parse(first.stdout) as { applied: string[]; tablePrefix: string }
      expect(report.tablePrefix).toBe(prefix)
      expect(report.applied.length).toBeGreaterThan(0)
      const second = await run(['migrate', '--table-prefix', prefix, '--database-url', url])
      expect(second.code).toBe(0)
      expect(second.stdout).toMatch(/: up to date\n$/)
      expect(second.stdout).not.toMatch(/:[^/@]*:[^@]+@/) // no password in the output
    })

    it('sweeps expired tokens and stale connections once, then finds nothing', async () => {
      await seed(url, prefix, Date.now())
      const env = { DATABASE_URL: url }
      const first = await run(['cleanup', '--table-prefix', prefix, '--json'], { env })
      expect(first.code).toBe(0)
      expect(JSON.parse(first.stdout)).toMatchObject({
        run: 1,
        deleted: { tokens: 1, rateLimits: 0, connections: 1 },
      })
      const again = await run(['cleanup', '--table-prefix', prefix], { env })
      expect(again.stdout).toBe('deleted 0 tokens, 0 rate-limit windows, 0 connections\n')
    })

    it('honours --stale-after and --batch-size', async () => {
      const env = { DATABASE_URL: url }
      // The fresh connection from the previous test is younger than 1 h: kept; at 0 ms: swept.
      const kept = await run(
        ['cleanup', '--table-prefix', prefix, '--stale-after', '1h', '--json'],
        { env },
      )
      expect(JSON.parse(kept.stdout).deleted.connections).toBe(0)
      const swept = await run(
        [
          'cleanup',
          '--table-prefix',
          prefix,
          '--stale-after',
          '0ms',
          '--batch-size',
          '1',
          '--json',
        ],
        { env },
      )
      expect(JSON.parse(swept.stdout).deleted.connections).toBe(1)
    })

    it('sweeps on an interval until --max-runs, sleeping between runs', async () => {
      const sleeps: number[] = []
      const result = await run(
        ['cleanup', '--table-prefix', prefix, '--interval', '5m', '--max-runs', '3'],
        {
          env: { DATABASE_URL: url },
          sleep: async (ms) => {
            sleeps.push(ms)
          },
        },
      )
      expect(result.code).toBe(0)
      expect(result.stdout.trim().split('\n')).toHaveLength(3)
      expect(sleeps).toEqual([300_000, 300_000])
    })

    it('stops an interval sweep when signalled', async () => {
      const controller = new AbortController()
      let sleeps = 0
      const result = await run(['cleanup', '--table-prefix', prefix, '--interval', '1s'], {
        env: { DATABASE_URL: url },
        signal: controller.signal,
        sleep: async () => {
          sleeps++
          if (sleeps === 2) controller.abort()
        },
      })
      expect(result.code).toBe(0)
      expect(result.stdout.trim().split('\n')).toHaveLength(2)
    })

    it('keeps sweeping on an interval after a failed sweep, and exits 1', async () => {
      const result = await run(
        ['cleanup', '--table-prefix', 'never_migrated_', '--interval', '1s', '--max-runs', '2'],
        { env: { DATABASE_URL: url }, sleep: async () => {} },
      )
      expect(result.code).toBe(1)
      expect(result.stderr.match(/sweep \d failed/g)).toEqual(['sweep 1 failed', 'sweep 2 failed'])
    })

    it('fails with exit 1 and the reason on tables that were never migrated', async () => {
      const result = await run(['cleanup', '--table-prefix', 'never_migrated_'], {
        env: { DATABASE_URL: url },
      })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^apigw-ws cleanup failed: .*never_migrated_/)
    })
  })
}

describe('migrate and cleanup usage', () => {
  it('explains a missing or unsupported database URL (exit 2)', async () => {
    const missing = await run(['migrate'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('pass --database-url or set DATABASE_URL')
    const mysql = await run(['cleanup', '--database-url', 'mysql://root:hunter2@db/x'])
    expect(mysql.code).toBe(2)
    expect(mysql.stderr).toContain('mysql://root:***@db/x')
    expect(mysql.stderr).not.toContain('hunter2')
    const json = await run(['migrate', '--json'])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toEqual({
      error: { kind: 'usage', message: expect.stringContaining('set DATABASE_URL') },
    })
  })

  it('refuses bad numbers and durations, and prints help', async () => {
    const env = { DATABASE_URL: 'sqlite::memory:' }
    expect((await run(['cleanup', '--batch-size', 'x'], { env })).code).toBe(2)
    expect((await run(['cleanup', '--interval', '10'], { env })).stderr).toContain('at least 1s')
    expect((await run(['cleanup', '--max-runs', '2'], { env })).stderr).toContain(
      'needs --interval',
    )
    for (const command of ['migrate', 'cleanup', 'doctor']) {
      const help = await run([command, '--help'])
      expect(help.code).toBe(0)
      expect(help.stdout).toContain(`Usage: apigw-ws ${command}`)
      expect(help.stdout).toContain('--json')
    }
    expect((await run([])).code).toBe(2)
    expect((await run(['nope'])).stderr).toContain('unknown command "nope"')
  })
})
