/**
 * `WebSocketGateway`: one construct for an API Gateway WebSocket API served by apigw-ws. It owns
 * the API (route selection by the settings' key), one route per system and custom route, their
 * integrations and request mappings (HTTP_PROXY) or the Lambda integration and invoke permission
 * (AWS_PROXY), route responses for two-way routes, a stage with auto-deploy, default route
 * throttling and access logs that leave out the query string (connect tokens travel there), the
 * `@connections` grant, and the outputs. It is built on the CloudFormation-level resources so
 * every property that matters is set explicitly and visible in the template.
 */
import { ArnFormat, CfnOutput, Stack, Token } from 'aws-cdk-lib'
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager'
import { Construct } from 'constructs'
import type { WebSocketBackend } from './backend.js'
import { type BoundIntegrationSecret, IntegrationSecret } from './integration-secret.js'
import {
  CONNECTION_ID_HEADER,
  routeSelectionExpression,
  SECRET_SOURCE_ENV,
  STAGE_HEADER,
  type WebSocketSettings,
  webSocketSettings,
} from './settings.js'

/** Environment variable `backendEnvironment()` sets to the API id (for core's `apiIds`). */
export const API_ID_ENV = 'APIGW_WS_API_ID'

/**
 * Default stage throttling: 10% of API Gateway's default regional account quota (10,000 requests
 * per second steady, 5,000 burst, shared by every API in the account and region), so one API
 * cannot exhaust what the account's other APIs need. New connections are further capped by the
 * account's 500 `$connect` per second quota. Size yours from your own quotas.
 */
export const DEFAULT_THROTTLE: Readonly<WebSocketThrottle> = Object.freeze({
  rateLimit: 1_000,
  burstLimit: 500,
})

/**
 * The default access log line: JSON with request, connection, route, status and error fields.
 * It names no query string variable: `$connect` URLs carry one-time connect tokens.
 */
export const DEFAULT_ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTimeEpoch: '$context.requestTimeEpoch',
  eventType: '$context.eventType',
  routeKey: '$context.routeKey',
  connectionId: '$context.connectionId',
  sourceIp: '$context.identity.sourceIp',
  status: '$context.status',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  error: '$context.error.message',
  integrationError: '$context.integrationErrorMessage',
})

/** Variables that would put the query string (and so connect tokens) into access logs. */
const QUERY_VARIABLE = /querystring|\$request\.|\$input\./i

/** Stage-wide default route throttling. */
export interface WebSocketThrottle {
  /** Steady-state requests per second. */
  readonly rateLimit: number
  /** Burst capacity, in requests. */
  readonly burstLimit: number
}

/** Options for `grantManageConnections`. */
export interface ManageConnectionsGrant {
  /** Also allow `DELETE @connections/{id}` (`send.disconnect`). Default `false`. */
  readonly disconnect?: boolean
  /** Also allow `GET @connections/{id}` (checking a connection). Default `false`. */
  readonly verify?: boolean
}

/** Props of {@link WebSocketGateway}. */
export interface WebSocketGatewayProps {
  /** Where API Gateway forwards events. Its kind must match `settings.integration`. */
  readonly backend: WebSocketBackend
  /**
   * The settings shared with the app (`webSocketSettings(…)` from `@apigw-ws/cdk/settings`).
   * Default: `webSocketSettings({ integration: backend.kind })`.
   */
  readonly settings?: WebSocketSettings
  /**
   * The integration secret (HTTP mode only). Default: a new Secrets Manager secret of 48
   * letters and digits, readable by whoever you `grantSecretRead`.
   */
  readonly secret?: IntegrationSecret
  /** The API's name. Default: the construct path. */
  readonly apiName?: string
  /** The stage name. Default `prod`. */
  readonly stageName?: string
  /** Default route throttling for the stage. Default {@link DEFAULT_THROTTLE}. */
  readonly throttle?: WebSocketThrottle
  /** Where access logs go. Default: a new log group kept one month. */
  readonly accessLogGroup?: logs.ILogGroup
  /**
   * The access log format. Default {@link DEFAULT_ACCESS_LOG_FORMAT}. A format naming a query
   * string, `$request.` or `$input.` variable is refused (`TypeError`).
   */
  readonly accessLogFormat?: string
  /** Integration timeout in milliseconds (50–29,000). Default 29,000. */
  readonly integrationTimeoutMs?: number
}

const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/

/** The system routes and the path segment the adapters serve each at. */
const SYSTEM_ROUTE_SEGMENTS: readonly (readonly [string, string])[] = [
  ['$connect', 'connect'],
  ['$disconnect', 'disconnect'],
  ['$default', 'default'],
]

function checkThrottle(throttle: WebSocketThrottle): WebSocketThrottle {
  for (const key of ['rateLimit', 'burstLimit'] as const) {
    const value = throttle[key]
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new TypeError(`throttle.${key} must be a positive number`)
    }
  }
  if (!Number.isInteger(throttle.burstLimit)) {
    throw new TypeError('throttle.burstLimit must be an integer')
  }
  return throttle
}

