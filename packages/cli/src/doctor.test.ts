import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  type ApiFixture,
  brokenApi,
  cleanApi,
  type FakeApiGateway,
  startFakeApiGateway,
} from '../test/apigatewayv2-server.js'
import { run } from '../test/run.js'
import type { Finding } from './doctor-checks.js'

const LAMBDA_URI =
  'arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:chat/invocations'

// One API per misconfiguration, each the clean API with exactly one thing wrong.
const CASES: readonly {
  readonly id: string
  readonly code: Finding['code']
  readonly route: string | null
  readonly change: Parameters<typeof brokenApi>[1]
}[] = [
  {
    id: 'noconnid',
    code: 'CONNECTION_ID_MAPPING_MISSING',
    route: 'chat',
    change: (a) => {
      delete a.integrations[3]!.requestParameters['integration.request.header.connectionid']
    },
  },
  {
    id: 'wrongconnid',
    code: 'CONNECTION_ID_MAPPING_WRONG',
    route: '$connect',
    change: (a) => {
      a.integrations[0]!.requestParameters['integration.request.header.connectionid'] =
        'context.requestId'
    },
  },
  {
    id: 'nosecret',
    code: 'SECRET_MAPPING_MISSING',
    route: '$disconnect',
    change: (a) => {
      delete a.integrations[1]!.requestParameters['integration.request.header.x-apigw-secret']
    },
  },
  {
    id: 'wrongsecret',
    code: 'SECRET_MAPPING_WRONG',
    route: '$default',
    change: (a) => {
      a.integrations[2]!.requestParameters['integration.request.header.x-apigw-secret'] =
        "'short-s3cret'"
    },
  },
  {
    id: 'wrongstage',
    code: 'STAGE_MAPPING_WRONG',
    route: 'who',
    change: (a) => {
      a.integrations[4]!.requestParameters['integration.request.header.x-apigw-stage'] =
        'context.apiId'
    },
  },
  {
    id: 'nostage',
    code: 'STAGE_MAPPING_MISSING',
    route: '$connect',
    change: (a) => {
      delete a.integrations[0]!.requestParameters['integration.request.header.x-apigw-stage']
    },
  },
  {
    id: 'wrongip',
    code: 'SOURCE_IP_MAPPING_WRONG',
    route: 'chat',
    change: (a) => {
      a.integrations[3]!.requestParameters['integration.request.header.x-apigw-source-ip'] =
        'context.identity.userAgent'
    },
  },
  {
    id: 'wronguri',
    code: 'INTEGRATION_URI_MISMATCH',
    route: 'chat',
    change: (a) => {
      a.integrations[3]!.integrationUri = 'https://app.example.com/api/chat'
    },
  },
  {
    id: 'wrongselection',
    code: 'ROUTE_SELECTION_MISMATCH',
    route: null,
    change: (a) => {
      a.api.routeSelectionExpression = '$request.body.type'
    },
  },
  {
    id: 'noresponse',
    code: 'ROUTE_RESPONSE_MISSING',
    route: 'who',
    change: (a) => {
      a.routeResponses = {}
    },
  },
  {
    id: 'nodefault',
    code: 'ROUTE_MISSING',
    route: '$default',
    change: (a) => {
      a.routes = a.routes.filter((r) => r.routeKey !== '$default')
    },
  },
  {
    id: 'querylog',
    code: 'ACCESS_LOG_QUERY_STRING',
    route: null,
    change: (a) => {
      ;(a.stages.prod!.accessLogSettings as Record<string, string>).format =
        '$context.requestId $request.querystring.token'
    },
  },
  {
    id: 'nothrottle',
    code: 'THROTTLING_MISSING',
    route: null,
    change: (a) => {
      a.stages.prod!.defaultRouteSettings = { dataTraceEnabled: false }
    },
  },
  {
    id: 'lambdanotproxy',
    code: 'LAMBDA_NOT_PROXY',
    route: '$default',
    change: (a) => {
      a.integrations[2] = {
        integrationId: 'i2',
        integrationType: 'AWS',
        integrationUri: LAMBDA_URI,
        requestParameters: {},
      }
    },
  },
]

const COMMON = [
  '--region',
  'eu-west-1',
  '--stage',
  'prod',
  '--mount',
  'https://app.example.com/ws',
  '--two-way',
  'who',
  '--source-ip-header',
  'x-apigw-source-ip',
  '--stage-header',
  'x-apigw-stage',
]

