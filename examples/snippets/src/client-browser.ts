// app/chat.ts: runs in the browser.
import { ClientError, createClient } from '@apigw-ws/client'
import type { AppHandlers } from './client-server.js'

const client = createClient<AppHandlers>({
  url: 'wss://ws.example.com/prod',
  token: { url: '/ws-token' }, // POST with the session cookie; a fresh token every connect
})

client.on('state', (state) => console.log('connection', state)) // connecting, open, reconnecting, closed
client.on('message', (push) => console.log('push', push))
client.on('error', (error) => {
  if (error.code === 'SIGNED_OUT') location.assign('/login')
})

try {
  await client.join('lobby')
  const reply = await client.request('chat', { room: 'lobby', text: 'hello' }) // { sent: boolean }
  console.log(reply.sent)
} catch (error) {
  if (error instanceof ClientError && error.code === 'REFUSED') {
    console.log(`refused: ${error.status} ${error.message}`) // e.g. 403 Forbidden
  }
}
