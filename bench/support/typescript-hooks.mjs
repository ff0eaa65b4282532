/**
 * Module hooks that run the benchmarks' TypeScript as the JavaScript users run: each `.ts` file
 * is transpiled on its own by the TypeScript compiler (types erased, syntax otherwise kept, as
 * tsdown's build output keeps it) and nothing else is added. tsx, used elsewhere in the repo, is
 * not used here because its esbuild transform keeps function names by wrapping every function
 * expression in a `__name(fn, "name")` call, an `Object.defineProperty` per closure created: in a
 * loop making closures that measured ~30 times slower under tsx than as plain JavaScript, which
 * made code that creates closures per request look slower than it is when installed.
 *
 * Registered by `register.mjs`; relative imports written with `.js` resolve to the `.ts` file
 * beside them, as under TypeScript's NodeNext resolution.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const TS_FILE = /\.m?ts$/

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context)
  } catch (error) {
    const fromTs = context.parentURL !== undefined && TS_FILE.test(context.parentURL)
    if (!fromTs || !/\.m?js$/.test(specifier) || error?.code !== 'ERR_MODULE_NOT_FOUND') {
      throw error
    }
    return nextResolve(specifier.replace(/js$/, 'ts'), context)
  }
}

/** @type {import('node:module').LoadHook} */
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !TS_FILE.test(url)) return nextLoad(url, context)
  const path = fileURLToPath(url)
  const source = await readFile(path, 'utf8')
  const { outputText } = ts.transpileModule(source, {
    fileName: path,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
      sourceMap: false,
      inlineSourceMap: true,
    },
  })
  return { format: 'module', source: outputText, shortCircuit: true }
}
