import type { Sender } from '@apigw-ws/core'

// Run every few minutes (a scheduled Lambda, a cron job). Connections silent for 10 minutes
// are checked with GetConnection; the ones API Gateway no longer knows are marked
// disconnected, so a `$disconnect` that never arrived cannot leave them in channels forever.
export async function sweepIdleConnections(send: Sender): Promise<number> {
  const report = await send.verifyConnections({
    idleMs: 10 * 60_000,
    deadline: Date.now() + 60_000,
  })
  return report.gone.length
}
