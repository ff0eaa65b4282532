/**
 * SDK middleware for tests: count the commands a client sends, and interrupt one of them, as a
 * crash or a lost response would, to prove that the store's ordered writes are safe when cut
 * off at any point.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'

/** Counts commands by name (one per API call, retries excluded). */
export function countCommands(client: DynamoDBClient): Map<string, number> {
  const counts = new Map<string, number>()
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '')
      counts.set(name, (counts.get(name) ?? 0) + 1)
      return next(args)
    },
    { step: 'initialize', name: 'apigwWsCountCommands' },
  )
  return counts
}

/** The error an interrupted command rejects with. */
export class Interrupted extends Error {
  constructor(readonly command: string) {
    super(`interrupted after ${command}`)
    this.name = 'Interrupted'
  }
}

/**
 * Makes the `at`-th command from now (1-based) reach DynamoDB and take effect, then reject with
 * {@link Interrupted} instead of answering, and every later command reject before it is sent:
 * the process "dies" right after that write. `at: 0` disarms.
 */
export function interruptAfter(client: DynamoDBClient): (at: number) => void {
  let remaining = 0
  let dead = false
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown')
      if (dead) throw new Interrupted(`(dead) ${name}`)
      const result = await next(args)
      if (remaining > 0) {
        remaining -= 1
        if (remaining === 0) {
          dead = true
          throw new Interrupted(name)
        }
      }
      return result
    },
    { step: 'initialize', name: 'apigwWsInterrupt' },
  )
  return (at) => {
    remaining = at
    dead = false
  }
}
