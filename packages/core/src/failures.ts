/**
 * Internal failures. Code that calls the store, a user hook or a handler goes through `guard`,
 * which tags anything thrown with where it came from. The gateway maps a tagged failure to a
 * generic 503 (store) or 500 (anything else): an unexpected error never becomes an allow.
 */
import { isRejectionError } from './rejections.js'
import { isThenable } from './thenable.js'

/** Where a failure happened. */
export type FailureSource = 'store' | 'hook' | 'handler' | 'check' | 'transport'

/** An error thrown by the store, a hook, a handler or a check, tagged with its source. */
export class InternalFailure extends Error {
  readonly source: FailureSource
  constructor(source: FailureSource, cause: unknown) {
    super(`${source} failed`, { cause })
    this.name = 'InternalFailure'
    this.source = source
  }
}

/**
 * Runs `fn`, rethrowing anything it throws (or rejects with) as an `InternalFailure`, except a
 * `RejectionError`, which is a deliberate refusal and keeps its code.
 */
export function guard<T>(source: FailureSource, fn: () => T | PromiseLike<T>): Promise<T> {
  let value: T | PromiseLike<T>
  try {
    value = fn()
  } catch (error) {
    return Promise.reject(tagged(source, error))
  }
  if (!isThenable(value)) return Promise.resolve(value)
  return Promise.resolve(value).then(undefined, (error: unknown) => {
    throw tagged(source, error)
  })
}

/**
 * What `guard` throws for `error` caught from `source`: deliberate refusals (`RejectionError`)
 * and already tagged failures unchanged, anything else tagged as an `InternalFailure`.
 */
export function tagged(source: FailureSource, error: unknown): unknown {
  return error instanceof InternalFailure || isRejectionError(error)
    ? error
    : new InternalFailure(source, error)
}

/** The `name` of an error-like value, for events (messages may carry user data). */
export function errorName(error: unknown): string {
  const cause = error instanceof InternalFailure ? error.cause : error
  if (cause instanceof Error) return cause.name
  return typeof cause
}
