import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: 'esm',
  dts: true,
  platform: 'node',
  sourcemap: true,
  clean: true,
  // Emit .js/.d.ts, the names package.json's exports and bin point to (the package is ESM).
  fixedExtension: false,
})
