import { project } from '../../vitest.project.js'

// `*.test-d.ts` type tests run in vitest's typecheck mode (tsc with this package's tsconfig), next
// to the runtime tests; `pnpm typecheck` (tsc -p tsconfig.json) covers them as well.
export default project('adapter-express', {
  test: {
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
})
