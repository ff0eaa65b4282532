/**
 * The doctor's rules: a pure function from a deployed API's configuration (as `GetApi`,
 * `GetRoutes`, `GetIntegrations`, `GetRouteResponses` and `GetStage` return it) and what the app
 * expects, to findings, each with a stable code, the route it concerns and the fix. Findings
 * never quote a mapped secret's value.
 */

/** The parts of a route the doctor reads. */
export interface RouteInfo {
  readonly routeId: string
  readonly routeKey: string
  readonly target?: string | undefined
  readonly routeResponseSelectionExpression?: string | undefined
}

/** The parts of an integration the doctor reads. */
export interface IntegrationInfo {
  readonly integrationId: string
  readonly integrationType?: string | undefined
  readonly integrationUri?: string | undefined
  readonly requestParameters?: Readonly<Record<string, string>> | undefined
}

/** The parts of a stage the doctor reads. */
export interface StageInfo {
  readonly stageName: string
  readonly defaultRouteSettings?:
    | {
        readonly throttlingRateLimit?: number | undefined
        readonly throttlingBurstLimit?: number | undefined
      }
    | undefined
  readonly accessLogSettings?:
    | { readonly destinationArn?: string | undefined; readonly format?: string | undefined }
    | undefined
}

/** A deployed API as the doctor sees it. */
export interface ApiSnapshot {
  readonly apiId: string
  readonly name?: string | undefined
  readonly protocolType?: string | undefined
  readonly routeSelectionExpression?: string | undefined
  readonly routes: readonly RouteInfo[]
  readonly integrations: readonly IntegrationInfo[]
  /** Route response keys by route id. */
  readonly routeResponses: Readonly<Record<string, readonly string[]>>
  /** `null` when no stage was named. */
  readonly stage: StageInfo | null
}

/** What the app expects (core's options, the mount, the two-way routes). */
export interface Expectations {
  /** The adapters' mount URL (`https://app.example.com/ws`), to check HTTP integration URIs. */
  readonly mount?: string | undefined
  /** Core's `secretHeader`. Default `x-apigw-secret`. */
  readonly secretHeader: string
  /** Core's `sourceIpHeader`, when the app sets one. */
  readonly sourceIpHeader?: string | undefined
  /** Core's `stageHeader`, when the app sets one. */
  readonly stageHeader?: string | undefined
  /** Core's `domainNameHeader`, when the app sets one. */
  readonly domainNameHeader?: string | undefined
  /** Core's `routeKeyHeader`, when the app sets one. */
  readonly routeKeyHeader?: string | undefined
  /** Core's `handlerKeys`. Default `['handler', 'action']`. */
  readonly handlerKeys: readonly string[]
  /** Route keys whose handler returns a value (need a route response). */
  readonly twoWayRoutes: readonly string[]
}

/** Stable finding codes. */
export type FindingCode =
  | 'NOT_WEBSOCKET'
  | 'ROUTE_MISSING'
  | 'ROUTE_WITHOUT_INTEGRATION'
  | 'CONNECTION_ID_MAPPING_MISSING'
  | 'CONNECTION_ID_MAPPING_WRONG'
  | 'SECRET_MAPPING_MISSING'
  | 'SECRET_MAPPING_WRONG'
  | `${MappingCode}_MAPPING_MISSING`
  | `${MappingCode}_MAPPING_WRONG`
  | 'INTEGRATION_URI_MISMATCH'
  | 'ROUTE_SELECTION_MISMATCH'
  | 'ROUTE_RESPONSE_MISSING'
  | 'ACCESS_LOG_QUERY_STRING'
  | 'THROTTLING_MISSING'
  | 'LAMBDA_NOT_PROXY'

/** The optional header mappings core reads when an option names the header. */
type MappingCode = 'STAGE' | 'SOURCE_IP' | 'DOMAIN_NAME' | 'ROUTE_KEY'

const OPTIONAL_MAPPINGS: readonly {
  readonly option: 'stageHeader' | 'sourceIpHeader' | 'domainNameHeader' | 'routeKeyHeader'
  readonly from: string
  readonly code: MappingCode
}[] = [
  { option: 'stageHeader', from: 'context.stage', code: 'STAGE' },
  { option: 'sourceIpHeader', from: 'context.identity.sourceIp', code: 'SOURCE_IP' },
  { option: 'domainNameHeader', from: 'context.domainName', code: 'DOMAIN_NAME' },
  { option: 'routeKeyHeader', from: 'context.routeKey', code: 'ROUTE_KEY' },
]

