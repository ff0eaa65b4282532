/**
 * A loopback HTTP server speaking the API Gateway v2 wire protocol (REST-JSON, as
 * `@aws-sdk/client-apigatewayv2` sends and parses it) for the doctor's tests: `GET
 * /v2/apis/{id}`, `/routes`, `/integrations`, `/routes/{routeId}/routeresponses`,
 * `/stages/{name}`, paginated with `maxResults`/`nextToken`, errors named by `x-amzn-errortype`,
 * and unsigned requests refused like AWS does.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One API as the server holds it, in the service's JSON field names. */
export interface ApiFixture {
  readonly api: Record<string, unknown>
  readonly routes: readonly Record<string, unknown>[]
  readonly integrations: readonly Record<string, unknown>[]
  readonly routeResponses: Readonly<Record<string, readonly Record<string, unknown>[]>>
  readonly stages: Readonly<Record<string, Record<string, unknown>>>
}

/** A running server: its endpoint, the requests it saw, and `close`. */
export interface FakeApiGateway {
  readonly endpoint: string
  readonly requests: string[]
  readonly close: () => Promise<void>
}

/** Items per page when the client asks for more: small, so pagination is exercised. */
const PAGE = 2

function page(items: readonly unknown[], query: URLSearchParams) {
  const start = Number(query.get('nextToken') ?? '0')
  const size = Math.min(PAGE, Number(query.get('maxResults') ?? PAGE))
  const slice = items.slice(start, start + size)
  const next = start + size < items.length ? String(start + size) : undefined
  return next === undefined ? { items: slice } : { items: slice, nextToken: next }
}

/** Starts the server on 127.0.0.1 with `apis` by id. */
export async function startFakeApiGateway(
  apis: Readonly<Record<string, ApiFixture>>,
): Promise<FakeApiGateway> {
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    requests.push(`${req.method} ${url.pathname}`)
    const send = (status: number, body: unknown, errorType?: string) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-amzn-requestid': `req-${requests.length}`,
        ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
      })
      res.end(JSON.stringify(body))
    }
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 Credential=')) {
      send(403, { message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException')
      return
    }
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
    const fixture = parts[0] === 'v2' && parts[1] === 'apis' ? apis[parts[2] ?? ''] : undefined
    if (req.method !== 'GET' || fixture === undefined) {
      send(
        404,
        { message: `Invalid API identifier specified ${parts[2] ?? ''}` },
        'NotFoundException',
      )
      return
    }
    const rest = parts.slice(3)
    if (rest.length === 0) return send(200, fixture.api)
    if (rest.length === 1 && rest[0] === 'routes')
      return send(200, page(fixture.routes, url.searchParams))
    if (rest.length === 1 && rest[0] === 'integrations') {
      return send(200, page(fixture.integrations, url.searchParams))
    }
    if (rest.length === 3 && rest[0] === 'routes' && rest[2] === 'routeresponses') {
      return send(200, page(fixture.routeResponses[rest[1]!] ?? [], url.searchParams))
    }
    if (rest.length === 2 && rest[0] === 'stages') {
      const stage = fixture.stages[rest[1]!]
      if (stage === undefined) {
        return send(404, { message: `Invalid stage identifier specified` }, 'NotFoundException')
      }
      return send(200, stage)
    }
    send(404, { message: 'Not found' }, 'NotFoundException')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

const MOUNT = 'https://app.example.com/ws'
const SECRET = "'integration-secret-0123456789'"

/** Route keys of the clean API and their path segments. */
const ROUTES: readonly (readonly [string, string])[] = [
  ['$connect', 'connect'],
  ['$disconnect', 'disconnect'],
  ['$default', 'default'],
  ['chat', 'chat'],
  ['who', 'who'],
]

/** A correctly configured HTTP_PROXY API, as the CDK construct deploys it. */
export function cleanApi(apiId: string): ApiFixture {
  const routes = ROUTES.map(([key, segment], i) => ({
    routeId: `r${i}`,
    routeKey: key,
    target: `integrations/i${i}`,
    authorizationType: 'NONE',
    apiKeyRequired: false,
    ...(key === 'who' ? { routeResponseSelectionExpression: '$default' } : {}),
    _segment: segment,
  }))
  return {
    api: {
      apiId,
      name: 'chat',
      protocolType: 'WEBSOCKET',
      routeSelectionExpression: '$request.body.action',
      apiEndpoint: `wss://${apiId}.execute-api.eu-west-1.amazonaws.com`,
      createdDate: '2026-12-01T10:00:00Z',
    },
    routes: routes.map(({ _segment, ...route }) => route),
    integrations: routes.map((r, i) => ({
      integrationId: `i${i}`,
      integrationType: 'HTTP_PROXY',
      integrationMethod: 'POST',
      integrationUri: `${MOUNT}/${r._segment}`,
      connectionType: 'INTERNET',
      timeoutInMillis: 29000,
      payloadFormatVersion: '1.0',
      requestParameters: {
        'integration.request.header.connectionid': 'context.connectionId',
        'integration.request.header.x-apigw-secret': SECRET,
        'integration.request.header.x-apigw-stage': 'context.stage',
        'integration.request.header.x-apigw-source-ip': 'context.identity.sourceIp',
      },
    })),
    routeResponses: { r4: [{ routeResponseId: 'rr4', routeResponseKey: '$default' }] },
    stages: {
      prod: {
        stageName: 'prod',
        autoDeploy: true,
        defaultRouteSettings: {
          dataTraceEnabled: false,
          detailedMetricsEnabled: false,
          throttlingBurstLimit: 500,
          throttlingRateLimit: 1000,
        },
        accessLogSettings: {
          destinationArn: 'arn:aws:logs:eu-west-1:123456789012:log-group:ws',
          format: '{"requestId":"$context.requestId","routeKey":"$context.routeKey"}',
        },
        routeSettings: {},
        stageVariables: {},
      },
    },
  }
}

/** `cleanApi` with `change` applied to a deep copy. */
export function brokenApi(apiId: string, change: (api: MutableFixture) => void): ApiFixture {
  const copy = structuredClone(cleanApi(apiId)) as MutableFixture
  change(copy)
  return copy
}

/** A fixture whose parts tests may edit. */
export interface MutableFixture {
  api: Record<string, unknown>
  routes: Record<string, unknown>[]
  integrations: (Record<string, unknown> & { requestParameters: Record<string, string> })[]
  routeResponses: Record<string, Record<string, unknown>[]>
  stages: Record<
    string,
    Record<string, unknown> & { defaultRouteSettings: Record<string, unknown> }
  >
}
