/**
 * Keeps the OWASP ASVS table in `docs/security.md` honest: every row must name a test file and
 * a test title, and that file must exist and still contain a test with that title (for
 * `it.each` tests, the title template). A renamed or deleted test fails here, so the table can
 * never point at proof that is gone.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const HEADING = '## OWASP ASVS 5.0 mapping'
const TEST_CELL = /^`([^`]+\.test\.ts)` › `([^`]+)`$/

interface Row {
  readonly requirement: string
  readonly file: string
  readonly title: string
}

/** The table's rows: `| section | requirement | check | test |`, header and rule excluded. */
function rows(): Row[] {
  const text = readFileSync(join(root, 'docs', 'security.md'), 'utf8')
  const start = text.indexOf(HEADING)
  expect(start, `docs/security.md has no "${HEADING}" section`).toBeGreaterThanOrEqual(0)
  const rest = text.slice(start + HEADING.length)
  const end = rest.search(/\n## /)
  const section = end === -1 ? rest : rest.slice(0, end)
  const lines = section.split('\n').filter((line) => line.startsWith('|'))
  return lines.slice(2).map((line) => {
    const cells = line
      .slice(1, -1)
      .split(' | ')
      .map((cell) => cell.trim())
    expect(cells, `a row of the ASVS table does not have 4 cells: ${line}`).toHaveLength(4)
    const match = TEST_CELL.exec(cells[3] ?? '')
    expect(match, `the test cell must read \`file\` › \`title\`: ${line}`).not.toBeNull()
    return { requirement: cells[0] ?? '', file: match?.[1] ?? '', title: match?.[2] ?? '' }
  })
}

describe('the OWASP ASVS table in docs/security.md', () => {
  const table = rows()

  it('maps the WebSocket, token, anti-automation, input and error handling sections', () => {
    const sections = new Set(table.map((row) => row.requirement))
    for (const section of [
      'V4.4 WebSocket',
      'V2.4 Anti-automation',
      'V2.2 Input Validation',
      'V16.5 Error Handling',
    ]) {
      expect(sections).toContain(section)
    }
  })

  it.each(table.map((row) => [row.file, row.title] as const))(
    'names a test that exists: %s › %s',
    (file, title) => {
      const path = join(root, file)
      expect(existsSync(path), `${file} does not exist`).toBe(true)
      const source = readFileSync(path, 'utf8')
      const quoted = [`'${title}`, `"${title}`, `\`${title}`].some((q) => source.includes(q))
      const inTemplate = source.includes(`${title}'`) || source.includes(`${title}\``)
      expect(quoted || inTemplate, `no test titled "${title}" in ${file}`).toBe(true)
    },
  )
})
