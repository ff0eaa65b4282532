import { DescribeTableCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LocalDynamo, startDynalite } from '../test/dynalite.js'
import { countCommands } from '../test/middleware.js'
import { createTable, TABLE_LAYOUT, tableDefinition } from './index.js'

let dynamo: LocalDynamo
beforeAll(async () => {
  dynamo = await startDynalite()
})
afterAll(async () => {
  await dynamo.close()
})

describe('tableDefinition', () => {
  it('is the documented layout: pk/sk and three KEYS_ONLY indexes, on demand by default', () => {
    const input = tableDefinition({ tableName: 'apigw-ws' })
    expect(input.BillingMode).toBe('PAY_PER_REQUEST')
    expect(input.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ])
    expect(
      input.GlobalSecondaryIndexes?.map((index) => [
        index.IndexName,
        ...(index.KeySchema ?? []).map((part) => part.AttributeName),
        index.Projection?.ProjectionType,
      ]),
    ).toEqual([
      ['lookup', 'lookupPk', 'lookupSk', 'KEYS_ONLY'],
      ['status', 'statusPk', 'statusSk', 'KEYS_ONLY'],
      ['sweep', 'sweepPk', 'sweepAt', 'KEYS_ONLY'],
    ])
    const types = Object.fromEntries(
      (input.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]),
    )
    expect(types).toEqual({
      pk: 'S',
      sk: 'S',
      lookupPk: 'S',
      lookupSk: 'S',
      statusPk: 'S',
      statusSk: 'S',
      sweepPk: 'S',
      sweepAt: 'N',
    })
    expect(TABLE_LAYOUT.ttlAttribute).toBe('ttl')
  })

  it('gives every index the provisioned capacity of the table', () => {
    const input = tableDefinition({
      tableName: 'apigw-ws',
      billing: { mode: 'PROVISIONED', readCapacityUnits: 5, writeCapacityUnits: 7 },
    })
    const capacity = { ReadCapacityUnits: 5, WriteCapacityUnits: 7 }
    expect(input.BillingMode).toBe('PROVISIONED')
    expect(input.ProvisionedThroughput).toEqual(capacity)
    for (const index of input.GlobalSecondaryIndexes ?? []) {
      expect(index.ProvisionedThroughput, index.IndexName).toEqual(capacity)
    }
  })

  it('refuses invalid names and capacities with TypeError', () => {
    for (const tableName of ['', 'ab', 'has space', 'x'.repeat(256), 42]) {
      expect(() => tableDefinition({ tableName } as never), String(tableName)).toThrow(TypeError)
    }
    expect(() =>
      tableDefinition({
        tableName: 'apigw-ws',
        billing: { mode: 'PROVISIONED', readCapacityUnits: 0, writeCapacityUnits: 1 },
      }),
    ).toThrow(/readCapacityUnits/)
    expect(() =>
      tableDefinition({ tableName: 'apigw-ws', billing: { mode: 'FREE' } as never }),
    ).toThrow(/billing.mode/)
  })
})

describe('createTable', () => {
  it('creates an ACTIVE table with the layout', async () => {
    const client = dynamo.client()
    await createTable(client, { tableName: 'created-here', timeToLive: false })
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'created-here' }))
    expect(Table?.TableStatus).toBe('ACTIVE')
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual([
      'lookup',
      'status',
      'sweep',
    ])
  })

  it('turns TTL on by default (dynalite has no UpdateTimeToLive, hence the option)', async () => {
    const client = dynamo.client()
    const sent = countCommands(client)
    await expect(createTable(client, { tableName: 'with-ttl' })).rejects.toThrow()
    expect(sent.get('UpdateTimeToLive')).toBe(1)
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'with-ttl' }))
    expect(Table?.TableStatus).toBe('ACTIVE')
  })

  it('rejects when the table exists', async () => {
    const client = dynamo.client()
    await createTable(client, { tableName: 'twice', timeToLive: false })
    await expect(createTable(client, { tableName: 'twice', timeToLive: false })).rejects.toThrow()
  })
})
