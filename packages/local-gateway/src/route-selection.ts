/**
 * Route selection, as API Gateway does it for WebSocket APIs: a `$request.body.<path>`
 * expression is evaluated on each text message parsed as JSON; the selected value picks a
 * custom route, and everything else (no match, non-JSON text, a non-string value, an unknown
 * route, the name of a system route) falls back to `$default`.
 */

/** The custom route key shape accepted when no explicit route list is configured. */
export const AUTO_ROUTE_KEY = /^[A-Za-z0-9_-]{1,128}$/

/**
 * Names of the system routes in any case, with or without `$`. The HTTP integration posts a
 * custom route to `baseUrl/<route>`, where `connect`, `disconnect` and `default` are the system
 * routes' paths, so a message selecting one of them could mark its own connection disconnected.
 */
const SYSTEM_ROUTE_NAME = /^\$?(?:connect|disconnect|default)$/i

/** Whether `key` names a system route (`connect`, `Disconnect`, `$DEFAULT`, …). */
export function isSystemRouteName(key: string): boolean {
  return SYSTEM_ROUTE_NAME.test(key)
}

const EXPRESSION_PREFIX = '$request.body.'
const SEGMENT = /^[A-Za-z0-9_$-]{1,128}$/

/** Picks the route key (`$default` or a custom key) for one text message. Pure. */
export type RouteSelector = (text: string) => string

/**
 * Parses `$request.body.<dotted.path>` into its path segments; throws `TypeError` for any other
 * expression (JSONPath brackets, wildcards and static keys are not supported).
 */
export function parseRouteSelectionExpression(expression: string): readonly string[] {
  if (!expression.startsWith(EXPRESSION_PREFIX)) {
    throw new TypeError(
      `routeSelectionExpression must look like "$request.body.action", got ${JSON.stringify(expression)}`,
    )
  }
  const segments = expression.slice(EXPRESSION_PREFIX.length).split('.')
  if (segments.length > 16 || !segments.every((s) => SEGMENT.test(s))) {
    throw new TypeError(
      `routeSelectionExpression needs a dotted path of 1 to 16 plain keys, got ${JSON.stringify(expression)}`,
    )
  }
  return Object.freeze(segments)
}

/**
 * Builds a selector for `expression`. With `routes`, only those keys are custom routes (like the
 * routes defined on a real API); without it, any selected string matching `AUTO_ROUTE_KEY` is
 * treated as a route of its own. Only own properties of plain JSON objects are followed, so
 * `__proto__` or `constructor` paths never reach prototypes.
 */
export function createRouteSelector(
  expression: string,
  routes: ReadonlySet<string> | undefined,
): RouteSelector {
  const path = parseRouteSelectionExpression(expression)
  const isRoute = routes
    ? (key: string) => routes.has(key)
    : (key: string) => AUTO_ROUTE_KEY.test(key)

  return function selectRoute(text) {
    const value = evaluate(path, text)
    return typeof value === 'string' && isRoute(value) && !isSystemRouteName(value)
      ? value
      : '$default'
  }
}

function evaluate(path: readonly string[], text: string): unknown {
  // Only an object can hold the path; skip the parse for anything else.
  if (!/^\s*\{/.test(text)) return undefined
  let node: unknown
  try {
    node = JSON.parse(text)
  } catch {
    return undefined
  }
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined
    if (!Object.hasOwn(node, key)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}
