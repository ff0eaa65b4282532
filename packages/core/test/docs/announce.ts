import type { Sender } from '@apigw-ws/core'

// Announces to everyone, starting no new request after 20 seconds (say, inside a 30-second
// Lambda). Returns the connections worth trying again later; gone ones are already pruned.
export async function announce(send: Sender, text: string): Promise<string[]> {
  const deadline = Date.now() + 20_000
  const report = await send.broadcast({ type: 'announcement', text }, { deadline })
  if (report.aborted) console.warn('announcement cut short; run it again to reach the rest')
  for (const { connectionId, code, retryable } of report.failed) {
    if (!retryable) console.warn(`not delivered to ${connectionId}: ${code}`)
  }
  return report.failed.filter((f) => f.retryable).map((f) => f.connectionId)
}
