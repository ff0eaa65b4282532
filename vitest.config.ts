import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

// One vitest project per package (each configured with `project()` from vitest.project.ts, which
// resolves workspace packages to their TypeScript sources), so tests never need a build.
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*', 'packages/*/vitest.*.config.ts'],
    // Vitest's default leaves one core idle (cores - 1 workers): on a 2-core machine that is a
    // single worker. Most test time is spent importing and waiting on sockets, databases and child
    // processes, so one worker per core keeps both busy.
    maxWorkers: availableParallelism(),
  },
})
