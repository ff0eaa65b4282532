/**
 * `pnpm bench client-size`: the size of `@apigw-ws/client` as a browser bundle ships it
 * (bundled, minified, gzipped). Size, not speed: the budget (6 KiB gzipped) is held by
 * packages/client/test/size.test.ts.
 */
import { measureClientSize } from '../packages/client/test/size.js'

export default async function clientSize(): Promise<void> {
  const { minifiedBytes, gzippedBytes } = await measureClientSize()
  console.log(
    `@apigw-ws/client  minified ${minifiedBytes} B  min+gz ${gzippedBytes} B (${(gzippedBytes / 1024).toFixed(2)} KiB)`,
  )
}
