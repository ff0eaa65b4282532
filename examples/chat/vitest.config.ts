import { project } from '../../vitest.project.js'

// End-to-end tests start real servers, child processes and a browser on a shared 2-core machine:
// every wait inside a test is bounded on its own (10 s), and these limits only catch a hang.
export default project('example-chat', {
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
