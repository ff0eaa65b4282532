/**
 * Statements compiled once and executed many times. Kysely builds and compiles a query on every
 * call; for the store's hot, fixed-shape statements (limit hit, token consume, connection insert,
 * touch) that work is repeated for nothing. `prepare` compiles a query once, with placeholder
 * values standing in for its parameters, and records which parameter position takes which named
 * value; `run` then only fills the parameter array and executes.
 */
import type { Compilable, CompiledQuery, QueryResult } from 'kysely'

/** Marks a placeholder value; a NUL byte cannot occur in any value the store binds. */
const SLOT_MARK = '\u0000apigw-slot:'

/** Anything that executes compiled queries: a `Kysely` instance or a transaction. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>
}

/** A compiled statement with named parameters `P`, producing rows `R`. */
export interface Prepared<P, R> {
  /** The compiled SQL (for tests and diagnostics). */
  readonly sql: string
  /**
   * Executes the statement through `runner` with `params`. Throws `TypeError` (a programming
   * error) when a parameter is `undefined`; database errors reject as the driver reports them.
   */
  run(runner: QueryRunner, params: P): Promise<QueryResult<R>>
}

type Step = { readonly slot: string } | { readonly value: unknown }

/**
 * Compiles `build(slots)` once. `slots` stands in for the parameters: each property read yields
 * a placeholder typed as `P[K]` that Kysely binds as an ordinary parameter. Values that are not
 * placeholders (constants such as `0` or `null`) are bound as compiled. Throws `TypeError` when a
 * placeholder was read but did not end up as a bound parameter (e.g. inlined by `sql.lit`), since
 * the statement could then never receive its value.
 */
export function prepare<P extends object, R>(build: (slots: P) => Compilable<R>): Prepared<P, R> {
  const read = new Set<string>()
  // The proxy lies about its type on purpose: placeholders are strings at compile time and are
  // replaced by the real, correctly typed values before anything reaches the database.
  const slots = new Proxy(Object.create(null) as object, {
    get(_target, name) {
      if (typeof name !== 'string') return undefined
      read.add(name)
      return SLOT_MARK + name
    },
  }) as P
  const compiled = build(slots).compile()
  const plan: Step[] = compiled.parameters.map((value) =>
    typeof value === 'string' && value.startsWith(SLOT_MARK)
      ? { slot: value.slice(SLOT_MARK.length) }
      : { value },
  )
  for (const name of read) {
    if (!plan.some((step) => 'slot' in step && step.slot === name)) {
      throw new TypeError(`prepare: parameter "${name}" is not bound in: ${compiled.sql}`)
    }
  }
  return Object.freeze({
    sql: compiled.sql,
    run(runner: QueryRunner, params: P): Promise<QueryResult<R>> {
      const values = params as Readonly<Record<string, unknown>>
      const parameters: unknown[] = new Array(plan.length)
      for (let i = 0; i < plan.length; i++) {
        const step = plan[i] as Step
        if ('slot' in step) {
          const value = values[step.slot]
          if (value === undefined) {
            return Promise.reject(new TypeError(`prepare: parameter "${step.slot}" is undefined`))
          }
          parameters[i] = value
        } else {
          parameters[i] = step.value
        }
      }
      return runner.executeQuery<R>({ ...compiled, parameters })
    },
  })
}
