/**
 * `pnpm bench [name…]`: runs every `bench/*.bench.ts` (or the named ones) one after another.
 * Each benchmark module default-exports an async function that measures and prints its variants.
 */
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const wanted = process.argv.slice(2)
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.ts$/, '')))
  .sort()

if (files.length === 0) {
  console.error(`no benchmark matches ${wanted.join(', ')}`)
  process.exit(1)
}
for (const file of files) {
  const mod = (await import(join(here, file))) as { default: () => Promise<void> }
  console.log(`\n# ${file}`)
  await mod.default()
}
