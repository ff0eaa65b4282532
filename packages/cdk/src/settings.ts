/**
 * `@apigw-ws/cdk/settings`: the facts both sides of an API Gateway WebSocket API must agree on
 * (header names, the message key routes are selected by, the custom routes, the integration mode)
 * as one frozen value, and the `createGateway` options that follow from it. The CDK construct
 * wires API Gateway from the same value, so the app and the infrastructure cannot drift. This
 * module imports neither `aws-cdk-lib` nor `@apigw-ws/core`, so a backend can load it at run time
 * without the CDK installed.
 */

/** The header API Gateway's integration adds with the secret; core's default. */
export const DEFAULT_SECRET_HEADER = 'x-apigw-secret'
/** The header mapped from `context.identity.sourceIp`. */
export const DEFAULT_SOURCE_IP_HEADER = 'x-apigw-source-ip'
/** The header the construct maps `context.stage` into; `gatewayOptions` names it as core's `stageHeader`. */
export const STAGE_HEADER = 'x-apigw-stage'
/** The header core reads the connection id from (`context.connectionId`); fixed in core. */
export const CONNECTION_ID_HEADER = 'connectionid'
/** The message key API Gateway selects routes by, and core selects handlers by. */
export const DEFAULT_SELECTION_KEY = 'action'
/**
 * Environment variable the construct sets on a backend (`backendEnvironment()`) naming where the
 * integration secret lives, as JSON (see {@link SecretSource}).
 */
export const SECRET_SOURCE_ENV = 'APIGW_WS_SECRET_SOURCE'

/** Route names API Gateway reserves; custom routes may not use them, with or without `$`. */
export const SYSTEM_ROUTES: readonly string[] = Object.freeze(['connect', 'disconnect', 'default'])

/** What can be configured; every field has a default. */
export interface WebSocketSettingsInput {
  /** `http` (HTTP_PROXY to your app, the default) or `lambda` (AWS_PROXY to a function). */
  readonly integration?: 'http' | 'lambda' | undefined
  /** Lower-case header carrying the integration secret (HTTP mode). Default `x-apigw-secret`. */
  readonly secretHeader?: string | undefined
  /**
   * Lower-case header mapped from `context.identity.sourceIp`, or `false` for none (core then
   * parses `X-Forwarded-For`). Default `x-apigw-source-ip`.
   */
  readonly sourceIpHeader?: string | false | undefined
  /** Map `context.stage` into `x-apigw-stage`, so sending can reach each connection's stage. Default `true`. */
  readonly mapStage?: boolean | undefined
  /**
   * Lower-case header mapped from `context.routeKey`, when the app routes by header rather than
   * by path. Default none (routes by the mount's last path segment).
   */
  readonly routeKeyHeader?: string | undefined
  /**
   * Lower-case header mapped from `context.domainName` (core's `domainNameHeader`), so each
   * connection records the domain clients reached (a custom domain). Default none.
   */
  readonly domainNameHeader?: string | undefined
  /**
   * The message key that names the route and the handler: API Gateway's route selection
   * expression is `$request.body.<key>`, and core's `handlerKeys` is `[<key>]`. Default `action`.
   */
  readonly selectionKey?: string | undefined
  /** Custom route names (one per handler API Gateway should route by name). Default none. */
  readonly routes?: readonly string[] | undefined
  /**
   * Routes whose handler returns a value to the client (two-way): custom route names, or
   * `default` for `$default`. Each gets a route response. Default none.
   */
  readonly twoWayRoutes?: readonly string[] | undefined
}

/** Normalized, frozen settings; build them with {@link webSocketSettings}. */
export interface WebSocketSettings {
  readonly integration: 'http' | 'lambda'
  readonly secretHeader: string
  readonly sourceIpHeader: string | null
  readonly mapStage: boolean
  readonly routeKeyHeader: string | null
  readonly domainNameHeader: string | null
  readonly selectionKey: string
  readonly routes: readonly string[]
  readonly twoWayRoutes: readonly string[]
}

