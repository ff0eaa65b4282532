// The consumer check (`pnpm consumer-check`): what a user installs from npm works on the first
// try. It builds and packs every package under packages/ (found automatically), checks each
// tarball with attw (esm-only profile), checks that every README's install line names every
// package its examples import, then twice, once with the lowest and once with the highest version
// each peer range admits, installs the tarballs with npm into a scratch app outside the
// workspace, type-checks every documented example against the installed packages with a strict
// tsconfig, and runs one real flow (scripts/consumer/flow.mjs).
//
// Usage: node scripts/consumer-check.mjs [--no-build] [--end lowest|highest] [--keep]
//   --no-build  use the packages' dist as built (CI runs this right after `pnpm publint`)
//   --end       check one end only
//   --keep      keep the scratch directory and print its path
import { spawn, spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const build = !args.includes('--no-build')
const keep = args.includes('--keep')
const endArg = args.includes('--end') ? args[args.indexOf('--end') + 1] : undefined
const ENDS = endArg === undefined ? ['lowest', 'highest'] : [endArg]
if (!ENDS.every((end) => end === 'lowest' || end === 'highest')) {
  throw new Error(`--end must be lowest or highest (got ${endArg})`)
}

/**
 * Ranges of packages the documented examples import that no package declares as a peer. The
 * Node server for Hono follows hono's end: 2.x needs a newer hono than 4.0.0, 1.8.0 serves it.
 */
const EXAMPLE_RANGES = { valibot: '^1.0.0', '@hono/node-server': '>=1.8.0 <3.0.0' }
/** Tooling and companions installed at the version the workspace uses (root or snippets). */
const WORKSPACE_PINNED = [
  'ws',
  'typescript',
  '@types/node',
  '@types/express',
  '@types/better-sqlite3',
  '@types/pg',
  '@types/ws',
  '@types/react',
]
const MINUTE = 60_000
const started = Date.now()
/** The whole check's bound; on a quiet 2-core machine it takes a fraction of this. */
const DEADLINE_MS = 15 * MINUTE
/** Commands running side by side, stopped when the deadline passes. */
const children = new Set()
setTimeout(() => {
  console.error(`[consumer-check] not done within ${DEADLINE_MS / MINUTE} minutes`)
  for (const child of children) child.kill('SIGKILL')
  process.exit(1)
}, DEADLINE_MS).unref()

function log(message) {
  const seconds = ((Date.now() - started) / 1000).toFixed(0).padStart(4)
  console.log(`[consumer-check ${seconds}s] ${message}`)
}

/** Runs a command, streaming its output; throws when it fails or outlives `timeoutMs`. */
function run(command, commandArgs, { cwd = root, timeoutMs = 5 * MINUTE, env, quiet } = {}) {
  const result = spawnSync(command, commandArgs, {
    cwd,
    env: { ...process.env, ...env },
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  })
  const shown = `${command} ${commandArgs.join(' ')} (in ${relative(root, cwd) || '.'})`
  if (result.error) throw new Error(`${shown}: ${result.error.message}`)
  if (result.status !== 0) {
    if (quiet) process.stderr.write(`${result.stdout}${result.stderr}`)
    throw new Error(`${shown} exited with ${result.status ?? result.signal}`)
  }
  return result.stdout ?? ''
}

/**
 * Runs a command without blocking, capturing its output (printed with `label` when it fails);
 * rejects when it fails or outlives `timeoutMs`. The two ends run side by side through this.
 */
function runAsync(label, command, commandArgs, { cwd, timeoutMs, env = {} }) {
  return new Promise((resolvePromise, rejectPromise) => {
    const child = spawn(command, commandArgs, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.add(child)
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      rejectPromise(new Error(`${label}: ${command}: ${error.message}`))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      if (code === 0) return resolvePromise(output)
      const prefixed = output
        .trimEnd()
        .split('\n')
        .map((line) => `  [${label}] ${line}`)
        .join('\n')
      process.stderr.write(`${prefixed}\n`)
      const why =
        signal === 'SIGKILL' ? `was stopped after ${timeoutMs / 1000} s` : `exited ${code}`
      rejectPromise(new Error(`${label}: ${command} ${commandArgs.join(' ')} ${why}`))
    })
  })
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'))
}

// --- the packages -------------------------------------------------------------------------------

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => join(root, 'packages', dir))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: readJson(join(dir, 'package.json')) }))
  .filter(({ manifest }) => manifest.private !== true)
const ours = new Set(packages.map(({ manifest }) => manifest.name))
log(`packages: ${[...ours].join(', ')}`)

// --- README install lines name what the examples import -----------------------------------------