/** One misconfiguration and its fix. */
export interface Finding {
  readonly code: FindingCode
  /** The route key concerned, or `null` for the API or stage. */
  readonly route: string | null
  readonly message: string
  readonly fix: string
}

const HEADER_PARAM = 'integration.request.header.'
const QUERY_VARIABLE = /querystring|\$request\.|\$input\./i
const SYSTEM_SEGMENTS: Readonly<Record<string, string>> = {
  $connect: 'connect',
  $disconnect: 'disconnect',
  $default: 'default',
}

/** The integration a route targets (`integrations/<id>`), if it exists. */
function integrationOf(
  route: RouteInfo,
  byId: ReadonlyMap<string, IntegrationInfo>,
): IntegrationInfo | undefined {
  const match = /^integrations\/(.+)$/.exec(route.target ?? '')
  return match === null ? undefined : byId.get(match[1]!)
}

function isLambdaUri(uri: string | undefined): boolean {
  return uri !== undefined && /:lambda:path\/\d{4}-\d{2}-\d{2}\/functions\//.test(uri)
}

/** Every misconfiguration in `api` against `expected`, in a stable order. */
export function diagnose(api: ApiSnapshot, expected: Expectations): Finding[] {
  const findings: Finding[] = []
  const add = (code: FindingCode, route: string | null, message: string, fix: string) => {
    findings.push({ code, route, message, fix })
  }
  if (api.protocolType !== undefined && api.protocolType !== 'WEBSOCKET') {
    add(
      'NOT_WEBSOCKET',
      null,
      `API ${api.apiId} is a ${api.protocolType} API`,
      'apigw-ws serves WebSocket APIs: check --api-id',
    )
    return findings
  }

  const selection = api.routeSelectionExpression ?? ''
  const key = /^\$request\.body\.([A-Za-z0-9_]+)$/.exec(selection)?.[1]
  if (key === undefined || !expected.handlerKeys.includes(key)) {
    add(
      'ROUTE_SELECTION_MISMATCH',
      null,
      `route selection expression "${selection}" does not select by a handler key (${expected.handlerKeys.join(', ')})`,
      `set the API's route selection expression to $request.body.${expected.handlerKeys[0]} (or set core's handlerKeys to the key API Gateway routes by)`,
    )
  }

  const keys = new Set(api.routes.map((r) => r.routeKey))
  for (const system of ['$connect', '$disconnect', '$default']) {
    if (!keys.has(system)) {
      add(
        'ROUTE_MISSING',
        system,
        `no ${system} route`,
        system === '$connect'
          ? 'add a $connect route: without it no connect check (origin, token, rate limit) runs'
          : `add a ${system} route integrated like the others (at <mount>/${SYSTEM_SEGMENTS[system]})`,
      )
    }
  }

  const byId = new Map(api.integrations.map((i) => [i.integrationId, i]))
  for (const route of api.routes) {
    const integration = integrationOf(route, byId)
    if (integration === undefined) {
      add(
        'ROUTE_WITHOUT_INTEGRATION',
        route.routeKey,
        `route ${route.routeKey} has no integration (target "${route.target ?? ''}")`,
        'set the route target to integrations/<integrationId>',
      )
      continue
    }
    checkIntegration(route, integration, expected, add)

    const twoWay = expected.twoWayRoutes.includes(route.routeKey)
    const responses = api.routeResponses[route.routeId] ?? []
    if (
      (twoWay || route.routeResponseSelectionExpression !== undefined) &&
      responses.length === 0
    ) {
      add(
        'ROUTE_RESPONSE_MISSING',
        route.routeKey,
        `two-way route ${route.routeKey} has no route response: replies never reach the client`,
        `add a route response with key $default to ${route.routeKey} and set its route response selection expression to $default`,
      )
    } else if (twoWay && route.routeResponseSelectionExpression === undefined) {
      add(
        'ROUTE_RESPONSE_MISSING',
        route.routeKey,
        `two-way route ${route.routeKey} has no route response selection expression`,
        `set the route response selection expression of ${route.routeKey} to $default`,
      )
    }
  }

  if (api.stage !== null) checkStage(api.stage, add)
  return findings
}

