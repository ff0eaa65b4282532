/**
 * The HTTP load generator: Debian's `wrk`, a process of its own (C, so its cost never lands in
 * the server's process). `ensureWrk` is the benchmark setup: it installs the Debian package with
 * apt-get when wrk is missing and the bench runs as root, and otherwise says how to get it. Each
 * run cycles through prepared requests (a Lua script holds them, pre-formatted) and reports
 * throughput, latency percentiles and every non-2xx response or socket error.
 */
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadGeneratorCommand } from './cpus.js'

/** One prepared request. */
export interface WrkRequest {
  readonly method?: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
}

/** What a run measured. */
export interface WrkResult {
  /** Responses (any status) per second. */
  readonly perSecond: number
  readonly requests: number
  /** Non-2xx/3xx responses plus connect/read/write/timeout errors. */
  readonly failed: number
  readonly p50Ms: number
  readonly p99Ms: number
}

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (error) {
    // wrk --version exits 1 after printing its version.
    return (error as { status?: number }).status === 1
  }
}

/** Makes sure `wrk` is on the PATH, installing Debian's package when possible. */
export function ensureWrk(): void {
  if (hasWrk()) return
  if (process.getuid?.() === 0) {
    console.log('installing wrk (Debian package) for the HTTP benchmarks…')
    execFileSync('apt-get', ['install', '-y', '-qq', 'wrk'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
    if (hasWrk()) return
  }
  throw new Error('the HTTP benchmarks need wrk: apt-get install wrk')
}

function luaString(text: string): string {
  return `"${text.replace(/[\\"\n\r]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r' })[c] ?? c)}"`
}

/** The Lua script: prepared requests cycled per thread, and a JSON summary at the end. */
function script(requests: readonly WrkRequest[]): string {
  const formatted = requests.map((r) => {
    const headers = Object.entries(r.headers)
      .map(([k, v]) => `[${luaString(k)}] = ${luaString(v)}`)
      .join(', ')
    return `wrk.format(${luaString(r.method ?? 'POST')}, ${luaString(r.path)}, { ${headers} }, ${r.body === undefined ? 'nil' : luaString(r.body)})`
  })
  return `
local prepared = {}
local i = 0
init = function(args)
  local list = { ${formatted.join(',\n    ')} }
  prepared = list
end
request = function()
  i = i % #prepared + 1
  return prepared[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\nWRK_JSON {"requests":%d,"durationUs":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`
}

/**
 * Runs wrk with one thread and `connections` keep-alive connections against
 * `http://127.0.0.1:<port>` for `durationMs`, cycling through `requests`.
 */
export async function runWrk(options: {
  readonly port: number
  readonly requests: readonly WrkRequest[]
  readonly connections: number
  readonly durationMs: number
}): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'apigw-bench-wrk-'))
  const file = join(dir, 'requests.lua')
  writeFileSync(file, script(options.requests))
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      const [command = 'wrk', ...pinned] = loadGeneratorCommand('wrk')
      execFile(
        command,
        [
          ...pinned,
          '-t1',
          `-c${options.connections}`,
          `-d${Math.max(1, Math.round(options.durationMs / 1000))}s`,
          '--timeout',
          '10s',
          '-s',
          file,
          `http://127.0.0.1:${options.port}`,
        ],
        { maxBuffer: 1 << 20 },
        (error, out) => (error ? reject(error) : resolve(out)),
      )
    })
    const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '))
    if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`)
    const s = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>
    const n = (k: string) => s[k] ?? 0
    return {
      requests: n('requests'),
      perSecond: n('requests') / (n('durationUs') / 1e6),
      failed: n('status') + n('connect') + n('read') + n('write') + n('timeout'),
      p50Ms: n('p50') / 1000,
      p99Ms: n('p99') / 1000,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
