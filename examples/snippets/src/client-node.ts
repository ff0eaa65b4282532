// A Node service or script: `ws` sends the Origin the gateway checks.
import { createClient } from '@apigw-ws/client'
import { WebSocket } from 'ws'
import type { AppHandlers } from './client-server.js'

const origin = 'https://app.example.com'
await using client = createClient<AppHandlers>({
  url: 'wss://ws.example.com/prod',
  // Node has no cookies or Origin of its own: send what the token route expects.
  token: {
    url: 'https://app.example.com/ws-token',
    headers: { origin, authorization: 'Bearer …' },
  },
  createSocket: (url) => new WebSocket(url, { origin }),
})
await client.request('chat', { room: 'ops', text: 'deploy finished' })
