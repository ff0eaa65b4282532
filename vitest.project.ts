/**
 * The vitest project settings every package shares. Workspace packages resolve to their
 * TypeScript sources through the `@apigw-ws/source` export condition, a name of our own so that
 * nothing a user's toolchain sets (Vite's `development`, `node --conditions`, TypeScript's
 * `customConditions`) ever reaches the sources; published packages carry only `dist`.
 */
import { defineProject, type UserWorkspaceConfig } from 'vitest/config'

/** The export condition that points workspace packages at `src`. */
export const SOURCE_CONDITION = '@apigw-ws/source'

// Vitest's own server defaults without `module` (Node cannot load bundler-only builds), plus ours.
const resolve = {
  conditions: [SOURCE_CONDITION, 'node', 'development|production'],
}

/** A vitest project named `name`, resolving workspace packages to their sources. */
export function project(name: string, config: UserWorkspaceConfig = {}): UserWorkspaceConfig {
  return defineProject({
    ...config,
    resolve: { ...resolve, ...config.resolve },
    ssr: { resolve },
    test: { ...config.test, name },
  })
}
