import { project } from '../../vitest.project.js'

// Every test talks to dynalite over loopback; on a busy shared machine one request can take tens
// of milliseconds, so the default 5 s per test is too tight for checks that make hundreds.
export default project('store-dynamodb', { test: { testTimeout: 30_000 } })
