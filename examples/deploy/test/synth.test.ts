/**
 * Synthesizes the deploy example's app (no AWS credentials, no bundling) and checks each mode's
 * template for what the chat needs. Synthesis is slow, so both stacks come from one app.
 */
import { App } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { beforeAll, describe, expect, it } from 'vitest'
import { chatStacks } from '../src/stacks.js'

type Resources = Record<string, { Properties: Record<string, unknown> }>

describe('examples/deploy synthesizes', () => {
  let http: Template
  let lambda: Template

  beforeAll(() => {
    // Skip asset bundling: the test checks the templates, not the function's bundle.
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [], backendUrl: 'https://chat.test/ws' },
    })
    const stacks = chatStacks(app)
    http = Template.fromStack(stacks.http)
    lambda = Template.fromStack(stacks.lambda)
  })

  const routeKeys = (t: Template) =>
    Object.values(t.findResources('AWS::ApiGatewayV2::Route') as Resources)
      .map((r) => r.Properties.RouteKey)
      .sort()
  const CHAT_ROUTES = ['$connect', '$default', '$disconnect', 'chat', 'join', 'leave', 'who']

  it('in HTTP_PROXY mode: the chat routes at the app mount, secret by reference, app role', () => {
    expect(routeKeys(http)).toEqual(CHAT_ROUTES)
    const uris = Object.values(http.findResources('AWS::ApiGatewayV2::Integration') as Resources)
      .map((r) => r.Properties.IntegrationUri)
      .sort()
    expect(uris).toEqual(
      ['chat', 'connect', 'default', 'disconnect', 'join', 'leave', 'who'].map(
        (s) => `https://chat.test/ws/${s}`,
      ),
    )
    http.resourceCountIs('AWS::ApiGatewayV2::RouteResponse', 3)
    http.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    })
    expect(JSON.stringify(http.toJSON())).not.toMatch(/SecretString"\s*:\s*"/)
    const policy = JSON.stringify(http.findResources('AWS::IAM::Policy'))
    expect(policy).toContain('/prod/POST/@connections/*')
    expect(policy).toContain('/prod/DELETE/@connections/*')
    expect(policy).not.toContain('/prod/GET/@connections/*')
  })

  it('in AWS_PROXY mode: one Lambda integration, invoke permission, database URL by reference', () => {
    expect(routeKeys(lambda)).toEqual(CHAT_ROUTES)
    lambda.resourceCountIs('AWS::ApiGatewayV2::Integration', 1)
    lambda.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY' })
    lambda.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'apigateway.amazonaws.com',
    })
    const fn = Object.values(lambda.findResources('AWS::Lambda::Function') as Resources)[0]!
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables
    expect(env.DATABASE_URL).toBe('{{resolve:secretsmanager:chat/database-url:SecretString:::}}')
    expect(env.ALLOWED_ORIGINS).toBe('https://chat.example.com')
    expect(env.APIGW_WS_API_ID).toEqual({ Ref: expect.stringMatching(/^WebSocketApi/) })
    expect(env.APIGW_WS_SECRET_SOURCE).toBeUndefined()
    lambda.resourceCountIs('AWS::ApiGatewayV2::RouteResponse', 3)
  })
})
