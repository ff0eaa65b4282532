/**
 * The writer of core's responses to Node's `ServerResponse` (the header copy and the body reader
 * come from `@apigw-ws/core/adapter`: `nodeHeaders`, `readNodeBody`). Nothing here decides
 * anything.
 */
import type { ServerResponse } from 'node:http'
import type { GatewayResponse } from '@apigw-ws/core'

/**
 * Writes core's response: status, every header (a `Set-Cookie` is appended, so cookies the app
 * already set survive), and the body. With `closeConnection` the socket is closed after the
 * response, for requests whose body was left unread: Node would otherwise read and discard all
 * of it to reuse the connection.
 */
export function writeResponse(
  res: ServerResponse,
  response: GatewayResponse,
  closeConnection: boolean,
): void {
  res.statusCode = response.status
  for (const name of Object.keys(response.headers)) {
    const value = response.headers[name] as string
    if (name.toLowerCase() === 'set-cookie') res.appendHeader('set-cookie', value)
    else res.setHeader(name, value)
  }
  if (closeConnection) res.setHeader('connection', 'close')
  res.end(response.body ?? undefined)
}
