import { project } from '../../vitest.project.js'

export default project('example-deploy', { test: { testTimeout: 60_000, hookTimeout: 120_000 } })
