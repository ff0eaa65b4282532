/**
 * `apigw-ws`: the command line (`migrate`, `cleanup`, `doctor`) and, for programs and tests, the
 * same commands as functions, and the doctor's rules.
 */
export { cleanupCommand } from './cleanup.js'
export { doctorCommand, twoWayRoutesFromTemplate } from './doctor.js'
export type {
  ApiSnapshot,
  Expectations,
  Finding,
  FindingCode,
  IntegrationInfo,
  RouteInfo,
  StageInfo,
} from './doctor-checks.js'
export { diagnose } from './doctor-checks.js'
export type { CliIo } from './io.js'
export { EXIT, UsageError } from './io.js'
export { runCli } from './main.js'
export { migrateCommand } from './migrate.js'
