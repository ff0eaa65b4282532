import { project } from '../../vitest.project.js'

export default project('cdk', { test: { testTimeout: 60_000, hookTimeout: 120_000 } })
