import { project } from '../../vitest.project.js'

// `*.test-d.ts` type tests run in vitest's typecheck mode next to the runtime tests.
export default project('client', {
  test: {
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.test.json' },
  },
})
