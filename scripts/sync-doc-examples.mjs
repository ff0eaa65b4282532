// Rewrites every ```ts block that follows an `<!-- example: <path> -->` marker in the READMEs and
// docs with the current content of that file (paths are relative to examples/snippets, where
// `pnpm typecheck` compiles them). `examples/snippets/docs.test.ts` fails when they drift.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const snippets = join(root, 'examples', 'snippets')
const files = [join(root, 'README.md')]
for (const dir of ['docs']) {
  for (const f of readdirSync(join(root, dir)))
    if (f.endsWith('.md')) files.push(join(root, dir, f))
}
for (const dir of ['packages', 'examples']) {
  for (const pkg of readdirSync(join(root, dir))) {
    const readme = join(root, dir, pkg, 'README.md')
    if (existsSync(readme)) files.push(readme)
  }
}

const BLOCK = /(<!-- example: ([^\s]+) -->\s*\n)```(ts|typescript)\n[\s\S]*?```/g
for (const file of files) {
  const text = readFileSync(file, 'utf8')
  const next = text.replace(BLOCK, (_all, marker, path, lang) => {
    const source = readFileSync(join(snippets, path), 'utf8').trimEnd()
    return `${marker}\`\`\`${lang}\n${source}\n\`\`\``
  })
  if (next !== text) {
    writeFileSync(file, next)
    console.log(`updated ${file.slice(root.length + 1)}`)
  }
}
