import { createManualClock, startLocalGateway } from '@apigw-ws/local-gateway'

const clock = createManualClock()
const gateway = await startLocalGateway({
  integration: { type: 'http', baseUrl: 'http://127.0.0.1:3000/ws' },
  clock,
  idleTimeoutMs: 60_000,
})
// … connect a client …
clock.advance(60_000) // the client is closed with 1001 and the backend gets $disconnect
await gateway.close()
