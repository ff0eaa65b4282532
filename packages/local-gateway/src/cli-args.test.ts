import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CLI_DEFAULT_PORT, HELP_TEXT, parseCliArgs } from './cli-args.js'
import { formatBanner, formatLogEntry } from './cli-output.js'
import { connect, startRecordingBackend } from './test-helpers.js'

describe('parseCliArgs', () => {
  it('asks for help with --help or -h, whatever else is given', () => {
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' })
    expect(parseCliArgs(['-h', '--target', 'http://x'])).toEqual({ kind: 'help' })
  })

  it('needs --target', () => {
    expect(parseCliArgs([])).toEqual({ kind: 'error', message: 'missing --target <url>' })
  })

  it('maps every flag to an option', () => {
    const command = parseCliArgs([
      '--target',
      'http://127.0.0.1:3000/ws',
      '--port',
      '0',
      '--host',
      '::1',
      '--stage',
      'dev',
      '--api-id',
      'abc',
      '--secret',
      's',
      '--secret-header',
      'X-Verify',
      '--route',
      'chat',
      '--route',
      'join',
      '--route-selection',
      '$request.body.type',
      '--idle-timeout-ms',
      '1000',
      '--max-duration-ms',
      '2000',
      '--max-message-bytes',
      '4096',
      '--integration-timeout-ms',
      '500',
      '--quiet',
    ])
    expect(command).toEqual({
      kind: 'run',
      isQuiet: true,
      secretSource: 'flag',
      options: {
        integration: { type: 'http', baseUrl: 'http://127.0.0.1:3000/ws' },
        port: 0,
        host: '::1',
        stage: 'dev',
        apiId: 'abc',
        secret: { header: 'X-Verify', value: 's' },
        routes: ['chat', 'join'],
        routeSelectionExpression: '$request.body.type',
        idleTimeoutMs: 1000,
        maxDurationMs: 2000,
        maxMessageBytes: 4096,
        integrationTimeoutMs: 500,
      },
    })
  })

  it('defaults the port and takes the secret from APIGW_SECRET when no --secret is given', () => {
    const command = parseCliArgs(['--target', 'http://x/ws'], { APIGW_SECRET: 'from-env' })
    expect(command).toEqual({
      kind: 'run',
      isQuiet: false,
      secretSource: 'env',
      options: {
        integration: { type: 'http', baseUrl: 'http://x/ws' },
        port: CLI_DEFAULT_PORT,
        secret: { value: 'from-env' },
      },
    })
    const flag = parseCliArgs(['--target', 'http://x/ws', '--secret', 'f'], { APIGW_SECRET: 'e' })
    expect(flag.kind === 'run' && flag.options.secret).toEqual({ value: 'f' })
    const none = parseCliArgs(['--target', 'http://x/ws'], { APIGW_SECRET: '' })
    expect(none.kind === 'run' && none.options.secret).toBeUndefined()
  })

  it.each([
    [['--target', 'http://x', '--port', 'abc'], /--port needs a whole number/],
    [
      ['--target', 'http://x', '--idle-timeout-ms', '1e3'],
      /--idle-timeout-ms needs a whole number/,
    ],
    [['--target', 'http://x', '--bogus'], /bogus/],
    [['--target'], /target/],
    [['--target', 'http://x', 'extra'], /extra/],
    [['--target', 'http://x', '--secret-header', 'X-A'], /--secret-header needs --secret/],
  ])('reports %j as an error', (argv, message) => {
    const command = parseCliArgs(argv)
    expect(command.kind).toBe('error')
    expect(command.kind === 'error' && command.message).toMatch(message)
  })
})

describe('CLI output', () => {
  it('never prints the secret value', () => {
    const banner = formatBanner({
      url: 'ws://127.0.0.1:3001/local',
      managementEndpoint: 'http://127.0.0.1:3001/local',
      target: 'http://127.0.0.1:3000/ws',
      routes: ['chat'],
      secretSource: 'env',
      secretHeader: 'x-apigw-secret',
    })
    expect(banner).toContain('ws://127.0.0.1:3001/local')
    expect(banner).toContain('http://127.0.0.1:3001/local')
    expect(banner).toContain('x-apigw-secret (from APIGW_SECRET)')
  })

  it('formats each log entry kind on one line', () => {
    expect(
      formatLogEntry({ kind: 'integration', route: 'chat', connectionId: 'A=', status: 200 }),
    ).toBe('chat         A= → 200')
    expect(
      formatLogEntry({
        kind: 'integration',
        route: '$connect',
        connectionId: 'A=',
        status: null,
        error: 'ECONNREFUSED',
      }),
    ).toBe('$connect     A= → failed: ECONNREFUSED')
    expect(
      formatLogEntry({ kind: 'close', connectionId: 'A=', code: 1001, reason: 'Going away' }),
    ).toBe('close        A= 1001 Going away')
    expect(
      formatLogEntry({ kind: 'management', method: 'POST', connectionId: 'A=', status: 410 }),
    ).toBe('@POST        A= → 410')
  })
})

// Each case starts Node with tsx: allow for a cold, loaded machine.
describe('apigw-ws-local executable', { timeout: 30_000 }, () => {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url))
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, APIGW_SECRET: '' },
    })

  it('prints the help text and exits 0', () => {
    const result = run(['--help'])
    expect(result.status).toBe(0)
    expect(result.stdout).toBe(HELP_TEXT)
    expect(HELP_TEXT).toContain('--target <url>')
  })

  it('exits 2 with a hint on bad arguments', () => {
    const result = run(['--port', 'x'])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('apigw-ws-local --help')
  })

  it('serves clients until SIGTERM, then closes them with $disconnect and exits 0', async () => {
    const backend = await startRecordingBackend()
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        cli,
        '--target',
        backend.baseUrl,
        '--port',
        '0',
        '--secret',
        'cli-secret',
      ],
      { env: { ...process.env, APIGW_SECRET: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      let stdout = ''
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString()
          const match = /WebSocket URL\s+(ws:\/\/\S+)/.exec(stdout)
          if (match?.[1]) resolve(match[1])
        })
        child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stdout}`)))
      })
      const client = await connect(url)
      const connected = await backend.waitFor((r) => r.route === 'connect')
      expect(connected.headers['x-apigw-secret']).toBe('cli-secret')
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      expect((await client.closed).code).toBe(1001)
      await backend.waitFor((r) => r.route === 'disconnect')
      expect(await exited).toBe(0)
      expect(stdout).toContain('$connect')
      expect(stdout).not.toContain('cli-secret')
    } finally {
      child.kill('SIGKILL')
      await backend.close()
    }
  })
})
