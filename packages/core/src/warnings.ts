/**
 * Console warnings that must appear once per process, however many gateways are created and
 * however many copies of `@apigw-ws/core` are installed: the codes already warned about live in
 * a registry on `globalThis` under a `Symbol.for` key, which every copy shares.
 */

const REGISTRY_KEY = Symbol.for('@apigw-ws/core.warnings')

function registry(): Set<string> {
  const holder = globalThis as { [REGISTRY_KEY]?: Set<string> }
  let warned = holder[REGISTRY_KEY]
  if (warned === undefined) {
    warned = new Set()
    holder[REGISTRY_KEY] = warned
  }
  return warned
}

/** Prints `message` with `console.warn` unless `code` was warned about before in this process. */
export function warnOnce(code: string, message: string): void {
  const warned = registry()
  if (warned.has(code)) return
  warned.add(code)
  console.warn(message)
}

/** Forgets every warning given (tests only: the registry is process-wide by design). */
export function forgetWarnings(): void {
  registry().clear()
}
