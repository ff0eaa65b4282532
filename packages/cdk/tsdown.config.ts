import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/index.ts', 'src/settings.ts'],
  format: 'esm',
  dts: true,
  platform: 'node',
  sourcemap: true,
  clean: true,
  fixedExtension: false,
  // aws-cdk-lib and constructs are peers: the user's copies must be the ones the construct uses.
  external: [/^aws-cdk-lib/, /^constructs/],
})
