import { App, SecretValue, Stack } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  API_ID_ENV,
  DEFAULT_ACCESS_LOG_FORMAT,
  DEFAULT_THROTTLE,
  SECRET_SOURCE_ENV,
  WebSocketBackend,
  WebSocketGateway,
} from './index.js'
import { IntegrationSecret } from './integration-secret.js'
import { webSocketSettings } from './settings.js'

// Synthesis is slow: each mode is synthesized once and every test reads the same template.
const ENV = { account: '123456789012', region: 'eu-west-1' }
const PLAINTEXT = 'plaintext-secret-value-that-must-not-leak'

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>

function resources(template: Template, type: string): Resources {
  return template.findResources(type) as Resources
}

function logicalId(template: Template, type: string, props: Record<string, unknown>): string {
  const found = Object.keys(template.findResources(type, { Properties: props }))
  expect(found).toHaveLength(1)
  return found[0]!
}

describe('WebSocketGateway, HTTP_PROXY', () => {
  let template: Template
  let json: string

  beforeAll(() => {
    const app = new App()
    const stack = new Stack(app, 'Http', { env: ENV })
    // A value known to the CDK app: it reaches the template in the secret resource the user
    // chose to create that way, and must reach nothing else, in particular no integration.
    const secret = new secretsmanager.Secret(stack, 'Secret', {
      secretObjectValue: { value: SecretValue.unsafePlainText(PLAINTEXT) },
    })
    const settings = webSocketSettings({
      routes: ['chat', 'who'],
      twoWayRoutes: ['who', 'default'],
    })
    const gateway = new WebSocketGateway(stack, 'Ws', {
      backend: WebSocketBackend.http('https://app.example.com/ws/'),
      settings,
      secret: IntegrationSecret.fromSecret(secret, { jsonField: 'value' }),
    })
    const role = new iam.Role(stack, 'Sender', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    })
    gateway.grantManageConnections(role)
    const admin = new iam.Role(stack, 'Admin', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    })
    gateway.grantManageConnections(admin, { disconnect: true, verify: true })
    gateway.grantSecretRead(role)
    template = Template.fromStack(stack)
    json = JSON.stringify(template.toJSON())
  })

  it('creates one WebSocket API selecting routes by the settings key', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1)
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    })
  })

  it('routes every system and custom route to its own integration at the mount path', () => {
    const routes = resources(template, 'AWS::ApiGatewayV2::Route')
    const integrations = resources(template, 'AWS::ApiGatewayV2::Integration')
    const byKey = new Map(
      Object.values(routes).map((r) => [r.Properties.RouteKey as string, r.Properties]),
    )
    expect([...byKey.keys()].sort()).toEqual(['$connect', '$default', '$disconnect', 'chat', 'who'])
    const expected: Record<string, string> = {
      $connect: 'https://app.example.com/ws/connect',
      $disconnect: 'https://app.example.com/ws/disconnect',
      $default: 'https://app.example.com/ws/default',
      chat: 'https://app.example.com/ws/chat',
      who: 'https://app.example.com/ws/who',
    }
    for (const [key, uri] of Object.entries(expected)) {
      const route = byKey.get(key)!
      const target = route.Target as { 'Fn::Join': [string, unknown[]] }
      const ref = (target['Fn::Join'][1][1] as { Ref: string }).Ref
      expect(target['Fn::Join'][1][0]).toBe('integrations/')
      const integration = integrations[ref]!.Properties
      expect(integration.IntegrationType).toBe('HTTP_PROXY')
      expect(integration.IntegrationMethod).toBe('POST')
      expect(integration.IntegrationUri).toBe(uri)
      expect(integration.TimeoutInMillis).toBe(29_000)
      expect(route.AuthorizationType).toBe('NONE')
    }
    expect(Object.keys(integrations)).toHaveLength(5)
  })

  it('maps connectionid, the secret, the stage and the source ip on every integration', () => {
    for (const integration of Object.values(
      resources(template, 'AWS::ApiGatewayV2::Integration'),
    )) {
      const params = integration.Properties.RequestParameters as Record<string, unknown>
      expect(Object.keys(params).sort()).toEqual([
        'integration.request.header.connectionid',
        'integration.request.header.x-apigw-secret',
        'integration.request.header.x-apigw-source-ip',
        'integration.request.header.x-apigw-stage',
      ])
      expect(params['integration.request.header.connectionid']).toBe('context.connectionId')
      expect(params['integration.request.header.x-apigw-stage']).toBe('context.stage')
      expect(params['integration.request.header.x-apigw-source-ip']).toBe(
        'context.identity.sourceIp',
      )
      // A quoted static value whose middle is a Secrets Manager dynamic reference.
      const secret = JSON.stringify(params['integration.request.header.x-apigw-secret'])
      expect(secret).toMatch(/^\{"Fn::Join":\["",\["'\{\{resolve:secretsmanager:",/)
      expect(secret).toContain(':SecretString:value::}}\'"]]}')
    }
  })

  it('never puts the secret plaintext anywhere but the secret itself', () => {
    const all = template.toJSON() as { Resources: Resources }
    const secrets = Object.entries(all.Resources).filter(
      ([, r]) => r.Type === 'AWS::SecretsManager::Secret',
    )
    expect(secrets).toHaveLength(1)
    expect(JSON.stringify(secrets[0]![1])).toContain(PLAINTEXT)
    const rest = { ...all, Resources: { ...all.Resources } }
    delete rest.Resources[secrets[0]![0]]
    expect(JSON.stringify(rest)).not.toContain(PLAINTEXT)
    expect(json).toContain(PLAINTEXT) // the search itself can find the value
  })

  it('gives two-way routes (and only them) a $default route response', () => {
    const routes = resources(template, 'AWS::ApiGatewayV2::Route')
    const responses = Object.values(resources(template, 'AWS::ApiGatewayV2::RouteResponse'))
    expect(responses).toHaveLength(2)
    const answered = responses.map((r) => {
      expect(r.Properties.RouteResponseKey).toBe('$default')
      const id = (r.Properties.RouteId as { Ref: string }).Ref
      return routes[id]!.Properties
    })
    expect(answered.map((r) => r.RouteKey).sort()).toEqual(['$default', 'who'])
    for (const route of answered) expect(route.RouteResponseSelectionExpression).toBe('$default')
    for (const route of Object.values(routes)) {
      if (!['$default', 'who'].includes(route.Properties.RouteKey as string)) {
        expect(route.Properties.RouteResponseSelectionExpression).toBeUndefined()
      }
    }
  })

  it('deploys a stage automatically, throttled, logging without the query string', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'prod',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: DEFAULT_THROTTLE.rateLimit,
        ThrottlingBurstLimit: DEFAULT_THROTTLE.burstLimit,
        DataTraceEnabled: false,
      },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WsAccessLogs'), 'Arn'] },
        Format: DEFAULT_ACCESS_LOG_FORMAT,
      },
    })
    const format = JSON.parse(DEFAULT_ACCESS_LOG_FORMAT) as Record<string, string>
    expect(format.routeKey).toBe('$context.routeKey')
    expect(format.connectionId).toBe('$context.connectionId')
    expect(DEFAULT_ACCESS_LOG_FORMAT).not.toMatch(/query|\$request|\$input/i)
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 })
  })

  it('makes the stage wait for every route', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0] as {
      DependsOn: string[]
    }
    const routeIds = Object.keys(resources(template, 'AWS::ApiGatewayV2::Route'))
    expect([...stage.DependsOn].sort()).toEqual([...routeIds].sort())
  })

  it('grants POST on @connections of this stage only, DELETE and GET only when asked', () => {
    const arn = (method: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':execute-api:eu-west-1:123456789012:',
          { Ref: logicalId(template, 'AWS::ApiGatewayV2::Api', {}) },
          `/prod/${method}/@connections/*`,
        ],
      ],
    })
    const policies = Object.values(resources(template, 'AWS::IAM::Policy'))
    const statementsOf = (role: string) =>
      policies
        .filter((p) =>
          (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(role)),
        )
        .flatMap((p) => (p.Properties.PolicyDocument as { Statement: unknown[] }).Statement)
    const manage = (role: string) =>
      statementsOf(role).filter(
        (s) => (s as { Action: unknown }).Action === 'execute-api:ManageConnections',
      )
    expect(manage('Sender')).toEqual([
      { Action: 'execute-api:ManageConnections', Effect: 'Allow', Resource: arn('POST') },
    ])
    expect(manage('Admin')).toEqual([
      {
        Action: 'execute-api:ManageConnections',
        Effect: 'Allow',
        Resource: [arn('POST'), arn('DELETE'), arn('GET')],
      },
    ])
    // The secret read grant names the secret, not '*'.
    const reads = statementsOf('Sender').filter((s) =>
      JSON.stringify(s).includes('secretsmanager:GetSecretValue'),
    )
    expect(reads).toHaveLength(1)
    expect(JSON.stringify(reads[0])).toContain('"Resource":{"Ref":"Secret')
  })

  it('outputs the wss URL and the @connections endpoint', () => {
    const outputs = template.findOutputs('*')
    const values = Object.values(outputs).map((o) => JSON.stringify(o.Value))
    expect(values.some((v) => v.startsWith('{"Fn::Join":["",["wss://",{"Ref":"WsApi'))).toBe(true)
    expect(values.some((v) => v.startsWith('{"Fn::Join":["",["https://",{"Ref":"WsApi'))).toBe(true)
    for (const v of values) expect(v).toContain('.execute-api.eu-west-1.')
    for (const v of values) expect(v).toMatch(/\/prod"\]\]\}$/)
  })
})

