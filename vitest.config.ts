import { defineConfig } from 'vitest/config'

// One vitest project per package (each configured with `project()` from vitest.project.ts, which
// resolves workspace packages to their TypeScript sources), so tests never need a build.
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*', 'packages/*/vitest.*.config.ts'],
  },
})