/** Where the integration secret lives, as the backend needs to know to read it. */
export type SecretSource =
  | {
      readonly kind: 'secretsmanager'
      /** Secret name or ARN. */
      readonly secretId: string
      /** JSON key inside the secret string, when the secret is a JSON object. */
      readonly jsonField?: string
    }
  | {
      readonly kind: 'ssm'
      /** SSM parameter name. */
      readonly parameterName: string
    }

/**
 * The `createGateway` options that follow from the settings (assignable to core's
 * `GatewayOptions`). Spread it into your options: `createGateway({ ...gatewayOptions(s, …), store, … })`.
 */
export interface SettingsGatewayOptions {
  readonly integration: 'http' | 'lambda'
  readonly secretHeader?: string
  readonly integrationSecret?: string | readonly string[]
  readonly sourceIpHeader?: string
  readonly routeKeyHeader?: string
  readonly stageHeader?: string
  readonly domainNameHeader?: string
  readonly handlerKeys: readonly string[]
  readonly apiIds?: readonly string[]
}

/** What only the running app knows: the secret it read, and the deployed API's id. */
export interface RuntimeValues {
  /** The integration secret (HTTP mode), read from the {@link SecretSource}; a list while rotating. */
  readonly integrationSecret?: string | readonly string[] | undefined
  /** The API id (`APIGW_WS_API_ID` from `backendEnvironment()`); pins core's `apiIds`. */
  readonly apiId?: string | undefined
}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,128}$/
/** Route names usable both as API Gateway route keys and as the mount's last path segment. */
const ROUTE_NAME = /^[A-Za-z0-9_-]{1,128}$/
const KEY_NAME = /^[A-Za-z0-9_]{1,64}$/

function header(value: unknown, name: string): string {
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    throw new TypeError(`${name} must be a lower-case HTTP header name`)
  }
  if (value === CONNECTION_ID_HEADER || value === STAGE_HEADER) {
    throw new TypeError(`${name} must not be "${value}": that header is mapped already`)
  }
  return value
}

function routeList(value: unknown, name: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of route names`)
  const seen = new Set<string>()
  for (const route of value) {
    if (typeof route !== 'string' || !ROUTE_NAME.test(route)) {
      throw new TypeError(`${name}: "${String(route)}" is not a route name (${ROUTE_NAME})`)
    }
    if (seen.has(route)) throw new TypeError(`${name}: "${route}" is listed twice`)
    seen.add(route)
  }
  return [...seen]
}

/**
 * Validates `input`, applies the defaults, and returns frozen settings. Throws `TypeError` naming
 * the field on bad input: a malformed header name, a header clashing with another mapping, a
 * custom route named like a system route (`connect`, `disconnect`, `default`, with or without
 * `$`), or a two-way route that is neither a custom route nor `default`.
 */
export function webSocketSettings(input: WebSocketSettingsInput = {}): WebSocketSettings {
  if (typeof input !== 'object' || input === null) {
    throw new TypeError('webSocketSettings(input): input must be an object')
  }
  const integration = input.integration ?? 'http'
  if (integration !== 'http' && integration !== 'lambda') {
    throw new TypeError("integration must be 'http' or 'lambda'")
  }
  const secretHeader = header(input.secretHeader ?? DEFAULT_SECRET_HEADER, 'secretHeader')
  const sourceIpHeader =
    input.sourceIpHeader === false
      ? null
      : header(input.sourceIpHeader ?? DEFAULT_SOURCE_IP_HEADER, 'sourceIpHeader')
  const routeKeyHeader =
    input.routeKeyHeader === undefined ? null : header(input.routeKeyHeader, 'routeKeyHeader')
  const domainNameHeader =
    input.domainNameHeader === undefined ? null : header(input.domainNameHeader, 'domainNameHeader')
  const headers = [secretHeader, sourceIpHeader, routeKeyHeader, domainNameHeader].filter(
    (h) => h !== null,
  )
  if (new Set(headers).size !== headers.length) {
    throw new TypeError(
      'secretHeader, sourceIpHeader, routeKeyHeader and domainNameHeader must differ',
    )
  }
  if (input.mapStage !== undefined && typeof input.mapStage !== 'boolean') {
    throw new TypeError('mapStage must be a boolean')
  }
  const selectionKey = input.selectionKey ?? DEFAULT_SELECTION_KEY
  if (typeof selectionKey !== 'string' || !KEY_NAME.test(selectionKey)) {
    throw new TypeError(`selectionKey must match ${KEY_NAME}`)
  }
  const routes = routeList(input.routes, 'routes')
  for (const route of routes) {
    if (SYSTEM_ROUTES.includes(route)) {
      throw new TypeError(
        `routes: "${route}" is reserved for API Gateway's $${route} route; pick another name`,
      )
    }
  }
  const twoWayRoutes = routeList(input.twoWayRoutes, 'twoWayRoutes')
  for (const route of twoWayRoutes) {
    if (route !== 'default' && !routes.includes(route)) {
      throw new TypeError(`twoWayRoutes: "${route}" is not in routes (or "default")`)
    }
  }
  return Object.freeze({
    integration,
    secretHeader,
    sourceIpHeader,
    mapStage: input.mapStage ?? true,
    routeKeyHeader,
    domainNameHeader,
    selectionKey,
    routes: Object.freeze(routes),
    twoWayRoutes: Object.freeze(twoWayRoutes),
  })
}

