import { defineConfig } from 'vitest/config'

// One vitest project per package; every project resolves workspace packages to their
// TypeScript sources through the `development` export condition, so tests never need a build.
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*'],
  },
})
