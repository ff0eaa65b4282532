/**
 * The client's size as a browser app ships it: `src/index.ts` bundled, minified and gzipped
 * (esbuild for the bundle, zlib level 9 for gzip). Shared by the size test and `pnpm bench
 * client-size`.
 */
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

/** Bytes of the minified bundle and of its gzip. */
export interface ClientSize {
  readonly minifiedBytes: number
  readonly gzippedBytes: number
}

/** Bundles and measures the client. */
export async function measureClientSize(): Promise<ClientSize> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]?.contents ?? new Uint8Array()
  return { minifiedBytes: code.byteLength, gzippedBytes: gzipSync(code, { level: 9 }).byteLength }
}