/**
 * An API Gateway WebSocket API wired to an apigw-ws backend. Throws `TypeError` at construction
 * on a contradictory or unsafe configuration (mode mismatch, a secret for a Lambda backend, an
 * access log format that names the query string, bad throttling).
 */
export class WebSocketGateway extends Construct {
  /** The settings the API was built from; pass the same to `gatewayOptions` in the app. */
  readonly settings: WebSocketSettings
  /** The WebSocket API. */
  readonly api: apigw.CfnApi
  /** The stage. */
  readonly stage: apigw.CfnStage
  /** The API id (a token). */
  readonly apiId: string
  /** The stage name. */
  readonly stageName: string
  /** `wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}` (a token). */
  readonly url: string
  /** The `@connections` endpoint, `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}` (a token). */
  readonly connectionsEndpoint: string
  /** Routes by route key (`$connect`, `$disconnect`, `$default`, custom names). */
  readonly routes: ReadonlyMap<string, apigw.CfnRoute>
  /** Integrations by route key (in Lambda mode every route shares one). */
  readonly integrations: ReadonlyMap<string, apigw.CfnIntegration>
  /** The access log group. */
  readonly accessLogGroup: logs.ILogGroup
  private readonly secret: BoundIntegrationSecret | null

  constructor(scope: Construct, id: string, props: WebSocketGatewayProps) {
    super(scope, id)
    const { backend } = props
    if (backend === undefined || (backend.kind !== 'http' && backend.kind !== 'lambda')) {
      throw new TypeError('backend is required: WebSocketBackend.http(url) or .lambda(fn)')
    }
    const settings = props.settings ?? webSocketSettings({ integration: backend.kind })
    if (settings.integration !== backend.kind) {
      throw new TypeError(
        `settings.integration is '${settings.integration}' but the backend is '${backend.kind}'`,
      )
    }
    if (backend.kind === 'lambda' && props.secret !== undefined) {
      throw new TypeError('secret applies to HTTP backends only (Lambda events need none)')
    }
    this.settings = settings
    const stageName = props.stageName ?? 'prod'
    if (!Token.isUnresolved(stageName) && !STAGE_NAME.test(stageName)) {
      throw new TypeError(`stageName must match ${STAGE_NAME}`)
    }
    const throttle = checkThrottle(props.throttle ?? DEFAULT_THROTTLE)
    const logFormat = props.accessLogFormat ?? DEFAULT_ACCESS_LOG_FORMAT
    if (typeof logFormat !== 'string' || logFormat.length === 0 || QUERY_VARIABLE.test(logFormat)) {
      throw new TypeError(
        'accessLogFormat must not log the query string ($request.* / $input.* / querystring): connect tokens travel there',
      )
    }
    const timeoutMs = props.integrationTimeoutMs ?? 29_000
    if (!Number.isInteger(timeoutMs) || timeoutMs < 50 || timeoutMs > 29_000) {
      throw new TypeError('integrationTimeoutMs must be an integer from 50 to 29,000')
    }

    const stack = Stack.of(this)
    this.api = new apigw.CfnApi(this, 'Api', {
      name: props.apiName ?? this.node.path.replace(/\//g, '-'),
      protocolType: 'WEBSOCKET',
      routeSelectionExpression: routeSelectionExpression(settings),
    })
    this.apiId = this.api.ref
    this.stageName = stageName

    const routeKeys = [
      ...SYSTEM_ROUTE_SEGMENTS,
      ...settings.routes.map((r) => [r, r] as const),
    ] as const
    const integrations = new Map<string, apigw.CfnIntegration>()
    if (backend.kind === 'http') {
      this.secret = (
        props.secret ??
        IntegrationSecret.fromSecret(
          new secretsmanager.Secret(this, 'IntegrationSecret', {
            description: `apigw-ws integration secret for ${this.node.path}`,
            generateSecretString: { passwordLength: 48, excludePunctuation: true },
          }),
        )
      ).bind(this)
      const requestParameters = this.requestParameters(settings, this.secret.value)
      for (const [routeKey, segment] of routeKeys) {
        integrations.set(
          routeKey,
          new apigw.CfnIntegration(this, `Integration-${segment}`, {
            apiId: this.apiId,
            integrationType: 'HTTP_PROXY',
            integrationMethod: 'POST',
            integrationUri: `${backend.mountUrl}/${segment}`,
            requestParameters,
            timeoutInMillis: timeoutMs,
          }),
        )
      }
    } else {
      this.secret = null
      const integration = new apigw.CfnIntegration(this, 'Integration', {
        apiId: this.apiId,
        integrationType: 'AWS_PROXY',
        integrationUri: stack.formatArn({
          service: 'apigateway',
          account: 'lambda',
          resource: 'path/2015-03-31/functions',
          resourceName: `${backend.function.functionArn}/invocations`,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
        timeoutInMillis: timeoutMs,
      })
      new lambda.CfnPermission(this, 'InvokePermission', {
        action: 'lambda:InvokeFunction',
        functionName: backend.function.functionArn,
        principal: 'apigateway.amazonaws.com',
        sourceArn: stack.formatArn({
          service: 'execute-api',
          resource: this.apiId,
          resourceName: '*',
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      })
      for (const [routeKey] of routeKeys) integrations.set(routeKey, integration)
    }
    this.integrations = integrations

    const routes = new Map<string, apigw.CfnRoute>()
    for (const [routeKey, segment] of routeKeys) {
      const integration = integrations.get(routeKey)!
      const twoWay = settings.twoWayRoutes.includes(segment)
      const route = new apigw.CfnRoute(this, `Route-${segment}`, {
        apiId: this.apiId,
        routeKey,
        authorizationType: 'NONE',
        target: `integrations/${integration.ref}`,
        ...(twoWay ? { routeResponseSelectionExpression: '$default' } : {}),
      })
      if (twoWay) {
        new apigw.CfnRouteResponse(this, `RouteResponse-${segment}`, {
          apiId: this.apiId,
          routeId: route.ref,
          routeResponseKey: '$default',
        })
      }
      routes.set(routeKey, route)
    }
    this.routes = routes

    this.accessLogGroup =
      props.accessLogGroup ??
      new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH })
    this.stage = new apigw.CfnStage(this, 'Stage', {
      apiId: this.apiId,
      stageName,
      autoDeploy: true,
      defaultRouteSettings: {
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        dataTraceEnabled: false,
      },
      accessLogSettings: {
        destinationArn: this.accessLogGroup.logGroupArn,
        format: logFormat,
      },
    })
    // The first automatic deployment must already contain every route.
    for (const route of routes.values()) this.stage.node.addDependency(route)

    const host = `${this.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`
    this.url = `wss://${host}/${stageName}`
    this.connectionsEndpoint = `https://${host}/${stageName}`
    new CfnOutput(this, 'WebSocketUrl', {
      value: this.url,
      description: 'Clients connect here (with ?token=…)',
    })
    new CfnOutput(this, 'ConnectionsEndpoint', {
      value: this.connectionsEndpoint,
      description: 'The @connections management API endpoint for sending',
    })
  }

  private requestParameters(settings: WebSocketSettings, secret: string): Record<string, string> {
    const parameters: Record<string, string> = {
      [`integration.request.header.${CONNECTION_ID_HEADER}`]: 'context.connectionId',
      [`integration.request.header.${settings.secretHeader}`]: `'${secret}'`,
    }
    if (settings.mapStage)
      parameters[`integration.request.header.${STAGE_HEADER}`] = 'context.stage'
    if (settings.sourceIpHeader !== null) {
      parameters[`integration.request.header.${settings.sourceIpHeader}`] =
        'context.identity.sourceIp'
    }
    if (settings.routeKeyHeader !== null) {
      parameters[`integration.request.header.${settings.routeKeyHeader}`] = 'context.routeKey'
    }
    if (settings.domainNameHeader !== null) {
      parameters[`integration.request.header.${settings.domainNameHeader}`] = 'context.domainName'
    }
    return parameters
  }

  /**
   * The ARN pattern of `@connections` calls with `method` on this API's stage:
   * `arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{method}/@connections/*`.
   */
  connectionsArn(method: 'POST' | 'DELETE' | 'GET'): string {
    return Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.apiId,
      resourceName: `${this.stageName}/${method}/@connections/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    })
  }

  /**
   * Lets `grantee` send (`POST @connections/*`) on this API's stage, and with the options also
   * disconnect (`DELETE`) and verify (`GET`). Nothing else: not other stages, not other APIs.
   */
  grantManageConnections(grantee: iam.IGrantable, options: ManageConnectionsGrant = {}): iam.Grant {
    const methods: ('POST' | 'DELETE' | 'GET')[] = ['POST']
    if (options.disconnect === true) methods.push('DELETE')
    if (options.verify === true) methods.push('GET')
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:ManageConnections'],
      resourceArns: methods.map((m) => this.connectionsArn(m)),
    })
  }

  /** Lets `grantee` read the integration secret (HTTP mode). Throws in Lambda mode. */
  grantSecretRead(grantee: iam.IGrantable): void {
    if (this.secret === null) throw new TypeError('grantSecretRead: a Lambda backend has no secret')
    this.secret.grantRead(grantee)
  }

  /**
   * Environment for the backend: `APIGW_WS_API_ID` (pin core's `apiIds`) and, in HTTP mode,
   * `APIGW_WS_SECRET_SOURCE` (where to read the secret; see `secretSourceFromEnvironment`). Values
   * are deploy-time tokens; the secret itself is never included.
   */
  backendEnvironment(): Record<string, string> {
    const env: Record<string, string> = { [API_ID_ENV]: this.apiId }
    if (this.secret !== null) {
      env[SECRET_SOURCE_ENV] = Stack.of(this).toJsonString(this.secret.source)
    }
    return env
  }
}