/** API Gateway's route selection expression for the settings: `$request.body.<selectionKey>`. */
export function routeSelectionExpression(settings: WebSocketSettings): string {
  return `$request.body.${settings.selectionKey}`
}

/**
 * The `createGateway` options matching `settings`: the integration mode, the header names the
 * construct maps, and `handlerKeys` equal to the route selection key, so API Gateway's route and
 * core's handler are chosen by the same field. In HTTP mode pass the secret your app read from
 * the {@link SecretSource} (a list during rotation); it is passed through unchanged. An empty
 * `apiId` is ignored (not pinned).
 */
export function gatewayOptions(
  settings: WebSocketSettings,
  runtime: RuntimeValues = {},
): SettingsGatewayOptions {
  const options: {
    -readonly [K in keyof SettingsGatewayOptions]: SettingsGatewayOptions[K]
  } = {
    integration: settings.integration,
    handlerKeys: [settings.selectionKey],
  }
  if (settings.integration === 'http') {
    options.secretHeader = settings.secretHeader
    if (settings.sourceIpHeader !== null) options.sourceIpHeader = settings.sourceIpHeader
    if (settings.routeKeyHeader !== null) options.routeKeyHeader = settings.routeKeyHeader
    if (settings.domainNameHeader !== null) options.domainNameHeader = settings.domainNameHeader
    // Core reads a stage header only when named: API Gateway forwards client headers on $connect.
    if (settings.mapStage) options.stageHeader = STAGE_HEADER
    if (runtime.integrationSecret !== undefined) {
      options.integrationSecret = runtime.integrationSecret
    }
  }
  if (runtime.apiId !== undefined && runtime.apiId !== '') options.apiIds = [runtime.apiId]
  return Object.freeze(options)
}

/**
 * Reads the {@link SecretSource} the construct put in `env[SECRET_SOURCE_ENV]`. Returns `null`
 * when the variable is absent; throws `TypeError` when it is present but malformed.
 */
export function secretSourceFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): SecretSource | null {
  const raw = env[SECRET_SOURCE_ENV]
  if (raw === undefined || raw === '') return null
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    throw new TypeError(`${SECRET_SOURCE_ENV} is not JSON`)
  }
  const v = value as Record<string, unknown> | null
  if (v?.kind === 'secretsmanager' && typeof v.secretId === 'string' && v.secretId !== '') {
    if (v.jsonField !== undefined && typeof v.jsonField !== 'string') {
      throw new TypeError(`${SECRET_SOURCE_ENV}.jsonField must be a string`)
    }
    return Object.freeze(
      v.jsonField === undefined
        ? { kind: 'secretsmanager', secretId: v.secretId }
        : { kind: 'secretsmanager', secretId: v.secretId, jsonField: v.jsonField },
    )
  }
  if (v?.kind === 'ssm' && typeof v.parameterName === 'string' && v.parameterName !== '') {
    return Object.freeze({ kind: 'ssm', parameterName: v.parameterName })
  }
  throw new TypeError(
    `${SECRET_SOURCE_ENV} must be {"kind":"secretsmanager","secretId":…} or {"kind":"ssm","parameterName":…}`,
  )
}
