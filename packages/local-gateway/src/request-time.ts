/**
 * Formats `requestContext.requestTime` the way API Gateway does: the CLF timestamp
 * `19/Feb/2024:07:11:42 +0000`, always in UTC.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

const two = (n: number): string => String(n).padStart(2, '0')

/** Formats epoch milliseconds as `dd/Mon/yyyy:HH:mm:ss +0000` (UTC). */
export function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs)
  const month = MONTHS[d.getUTCMonth()] ?? 'Jan'
  return (
    `${two(d.getUTCDate())}/${month}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  )
}