const EXAMPLE = /<!-- example: ([^\s]+) -->\s*\n```(?:ts|typescript)\n([\s\S]*?)```/g
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g
const INSTALL = /(?:pnpm add|npm install|npm i|yarn add|bun add)\s+([^\n#]+)/g

/** Entry points that need a package the importer does not name: core's optional peers. */
const IMPLIED = {
  '@apigw-ws/core/aws': ['@aws-sdk/client-apigatewaymanagementapi'],
  '@apigw-ws/core/testing': ['vitest'],
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; `null` for relative and `node:` ids. */
function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('node:')) return null
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

function readmes() {
  const found = [join(root, 'README.md')]
  for (const dir of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, dir))) {
      const readme = join(root, dir, name, 'README.md')
      if (existsSync(readme)) found.push(readme)
    }
  }
  return found
}

/** Every example file a README or doc shows (the `<!-- example: -->` markers), deduplicated. */
function exampleFiles() {
  const docs = readmes()
  for (const name of readdirSync(join(root, 'docs'))) {
    if (name.endsWith('.md')) docs.push(join(root, 'docs', name))
  }
  const files = new Set()
  for (const doc of docs) {
    for (const [, path] of readFileSync(doc, 'utf8').matchAll(EXAMPLE)) {
      files.add(resolve(root, 'examples', 'snippets', path))
    }
  }
  const snippets = join(root, 'examples', 'snippets', 'src')
  for (const name of readdirSync(snippets)) {
    if (name.endsWith('.ts')) files.add(join(snippets, name))
  }
  return [...files].sort()
}

function checkInstallLines() {
  const problems = []
  for (const readme of readmes()) {
    const text = readFileSync(readme, 'utf8')
    const imported = new Set()
    for (const [, , code] of text.matchAll(EXAMPLE)) {
      for (const [, specifier] of code.matchAll(IMPORT)) {
        const name = packageOf(specifier)
        if (name !== null) imported.add(name)
        for (const implied of IMPLIED[specifier] ?? []) imported.add(implied)
      }
    }
    if (imported.size === 0) continue
    const installed = new Set()
    for (const [, list] of text.matchAll(INSTALL)) {
      for (const word of list.trim().split(/\s+/)) {
        if (word.startsWith('-')) continue
        installed.add(word.startsWith('@') ? `@${word.slice(1).split('@')[0]}` : word.split('@')[0])
      }
    }
    const missing = [...imported].filter((name) => !installed.has(name))
    if (missing.length > 0) {
      problems.push(`${relative(root, readme)}: its install line lacks ${missing.join(', ')}`)
    }
  }
  if (problems.length > 0) throw new Error(`README install lines:\n  ${problems.join('\n  ')}`)
  log('every README install line names what its examples import')
}

// --- version ends -------------------------------------------------------------------------------

/** Orders `major.minor.patch` versions (releases only, so no pre-release tags to compare). */
function compareVersions(a, b) {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]
}

/** Released versions of `name` that satisfy `range`, oldest first (from the npm registry). */
function versionsIn(name, range) {
  const out = run('npm', ['view', `${name}@${range}`, 'version', '--json'], { quiet: true })
  const parsed = JSON.parse(out || '[]')
  const list = Array.isArray(parsed) ? parsed : [parsed]
  // npm lists them in publication order, not version order.
  return list.filter((version) => !/[-+]/.test(version)).sort(compareVersions)
}

/** For every peer (and example-only package): the lowest and highest version all ranges admit. */
function versionEnds() {
  const ranges = new Map()
  const add = (name, range) => ranges.set(name, [...(ranges.get(name) ?? []), range])
  for (const { manifest } of packages) {
    for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
      if (!ours.has(name)) add(name, range)
    }
  }
  for (const [name, range] of Object.entries(EXAMPLE_RANGES)) add(name, range)
  const ends = { lowest: {}, highest: {} }
  for (const [name, list] of [...ranges].sort(([a], [b]) => a.localeCompare(b))) {
    let admitted = null
    for (const range of list) {
      const versions = versionsIn(name, range)
      admitted =
        admitted === null ? versions : admitted.filter((version) => versions.includes(version))
    }
    if (admitted === null || admitted.length === 0) {
      throw new Error(`no released version of ${name} satisfies ${list.join(' and ')}`)
    }
    ends.lowest[name] = admitted[0]
    ends.highest[name] = admitted[admitted.length - 1]
    log(`${name} ${list.join(' & ')}: ${admitted[0]} … ${admitted[admitted.length - 1]}`)
  }
  return ends
}

// --- one end ------------------------------------------------------------------------------------

// Strict, as our own code is, but without `exactOptionalPropertyTypes`: aws-cdk-lib 2.150's own
// types fail it (`new iam.Role({ assumedBy: new iam.ServicePrincipal(…) })`), whatever we ship.
// The workspace still compiles every example with it, against the versions the workspace uses.
// Library declarations are not checked (skipLibCheck), as in most apps: several peers' do not
// compile under these options.
const STRICT_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023', 'DOM', 'DOM.Iterable'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  },
  include: ['examples'],
}

