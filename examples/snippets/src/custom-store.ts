import {
  type CleanupCounts,
  type CleanupRequest,
  type ConnectionFilter,
  type ConnectionRecord,
  defineStore,
  type LimitResult,
  type LimitRule,
  type NewConnection,
  type Page,
  type PageRequest,
  type Store,
  type SubscribeResult,
  type TokenRecord,
} from '@apigw-ws/core'

interface Row extends ConnectionRecord {
  readonly channels: readonly string[]
}
interface TokenRow extends TokenRecord {
  readonly used: boolean
}
interface Window {
  readonly count: number
  readonly resetAt: number
}

/**
 * A store kept in three Maps. Every atomic promise holds because each method reads and writes
 * its Map with no `await` in between: nothing else can run between the check and the write.
 * A networked store must keep the same promises with one conditional statement per method.
 */
export function mapStore(): Store {
  const connections = new Map<string, Row>()
  const tokens = new Map<string, TokenRow>()
  const windows = new Map<string, Window>()

  const record = ({ channels: _, ...rest }: Row): ConnectionRecord => rest
  const matches = (row: Row, filter: ConnectionFilter): boolean =>
    row.disconnectedAt === null &&
    ('all' in filter ||
      ('userId' in filter ? row.userId === filter.userId : row.channels.includes(filter.channel)))

  return defineStore({
    connections: {
      async create(connection: NewConnection, now: number): Promise<boolean> {
        if (connections.has(connection.connectionId)) return false
        const { channels, ...rest } = connection
        connections.set(connection.connectionId, {
          ...rest,
          channels: [...new Set(channels)],
          connectedAt: now,
          lastSeenAt: now,
          requestCount: 0,
          disconnectedAt: null,
        })
        return true
      },
      async get(connectionId) {
        const row = connections.get(connectionId)
        return row === undefined ? null : record(row)
      },
      async touch(connectionId, now) {
        const row = connections.get(connectionId)
        if (row === undefined || row.disconnectedAt !== null) return null
        const next = { ...row, lastSeenAt: now, requestCount: row.requestCount + 1 }
        connections.set(connectionId, next)
        return record(next)
      },
      async disconnect(connectionId, now) {
        const row = connections.get(connectionId)
        if (row === undefined || row.disconnectedAt !== null) return false
        connections.set(connectionId, { ...row, disconnectedAt: now })
        return true
      },
      async channels(connectionId) {
        return connections.get(connectionId)?.channels ?? []
      },
      async subscribe(connectionId, channel, maxChannels): Promise<SubscribeResult> {
        const row = connections.get(connectionId)
        if (row === undefined || row.disconnectedAt !== null) return 'gone'
        if (row.channels.includes(channel)) return 'subscribed'
        if (row.channels.length >= maxChannels) return 'limit'
        connections.set(connectionId, { ...row, channels: [...row.channels, channel] })
        return 'subscribed'
      },
      async unsubscribe(connectionId, channel) {
        const row = connections.get(connectionId)
        if (row === undefined || !row.channels.includes(channel)) return false
        connections.set(connectionId, {
          ...row,
          channels: row.channels.filter((c) => c !== channel),
        })
        return true
      },
      async list(filter: ConnectionFilter, page: PageRequest): Promise<Page<ConnectionRecord>> {
        // Code-unit order, and strictly after the cursor: pages never overlap or skip.
        const after = page.cursor ?? null
        const ids = [...connections.keys()]
          .filter((id) => after === null || id > after)
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        const items: ConnectionRecord[] = []
        for (const id of ids) {
          const row = connections.get(id) as Row
          if (!matches(row, filter)) continue
          items.push(record(row))
          if (items.length === page.limit) break
        }
        const last = items.at(-1)
        const more =
          last !== undefined &&
          ids.some((id) => id > last.connectionId && matches(connections.get(id) as Row, filter))
        return { items, nextCursor: more ? (last?.connectionId ?? null) : null }
      },
    },
    tokens: {
      async put(token: TokenRecord): Promise<boolean> {
        if (tokens.has(token.hash)) return false
        tokens.set(token.hash, { ...token, used: false })
        return true
      },
      async consume(hash, sessionHash, now) {
        const row = tokens.get(hash)
        if (row === undefined || row.used || row.expiresAt <= now) return null
        if (row.sessionHash !== null && row.sessionHash !== sessionHash) return null
        tokens.set(hash, { ...row, used: true })
        const { used: _, ...token } = row
        return token
      },
    },
    limits: {
      async hit(key: string, rule: LimitRule, now: number): Promise<LimitResult> {
        const current = windows.get(key)
        const next =
          current === undefined || now >= current.resetAt
            ? { count: 1, resetAt: now + rule.windowMs }
            : { count: current.count + 1, resetAt: current.resetAt }
        windows.set(key, next)
        return { allowed: next.count <= rule.limit, ...next }
      },
    },
    // No `admit` or `admitMessage`: defineStore composes them from the methods above, in the
    // gateway's order.
    async cleanup(request: CleanupRequest, now: number): Promise<CleanupCounts> {
      const sweep = <T>(map: Map<string, T>, expired: (value: T) => boolean): number => {
        let deleted = 0
        for (const [key, value] of map) {
          if (deleted === request.batchSize) break
          if (expired(value)) {
            map.delete(key)
            deleted++
          }
        }
        return deleted
      }
      return {
        tokens: sweep(tokens, (t) => t.used || t.expiresAt <= now),
        rateLimits: sweep(windows, (w) => w.resetAt <= now),
        connections: sweep(
          connections,
          (c) =>
            c.connectedAt <= request.connectedBefore ||
            (c.disconnectedAt !== null && c.disconnectedAt <= request.disconnectedBefore),
        ),
      }
    },
  })
}
