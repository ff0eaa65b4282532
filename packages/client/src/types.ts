/**
 * Request and reply types inferred from the server's handler map, tRPC style: the app exports
 * `type AppHandlers = typeof handlers` and the browser imports it with `import type`, so no
 * server code is bundled and nothing is generated. A handler's input is its schema's output
 * minus the routing keys the client adds; its reply is its `handle` return value, awaited.
 */

/** The shape of a handler the client can infer from (what `defineHandler` returns). */
export interface HandlerShape {
  handle(context: never, input: never): unknown
}

/** Keys the client sets itself on every message. */
export type ReservedKey = 'action' | 'handler' | '$id'

/** A handler map: handler name → handler, as passed to `createGateway({ handlers })`. */
export type HandlerTypes = { readonly [name: string]: HandlerShape }

/** The input `client.request(name, input)` takes for handler `H`. */
export type RequestInput<H> = H extends { handle(context: never, input: infer I): unknown }
  ? [I] extends [never]
    ? Record<string, unknown>
    : unknown extends I
      ? Record<string, unknown>
      : Omit<I, ReservedKey>
  : Record<string, unknown>

/** What `client.request(name, …)` resolves for handler `H`: its awaited return value. */
export type ReplyOf<H> = H extends { handle(context: never, input: never): infer R }
  ? Awaited<R>
  : unknown

/** Names of the handlers in `T` (string keys only). */
export type HandlerName<T> = Extract<keyof T, string>

/** `[input]` when the input has required keys, `[input?]` when it has none. */
export type InputArgs<I> = Partial<I> extends I ? [input?: I] : [input: I]