describe('WebSocketGateway, AWS_PROXY', () => {
  let template: Template

  beforeAll(() => {
    const app = new App()
    const stack = new Stack(app, 'Lambda', { env: ENV })
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 })'),
    })
    const gateway = new WebSocketGateway(stack, 'Ws', {
      backend: WebSocketBackend.lambda(fn),
      settings: webSocketSettings({
        integration: 'lambda',
        routes: ['chat'],
        twoWayRoutes: ['chat'],
      }),
      stageName: 'live',
      throttle: { rateLimit: 50, burstLimit: 20 },
    })
    gateway.grantManageConnections(fn)
    template = Template.fromStack(stack)
  })

  it('routes every route to one AWS_PROXY integration of the function', () => {
    const integrations = Object.values(resources(template, 'AWS::ApiGatewayV2::Integration'))
    expect(integrations).toHaveLength(1)
    const props = integrations[0]!.Properties
    expect(props.IntegrationType).toBe('AWS_PROXY')
    expect(props.RequestParameters).toBeUndefined()
    const uri = JSON.stringify(props.IntegrationUri)
    expect(uri).toContain(':apigateway:eu-west-1:lambda:path/2015-03-31/functions/')
    expect(uri).toContain('{"Fn::GetAtt":["Fn')
    expect(uri).toContain('/invocations')
    const routes = Object.values(resources(template, 'AWS::ApiGatewayV2::Route'))
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual([
      '$connect',
      '$default',
      '$disconnect',
      'chat',
    ])
    template.resourceCountIs('AWS::ApiGatewayV2::RouteResponse', 1)
    template.resourceCountIs('AWS::SecretsManager::Secret', 0)
  })

  it('lets API Gateway (this API only) invoke the function', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Fn'), 'Arn'] },
      Principal: 'apigateway.amazonaws.com',
      SourceArn: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':execute-api:eu-west-1:123456789012:',
            { Ref: Match.stringLikeRegexp('^WsApi') },
            '/*',
          ],
        ],
      },
    })
  })

  it('uses the given stage and throttling', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'live',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 20 },
    })
  })
})

