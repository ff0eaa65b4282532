/**
 * The Lambda integration (API Gateway's AWS_PROXY): each event is built by `lambda-events.ts`
 * and passed to an in-process handler; its `{ statusCode, headers?, body? }` result is read
 * like an HTTP response. A handler that throws or returns something else fails the call.
 */
import type { Backend, BackendResult } from './backend.js'
import type { GatewayClock } from './clock.js'
import { newGatewayId } from './ids.js'
import { connectEvent, disconnectEvent, type EventSettings, messageEvent } from './lambda-events.js'
import type { LambdaWebSocketEvent, LambdaWebSocketHandler } from './lambda-types.js'

/** Settings of the Lambda integration. */
export interface LambdaBackendOptions extends EventSettings {
  readonly handler: LambdaWebSocketHandler
  readonly timeoutMs: number
  readonly clock: GatewayClock
}

/** Creates the Lambda integration. See `Backend` for the failure contract. */
export function createLambdaBackend(options: LambdaBackendOptions): Backend {
  const { handler, timeoutMs, clock } = options
  const settings: EventSettings = { stage: options.stage, apiId: options.apiId }
  let destroyed = false
  const inflight = new Set<(error: Error) => void>()

  function invoke(event: LambdaWebSocketEvent): Promise<BackendResult> {
    if (destroyed) return Promise.reject(new Error('the gateway is closed'))
    return new Promise<BackendResult>((resolve, reject) => {
      let settled = false
      const fail = (error: Error): void => finish(error)
      const finish = (error: Error | null, result?: BackendResult): void => {
        if (settled) return
        settled = true
        clock.clearTimeout(timer)
        inflight.delete(fail)
        if (error) reject(error)
        else if (result) resolve(result)
      }
      const timer = clock.setTimeout(
        () => fail(new Error(`integration timeout after ${timeoutMs} ms`)),
        timeoutMs,
      )
      inflight.add(fail)
      Promise.resolve()
        .then(() => handler(event))
        .then(
          (result) => finish(null, readResult(result)),
          (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
        )
        .catch((error: unknown) => fail(error instanceof Error ? error : new Error(String(error))))
    })
  }

  return {
    connect: (client, call) => invoke(connectEvent(client, call, settings)),
    message: (client, call, message) =>
      invoke(
        messageEvent(client, call, settings, {
          route: message.route,
          text: message.text,
          messageId: newGatewayId(),
        }),
      ),
    disconnect: (client, call, close) => invoke(disconnectEvent(client, call, settings, close)),
    destroy() {
      if (!destroyed) {
        destroyed = true
        for (const fail of [...inflight]) fail(new Error('the gateway is closed'))
      }
      return Promise.resolve()
    },
  }
}

/** Reads a proxy result; throws when it is not `{ statusCode: <100..599>, … }`. */
function readResult(result: unknown): BackendResult {
  if (typeof result !== 'object' || result === null) {
    throw new TypeError('the Lambda handler returned no { statusCode } object')
  }
  const { statusCode, headers, body } = result as Record<string, unknown>
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    throw new TypeError('the Lambda handler returned an invalid statusCode')
  }
  const lower: Record<string, string> = {}
  if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === 'string') lower[name.toLowerCase()] = value
    }
  }
  return {
    status: statusCode,
    headers: lower,
    body: typeof body === 'string' && body.length > 0 ? body : null,
  }
}
