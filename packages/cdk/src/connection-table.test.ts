import { tableDefinition } from '@apigw-ws/store-dynamodb'
import { App, Stack } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import * as iam from 'aws-cdk-lib/aws-iam'
import { beforeAll, describe, expect, it } from 'vitest'
import { CONNECTION_TABLE_ACTIONS, ConnectionTable } from './index.js'

interface TableProperties {
  readonly KeySchema: unknown[]
  readonly AttributeDefinitions: { AttributeName: string; AttributeType: string }[]
  readonly GlobalSecondaryIndexes: {
    IndexName: string
    KeySchema: unknown[]
    Projection: unknown
  }[]
  readonly BillingMode: string
  readonly TimeToLiveSpecification: unknown
}

describe('ConnectionTable', () => {
  let template: Template
  let table: TableProperties
  beforeAll(() => {
    const stack = new Stack(new App(), 'Tables', {
      env: { account: '123456789012', region: 'eu-west-1' },
    })
    const connections = new ConnectionTable(stack, 'Connections', { tableName: 'apigw-ws' })
    const role = new iam.Role(stack, 'Backend', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    })
    connections.grantStoreAccess(role)
    template = Template.fromStack(stack)
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'))
    expect(tables).toHaveLength(1)
    table = (tables[0] as { Properties: TableProperties }).Properties
  })

  it('has exactly the key schema, attributes and indexes the store creates for itself', () => {
    const expected = tableDefinition({ tableName: 'apigw-ws' })
    const sorted = <T>(items: readonly T[], key: (item: T) => string | undefined): T[] =>
      [...items].sort((a, b) => String(key(a)).localeCompare(String(key(b))))
    expect(table.KeySchema).toEqual(expected.KeySchema)
    expect(sorted(table.AttributeDefinitions, (a) => a.AttributeName)).toEqual(
      sorted(expected.AttributeDefinitions ?? [], (a) => a.AttributeName),
    )
    expect(sorted(table.GlobalSecondaryIndexes, (i) => i.IndexName)).toEqual(
      sorted(expected.GlobalSecondaryIndexes ?? [], (i) => i.IndexName).map(
        ({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection }),
      ),
    )
    expect(table.BillingMode).toBe('PAY_PER_REQUEST')
  })

  it('sets TTL on the ttl attribute and retains the table when the stack goes', () => {
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true })
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    })
  })

  it('grants the store exactly its actions on the table and its indexes', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
    expect(policies).toHaveLength(1)
    const statements = (
      policies[0] as { Properties: { PolicyDocument: { Statement: { Action: string[] }[] } } }
    ).Properties.PolicyDocument.Statement
    expect(statements).toHaveLength(1)
    expect([...(statements[0]?.Action ?? [])].sort()).toEqual([...CONNECTION_TABLE_ACTIONS].sort())
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Allow',
            Resource: [
              { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConnectionsTable'), 'Arn'] },
              {
                'Fn::Join': [
                  '',
                  [
                    { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConnectionsTable'), 'Arn'] },
                    '/index/*',
                  ],
                ],
              },
            ],
          }),
        ],
      },
    })
  })
})
