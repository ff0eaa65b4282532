/**
 * Keeps documentation examples compiled: every ```ts block in the READMEs and docs must be
 * preceded by `<!-- example: <path> -->` naming a file of this package, and must equal that file.
 * The files are type-checked by `pnpm typecheck`, so an example that stops compiling fails CI;
 * `pnpm docs:sync` copies the files into the docs after an edit.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')

function markdownFiles(): string[] {
  const files = [join(root, 'README.md')]
  const docs = join(root, 'docs')
  try {
    for (const f of readdirSync(docs)) if (f.endsWith('.md')) files.push(join(docs, f))
  } catch {
    // no docs folder yet
  }
  for (const dir of ['packages', 'examples']) {
    for (const pkg of readdirSync(join(root, dir))) {
      try {
        readFileSync(join(root, dir, pkg, 'README.md'))
        files.push(join(root, dir, pkg, 'README.md'))
      } catch {
        // package without README
      }
    }
  }
  return files
}

const BLOCK = /(<!-- example: ([^\s]+) -->\s*\n)?```(ts|typescript)\n([\s\S]*?)```/g

describe('documentation examples', () => {
  for (const file of markdownFiles()) {
    const text = readFileSync(file, 'utf8')
    const blocks = [...text.matchAll(BLOCK)]
    if (blocks.length === 0) continue
    it(`${relative(root, file)}: every TypeScript block is a compiled snippet`, () => {
      for (const block of blocks) {
        const path = block[2]
        const code = block[4] ?? ''
        expect(
          path,
          `a \`\`\`ts block in ${relative(root, file)} has no <!-- example: … --> marker:\n${code.slice(0, 200)}`,
        ).toBeDefined()
        const source = readFileSync(join(here, path as string), 'utf8')
        expect(code.trim()).toBe(source.trim())
      }
    })
  }
})
