import { createGateway, defineHandler } from '@apigw-ws/core'
import { fakeClock, httpRequests } from '@apigw-ws/core/testing'
import { memoryStore } from '@apigw-ws/store-memory'
import { expect, it } from 'vitest'

it('greets the user who sent the message', async () => {
  const gateway = createGateway({
    store: memoryStore(),
    clock: fakeClock(),
    integrationSecret: 'test-secret-0123456789',
    allowedOrigins: ['https://app.example.com'],
    handlers: { hello: defineHandler({ handle: (ctx) => ({ hi: ctx.userId }) }) },
  })
  const api = httpRequests({ secret: 'test-secret-0123456789' })
  const issued = await gateway.issueToken({
    method: 'POST',
    headers: { origin: 'https://app.example.com' },
    userId: 'ada',
  })
  const { token } = JSON.parse(issued.body ?? '{}') as { token: string }

  expect((await gateway.handle(api.connect({ connectionId: 'conn1=', token }))).status).toBe(200)
  const reply = await gateway.handle(
    api.message({ connectionId: 'conn1=', body: { action: 'hello' } }),
  )
  expect(JSON.parse(reply.body ?? '')).toEqual({ hi: 'ada' })
})
