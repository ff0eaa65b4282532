import { expect, it } from 'vitest'
import { measureClientSize } from './size.js'

it('stays within 6 KiB minified and gzipped, with no dependency bundled in', async () => {
  const size = await measureClientSize()
  expect(size.gzippedBytes).toBeGreaterThan(1_000)
  expect(size.gzippedBytes).toBeLessThanOrEqual(6 * 1024)
})