describe('WebSocketGateway refuses unsafe or contradictory props', () => {
  const fresh = () => new Stack(new App(), 'S', { env: ENV })
  const http = WebSocketBackend.http('https://app.example.com/ws')

  it('refuses an access log format with the query string', () => {
    for (const format of ['$context.requestId $request.querystring.token', '$input.params()']) {
      expect(
        () => new WebSocketGateway(fresh(), 'Ws', { backend: http, accessLogFormat: format }),
      ).toThrow(/query string/)
    }
  })

  it('refuses a mode mismatch and a secret for Lambda', () => {
    const stack = fresh()
    const fn = lambda.Function.fromFunctionArn(
      stack,
      'Fn',
      'arn:aws:lambda:eu-west-1:123456789012:function:f',
    )
    expect(
      () =>
        new WebSocketGateway(stack, 'A', {
          backend: http,
          settings: webSocketSettings({ integration: 'lambda' }),
        }),
    ).toThrow(/settings.integration/)
    expect(
      () =>
        new WebSocketGateway(stack, 'B', {
          backend: WebSocketBackend.lambda(fn),
          secret: IntegrationSecret.fromSsmParameter('/app/secret'),
        }),
    ).toThrow(/HTTP backends only/)
  })

  it('refuses bad throttling, stage names and timeouts', () => {
    expect(
      () =>
        new WebSocketGateway(fresh(), 'Ws', {
          backend: http,
          throttle: { rateLimit: 0, burstLimit: 1 },
        }),
    ).toThrow(/rateLimit/)
    expect(() => new WebSocketGateway(fresh(), 'Ws', { backend: http, stageName: 'a/b' })).toThrow(
      /stageName/,
    )
    expect(
      () => new WebSocketGateway(fresh(), 'Ws', { backend: http, integrationTimeoutMs: 30_000 }),
    ).toThrow(/integrationTimeoutMs/)
  })

  it('refuses mount URLs with a query, a fragment or another scheme', () => {
    for (const url of ['https://a.example/ws?x=1', 'https://a.example/ws#f', 'ftp://a/ws', 'ws']) {
      expect(() => WebSocketBackend.http(url)).toThrow(TypeError)
    }
  })
})