async function checkEnd(end, versions, tarballs, scratch) {
  const app = join(scratch, `app-${end}`)
  mkdirSync(join(app, 'examples'), { recursive: true })
  const snippets = readJson(join(root, 'examples', 'snippets', 'package.json'))
  const pinned = {
    ...snippets.dependencies,
    ...snippets.devDependencies,
    ...readJson(join(root, 'package.json')).devDependencies,
  }
  const dependencies = { ...versions }
  for (const name of WORKSPACE_PINNED) dependencies[name] = pinned[name]
  for (const tarball of tarballs) dependencies[tarball.name] = `file:${tarball.file}`
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: `consumer-${end}`, private: true, type: 'module', dependencies }, null, 2)}\n`,
  )
  writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify(STRICT_TSCONFIG, null, 2)}\n`)

  log(`${end}: npm install (${Object.keys(versions).length} peers at the ${end} end)`)
  // better-sqlite3 compiles from source where no prebuilt binary can be fetched. The flow needs a
  // working addon, not a fast one: -O0 (after gyp's -O3, so it wins) cuts the compile severalfold.
  await runAsync(end, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
    timeoutMs: 8 * MINUTE,
    env: {
      npm_config_update_notifier: 'false',
      npm_config_jobs: 'max',
      JOBS: 'max',
      CFLAGS: '-O0',
      CXXFLAGS: '-O0',
    },
  })
  for (const { name } of tarballs) {
    const installed = readJson(join(app, 'node_modules', name, 'package.json'))
    if (existsSync(join(app, 'node_modules', name, 'src'))) {
      throw new Error(`${end}: ${name} was installed with its src folder`)
    }
    if (installed.version === undefined) throw new Error(`${end}: ${name} has no version`)
  }
  for (const [name, version] of Object.entries(versions)) {
    const installed = readJson(join(app, 'node_modules', name, 'package.json')).version
    if (installed !== version) throw new Error(`${end}: ${name} is ${installed}, not ${version}`)
  }

  const examples = exampleFiles()
  for (const file of examples) {
    // Same layout as in the repository, so examples that import each other still do.
    const target = join(app, 'examples', relative(root, file))
    mkdirSync(dirname(target), { recursive: true })
    copyFileSync(file, target)
  }
  log(`${end}: installed; tsc over ${examples.length} documented examples (strict)`)
  await runAsync(end, join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], {
    cwd: app,
    timeoutMs: 4 * MINUTE,
  })

  log(`${end}: examples compile; the flow (local gateway → Hono → SQLite store, ws client)`)
  copyFileSync(join(root, 'scripts', 'consumer', 'flow.mjs'), join(app, 'flow.mjs'))
  const out = await runAsync(end, process.execPath, ['flow.mjs'], {
    cwd: app,
    timeoutMs: 2 * MINUTE,
  })
  log(`${end}: ${out.trim().split('\n').at(-1)}`)
}

// --- main ---------------------------------------------------------------------------------------

const scratch = mkdtempSync(join(tmpdir(), 'apigw-ws-consumer-'))
if (relative(root, scratch).split('/')[0] !== '..') {
  throw new Error(`the scratch directory ${scratch} must lie outside the workspace`)
}
try {
  checkInstallLines()
  if (build) {
    log('pnpm build')
    run('pnpm', ['build'], { timeoutMs: 8 * MINUTE })
  }
  const tarballs = []
  const packed = join(scratch, 'tarballs')
  mkdirSync(packed)
  for (const { dir, manifest } of packages) {
    if (!existsSync(join(dir, 'dist'))) {
      throw new Error(`${manifest.name} has no dist: run pnpm build (or drop --no-build)`)
    }
    run('pnpm', ['pack', '--pack-destination', packed], { cwd: dir, quiet: true })
    const file = readdirSync(packed)
      .map((name) => join(packed, name))
      .find((path) => !tarballs.some((t) => t.file === path))
    if (file === undefined) throw new Error(`pnpm pack wrote no tarball for ${manifest.name}`)
    tarballs.push({ name: manifest.name, file })
  }
  log(`packed ${tarballs.map((t) => basename(t.file)).join(', ')}`)

  const attw = join(root, 'node_modules', '.bin', 'attw')
  for (const { file } of tarballs) {
    run(attw, [file, '--profile', 'esm-only', '--format', 'table-flipped'], { quiet: true })
  }
  log('attw (esm-only): every tarball passes')

  const ends = versionEnds()
  // Both ends side by side: most of the time goes to npm and to compiling better-sqlite3.
  const results = await Promise.allSettled(
    ENDS.map((end) => checkEnd(end, ends[end], tarballs, scratch)),
  )
  const failed = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []))
  if (failed.length > 0) throw new AggregateError(failed, failed.map(String).join('\n'))
  log(`passed (${ENDS.join(' and ')}) in ${((Date.now() - started) / 1000).toFixed(0)} s`)
} finally {
  if (keep) log(`kept ${scratch}`)
  else rmSync(scratch, { recursive: true, force: true })
}