function checkIntegration(
  route: RouteInfo,
  integration: IntegrationInfo,
  expected: Expectations,
  add: (code: FindingCode, route: string | null, message: string, fix: string) => void,
): void {
  const r = route.routeKey
  const type = integration.integrationType ?? ''
  if (isLambdaUri(integration.integrationUri)) {
    if (type !== 'AWS_PROXY') {
      add(
        'LAMBDA_NOT_PROXY',
        r,
        `route ${r} invokes Lambda with integration type ${type || '(none)'}: the function gets a mapped event, not the requestContext core reads`,
        'set the integration type to AWS_PROXY (Lambda proxy integration)',
      )
    }
    return
  }
  if (type !== 'HTTP_PROXY' && type !== 'HTTP') return
  const params = integration.requestParameters ?? {}
  const connectionId = params[`${HEADER_PARAM}connectionid`]
  if (connectionId === undefined) {
    add(
      'CONNECTION_ID_MAPPING_MISSING',
      r,
      `integration of ${r} does not map connectionid: core cannot identify the connection`,
      `add request parameter ${HEADER_PARAM}connectionid = context.connectionId`,
    )
  } else if (connectionId !== 'context.connectionId') {
    add(
      'CONNECTION_ID_MAPPING_WRONG',
      r,
      `integration of ${r} maps connectionid from ${connectionId}`,
      `set ${HEADER_PARAM}connectionid to context.connectionId`,
    )
  }
  const secret = params[`${HEADER_PARAM}${expected.secretHeader}`]
  if (secret === undefined) {
    add(
      'SECRET_MAPPING_MISSING',
      r,
      `integration of ${r} does not send the ${expected.secretHeader} header: core refuses every request`,
      `add request parameter ${HEADER_PARAM}${expected.secretHeader} = '<your secret>' (single-quoted static value; the CDK construct maps it from Secrets Manager)`,
    )
  } else if (!/^'[^']{16,}'$/.test(secret)) {
    add(
      'SECRET_MAPPING_WRONG',
      r,
      `integration of ${r} maps ${expected.secretHeader} to something other than a single-quoted static secret of at least 16 characters`,
      `set ${HEADER_PARAM}${expected.secretHeader} to '<your secret>' (the value core's integrationSecret lists)`,
    )
  }
  for (const mapping of OPTIONAL_MAPPINGS) {
    const header = expected[mapping.option]
    if (header === undefined) continue
    const value = params[`${HEADER_PARAM}${header}`]
    if (value === undefined) {
      add(
        `${mapping.code}_MAPPING_MISSING`,
        r,
        `integration of ${r} does not map ${header}, which core's ${mapping.option} reads`,
        `add request parameter ${HEADER_PARAM}${header} = ${mapping.from}`,
      )
    } else if (value !== mapping.from) {
      add(
        `${mapping.code}_MAPPING_WRONG`,
        r,
        `integration of ${r} maps ${header} from ${value}`,
        `set ${HEADER_PARAM}${header} to ${mapping.from}`,
      )
    }
  }
  if (expected.mount !== undefined) {
    const segment = SYSTEM_SEGMENTS[r] ?? r
    const want = `${expected.mount.replace(/\/+$/, '')}/${segment}`
    if (integration.integrationUri !== want) {
      add(
        'INTEGRATION_URI_MISMATCH',
        r,
        `integration of ${r} points at ${integration.integrationUri ?? '(none)'}, not ${want}`,
        `set the integration URI to ${want} (the adapters serve <mount>/${segment})`,
      )
    }
  }
}

function checkStage(
  stage: StageInfo,
  add: (code: FindingCode, route: string | null, message: string, fix: string) => void,
): void {
  const format = stage.accessLogSettings?.format
  if (format !== undefined && QUERY_VARIABLE.test(format)) {
    add(
      'ACCESS_LOG_QUERY_STRING',
      null,
      `stage ${stage.stageName} logs the query string: connect tokens end up in the logs`,
      'remove $request.* / $input.* / querystring variables from the access log format',
    )
  }
  const throttle = stage.defaultRouteSettings
  if (
    !(throttle?.throttlingRateLimit !== undefined && throttle.throttlingRateLimit > 0) ||
    !(throttle?.throttlingBurstLimit !== undefined && throttle.throttlingBurstLimit > 0)
  ) {
    add(
      'THROTTLING_MISSING',
      null,
      `stage ${stage.stageName} has no default route throttling: one client can use the account's whole quota`,
      'set the stage default route settings ThrottlingRateLimit and ThrottlingBurstLimit',
    )
  }
}