describe('WebSocketGateway secret sources', () => {
  let template: Template
  let stack: Stack
  let generatedEnv: Record<string, string>
  let ssmEnv: Record<string, string>

  beforeAll(() => {
    stack = new Stack(new App(), 'Secrets', { env: ENV })
    const generated = new WebSocketGateway(stack, 'Generated', {
      backend: WebSocketBackend.http('https://app.example.com/ws'),
    })
    const fromSsm = new WebSocketGateway(stack, 'FromSsm', {
      backend: WebSocketBackend.http('https://app.example.com/ws'),
      secret: IntegrationSecret.fromSsmParameter('/app/ws-secret'),
      settings: webSocketSettings({
        sourceIpHeader: false,
        mapStage: false,
        routeKeyHeader: 'x-apigw-route-key',
        domainNameHeader: 'x-apigw-domain',
      }),
    })
    const reader = new iam.Role(stack, 'Reader', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    })
    generated.grantSecretRead(reader)
    fromSsm.grantSecretRead(reader)
    generatedEnv = generated.backendEnvironment()
    ssmEnv = fromSsm.backendEnvironment()
    template = Template.fromStack(stack)
  })

  const secretParams = (prefix: string) =>
    Object.entries(resources(template, 'AWS::ApiGatewayV2::Integration'))
      .filter(([id]) => id.startsWith(prefix))
      .map(
        ([, r]) =>
          (r.Properties.RequestParameters as Record<string, unknown>)[
            'integration.request.header.x-apigw-secret'
          ],
      )

  it('generates a 48-character secret without quotes by default and maps it by reference', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    })
    const params = secretParams('Generated')
    expect(params).toHaveLength(3)
    const secretId = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0]
    expect(secretId).toMatch(/^GeneratedIntegrationSecret/)
    for (const p of params) {
      expect(p).toEqual({
        'Fn::Join': ['', ["'{{resolve:secretsmanager:", { Ref: secretId }, ":SecretString:::}}'"]],
      })
    }
  })

  it('maps an SSM parameter by dynamic reference', () => {
    const params = secretParams('FromSsm')
    expect(params).toHaveLength(3)
    for (const p of params) expect(p).toBe("'{{resolve:ssm:/app/ws-secret}}'")
  })

  it('maps exactly the headers the settings name', () => {
    const integrations = Object.entries(resources(template, 'AWS::ApiGatewayV2::Integration'))
    const fromSsm = integrations.filter(([id]) => id.startsWith('FromSsm'))
    expect(fromSsm).toHaveLength(3)
    for (const [, integration] of fromSsm) {
      expect(integration.Properties.RequestParameters).toEqual({
        'integration.request.header.connectionid': 'context.connectionId',
        'integration.request.header.x-apigw-secret': "'{{resolve:ssm:/app/ws-secret}}'",
        'integration.request.header.x-apigw-route-key': 'context.routeKey',
        'integration.request.header.x-apigw-domain': 'context.domainName',
      })
    }
  })

  it('tells the backend where the secret is, and grants reading it', () => {
    expect(stack.resolve(ssmEnv[SECRET_SOURCE_ENV])).toBe(
      '{"kind":"ssm","parameterName":"/app/ws-secret"}',
    )
    const secretId = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0]
    expect(stack.resolve(generatedEnv[SECRET_SOURCE_ENV])).toEqual({
      'Fn::Join': ['', ['{"kind":"secretsmanager","secretId":"', { Ref: secretId }, '"}']],
    })
    expect(stack.resolve(ssmEnv[API_ID_ENV])).toEqual({ Ref: expect.stringMatching(/^FromSsmApi/) })
    const policy = JSON.stringify(template.findResources('AWS::IAM::Policy'))
    expect(policy).toContain('secretsmanager:GetSecretValue')
    expect(policy).toContain(':parameter/app/ws-secret')
  })
})
