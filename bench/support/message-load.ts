/**
 * The message load the HTTP benchmarks share: `count` connections seeded in a store, and one
 * message event per connection as API Gateway's HTTP integration delivers it (headers mapped by
 * the integration, the secret, a JSON body naming the `echo` handler).
 */
import type { Store } from '@apigw-ws/core'
import type { WrkRequest } from './wrk.js'

/** The API id every bench connection arrived through. */
export const BENCH_API_ID = 'benchapi01'

/** The id of bench connection `i`. */
export function benchConnectionId(i: number): string {
  return `benchConn${String(i).padStart(6, '0')}=`
}

/** Creates connections `0 … count - 1` in `store`, connected now. */
export async function seedConnections(store: Store, count: number): Promise<void> {
  const now = Date.now()
  for (let i = 0; i < count; i++) {
    await store.connections.create(
      {
        connectionId: benchConnectionId(i),
        userId: `user-${i}`,
        channels: [],
        apiId: BENCH_API_ID,
        stage: 'bench',
        domainName: null,
      },
      now,
    )
  }
}

/** One `echo` message event per connection, carrying `secret`. */
export function messageRequests(count: number, secret: string): WrkRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    path: '/ws/default',
    headers: {
      connectionid: benchConnectionId(i),
      'x-amzn-apigateway-api-id': BENCH_API_ID,
      'x-amzn-trace-id': `Root=1-67890abc-${String(i).padStart(24, '0')}`,
      'x-forwarded-for': '203.0.113.10',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      'user-agent': `AmazonAPIGateway_${BENCH_API_ID}`,
      'content-type': 'application/json',
      'x-apigw-secret': secret,
    },
    body: JSON.stringify({ action: 'echo', text: `hello from ${i}` }),
  }))
}
