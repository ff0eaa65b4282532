/**
 * `pnpm demo`: starts the chat demo on loopback with an SQLite file under `.data/` and prints
 * where to open it. Ports: `PORT` (default 3000) for the page, `GATEWAY_PORT` (default 3001) for
 * the local API Gateway.
 */
import { fileURLToPath } from 'node:url'
import { startChat } from './start-chat.js'

const chat = await startChat({
  port: Number(process.env.PORT ?? 3000),
  gatewayPort: Number(process.env.GATEWAY_PORT ?? 3001),
  databaseFile: fileURLToPath(new URL('../.data/chat.sqlite', import.meta.url)),
})

console.log(`
  apigw-ws chat demo

  Open      ${chat.url}   (two browser windows: sign in as two people)
  Sockets   ${chat.webSocketUrl}   (local API Gateway)
  Sending   ${chat.managementEndpoint}/@connections/{id}
  Admin     sign in with the admin code ${chat.adminCode} to enter the admin-only room "staff"

  Ctrl+C to stop.
`)

const stop = () => {
  chat.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
