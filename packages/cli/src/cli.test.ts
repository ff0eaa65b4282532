import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url))

describe('the apigw-ws executable', () => {
  it('exits with the command’s code and prints usage errors on stderr', () => {
    const result = spawnSync(
      process.execPath,
      ['--conditions=@apigw-ws/source', '--import', 'tsx', cli, 'migrate'],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 },
    )
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('apigw-ws migrate: no database')
    expect(result.stdout).toBe('')
  }, 60_000) // a child process compiling TypeScript on a loaded machine
})