describe('apigw-ws doctor against the API Gateway v2 wire protocol', () => {
  let server: FakeApiGateway
  let dir: string

  beforeAll(async () => {
    const apis: Record<string, ApiFixture> = { cleanapi: cleanApi('cleanapi') }
    for (const c of CASES) apis[c.id] = brokenApi(c.id, c.change)
    server = await startFakeApiGateway(apis)
    dir = mkdtempSync(join(tmpdir(), 'apigw-doctor-'))
  })
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')
    vi.stubEnv('AWS_SESSION_TOKEN', '')
  })
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  const doctor = (apiId: string, ...more: string[]) =>
    run(['doctor', '--api-id', apiId, ...COMMON, '--endpoint', server.endpoint, ...more])

  it('finds nothing wrong with a clean API (exit 0), reading every page', async () => {
    const result = await doctor('cleanapi', '--json')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const report = JSON.parse(result.stdout) as {
      clean: boolean
      findings: Finding[]
      name: string
    }
    expect(report).toMatchObject({ clean: true, findings: [], name: 'chat' })
    // 5 routes and 5 integrations at 2 per page: 3 pages each; one route-response call per route.
    const calls = server.requests.filter((r) => r.includes('/cleanapi'))
    expect(calls.filter((r) => r.endsWith('/routes'))).toHaveLength(3)
    expect(calls.filter((r) => r.endsWith('/integrations'))).toHaveLength(3)
    expect(calls.filter((r) => r.endsWith('/routeresponses'))).toHaveLength(5)
    expect(calls).toContain('GET /v2/apis/cleanapi/stages/prod')
  })

  for (const c of CASES) {
    it(`finds ${c.code}${c.route === null ? '' : ` on ${c.route}`} (exit 1)`, async () => {
      const result = await doctor(c.id, '--json')
      expect(result.code).toBe(1)
      const report = JSON.parse(result.stdout) as { clean: boolean; findings: Finding[] }
      expect(report.clean).toBe(false)
      expect(report.findings.map((f) => [f.code, f.route])).toEqual([[c.code, c.route]])
      expect(report.findings[0]!.fix.length).toBeGreaterThan(10)
      // No secret value ever reaches the report.
      expect(result.stdout).not.toContain('integration-secret-0123456789')
      expect(result.stdout).not.toContain('short-s3cret')
    })
  }

  it('prints findings and fixes for people', async () => {
    const result = await doctor('nosecret')
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('API nosecret (chat) in eu-west-1, stage prod')
    expect(result.stdout).toContain('✗ SECRET_MAPPING_MISSING ($disconnect)')
    expect(result.stdout).toContain(
      "fix: add request parameter integration.request.header.x-apigw-secret = '<your secret>'",
    )
    expect(result.stdout).toContain('1 finding')
    const clean = await doctor('cleanapi')
    expect(clean.stdout).toContain('✓ no misconfiguration found')
  })

  it('takes the two-way routes from a synthesized template', async () => {
    const template = join(dir, 'template.json')
    writeFileSync(
      template,
      JSON.stringify({
        Resources: {
          RouteChat: { Type: 'AWS::ApiGatewayV2::Route', Properties: { RouteKey: 'chat' } },
          RouteResponseChat: {
            Type: 'AWS::ApiGatewayV2::RouteResponse',
            Properties: { RouteId: { Ref: 'RouteChat' }, RouteResponseKey: '$default' },
          },
        },
      }),
    )
    const result = await doctor('cleanapi', '--template', template, '--json')
    expect(result.code).toBe(1)
    const report = JSON.parse(result.stdout) as { findings: Finding[] }
    expect(report.findings.map((f) => [f.code, f.route])).toEqual([
      ['ROUTE_RESPONSE_MISSING', 'chat'],
    ])
  })

  it('says so when the API is not in the region (exit 2)', async () => {
    const result = await doctor('otherapi')
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'apigw-ws doctor: API otherapi or its stage prod not found in eu-west-1: check --api-id, --stage and --region\n',
    )
    expect(result.stdout).toBe('')
  })

  it('says so when there are no credentials (exit 2), without asking AWS', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '')
    vi.stubEnv('AWS_PROFILE', '')
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'none'))
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'none'))
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true')
    vi.stubEnv('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', '')
    vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', '')
    vi.stubEnv('AWS_WEB_IDENTITY_TOKEN_FILE', '')
    const before = server.requests.length
    const result = await doctor('cleanapi')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^apigw-ws doctor: no AWS credentials: set AWS_PROFILE/)
    expect(server.requests.length).toBe(before)
  })

  it('refuses bad usage with exit 2', async () => {
    expect((await run(['doctor', '--region', 'eu-west-1'])).stderr).toContain(
      '--api-id is required',
    )
    expect((await run(['doctor', '--api-id', 'abc', '--region', 'mars'])).code).toBe(2)
    expect(
      (await run(['doctor', '--api-id', 'abc', '--region', 'eu-west-1', '--bogus'])).code,
    ).toBe(2)
    const help = await run(['doctor', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: apigw-ws doctor --api-id <id> --region <region>')
  })
})
