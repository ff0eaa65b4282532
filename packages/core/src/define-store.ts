/**
 * `defineStore`: turns a store's parts into the `Store` the gateway runs on. It checks once, at
 * construction, that every method exists; wraps each method with the argument checks every
 * store needs (so no store repeats them); fills `admit` with {@link admitBySteps} and
 * `admitMessage` with {@link admitMessageBySteps} when the store has no native ones; freezes the
 * result; and brands it, so `createGateway` can tell a checked store from a plain object — across
 * two installed copies of core too, since the brand is a registered symbol.
 */
import type {
  AdmitLimit,
  AdmitMessageRequest,
  AdmitMessageResult,
  AdmitRequest,
  AdmitResult,
  CleanupRequest,
  ConnectionFilter,
  LimitRule,
  NewConnection,
  PageRequest,
  Store,
  StoreParts,
  TokenRecord,
} from './store.js'
import { isChannel, isConnectionId } from './validators.js'

/** The brand `defineStore` puts on every store it returns. */
export const STORE_BRAND: unique symbol = Symbol.for('@apigw-ws/core.store') as never

/** Every method of the store SPI, by group: the one list `defineStore` and the test kits check. */
export const STORE_METHODS = {
  connections: [
    'create',
    'get',
    'touch',
    'disconnect',
    'channels',
    'subscribe',
    'unsubscribe',
    'list',
  ],
  tokens: ['put', 'consume'],
  limits: ['hit'],
} as const

const HASH = /^[0-9a-f]{64}$/

/** `true` when `value` is a store returned by `defineStore` (from any copy of core). */
export function isStore(value: unknown): value is Store {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [STORE_BRAND]?: unknown })[STORE_BRAND] === true
  )
}

/** An argument check: returns the problem, or `null` when the argument is fine. */
type Problem = string | null

function time(name: string, value: unknown): Problem {
  return typeof value === 'number' && Number.isFinite(value)
    ? null
    : `${name} must be a finite number of ms`
}

function integer(name: string, value: unknown, min: number): Problem {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min
    ? null
    : `${name} must be an integer of at least ${min}`
}

function connectionId(value: unknown): Problem {
  return isConnectionId(value) ? null : 'connectionId must match ^[A-Za-z0-9_=-]{1,128}$'
}

function channel(name: string, value: unknown): Problem {
  return isChannel(value) ? null : `${name} must match ^[A-Za-z0-9_-]{1,128}$`
}

function hash(name: string, value: unknown, nullable: boolean): Problem {
  if (nullable && value === null) return null
  return typeof value === 'string' && HASH.test(value)
    ? null
    : `${name} must be a lower-case hex SHA-256${nullable ? ' or null' : ''}`
}

function text(name: string, value: unknown, nullable: boolean): Problem {
  if (nullable && value === null) return null
  return typeof value === 'string' && value !== ''
    ? null
    : `${name} must be a non-empty string${nullable ? ' or null' : ''}`
}

function object(name: string, value: unknown): Problem {
  return typeof value === 'object' && value !== null ? null : `${name} must be an object`
}

function first(...problems: Problem[]): Problem {
  for (const problem of problems) if (problem !== null) return problem
  return null
}

function rule(name: string, value: unknown): Problem {
  const r = value as LimitRule
  return (
    object(name, value) ??
    first(integer(`${name}.limit`, r.limit, 0), integer(`${name}.windowMs`, r.windowMs, 1))
  )
}

function newConnection(value: unknown, withLists: boolean): Problem {
  const problem = object('connection', value)
  if (problem !== null) return problem
  const c = value as NewConnection
  const fields = first(
    connectionId(c.connectionId),
    withLists ? text('connection.userId', c.userId, true) : null,
    text('connection.apiId', c.apiId, true),
    text('connection.stage', c.stage, true),
    text('connection.domainName', c.domainName, true),
  )
  if (fields !== null || !withLists) return fields
  if (!Array.isArray(c.channels)) return 'connection.channels must be an array'
  for (const name of c.channels) {
    const bad = channel('connection.channels[]', name)
    if (bad !== null) return bad
  }
  return new Set(c.channels).size === c.channels.length
    ? null
    : 'connection.channels must not repeat a channel'
}

function filter(value: unknown): Problem {
  if (typeof value !== 'object' || value === null) return 'filter must be an object'
  const f = value as { userId?: unknown; channel?: unknown; all?: unknown }
  const set = (['userId', 'channel', 'all'] as const).filter((key) => f[key] !== undefined)
  const ok =
    set.length === 1 &&
    (set[0] === 'userId'
      ? typeof f.userId === 'string'
      : set[0] === 'channel'
        ? typeof f.channel === 'string'
        : f.all === true)
  return ok ? null : 'filter must set exactly one of userId (string), channel (string), all (true)'
}

function page(value: unknown): Problem {
  const problem = object('page', value)
  if (problem !== null) return problem
  const p = value as PageRequest
  const cursor = p.cursor
  return first(
    integer('page.limit', p.limit, 1),
    cursor === undefined || cursor === null || typeof cursor === 'string'
      ? null
      : 'page.cursor must be a string, null or absent',
  )
}

function token(value: unknown): Problem {
  const problem = object('token', value)
  if (problem !== null) return problem
  const t = value as TokenRecord
  return first(
    hash('token.hash', t.hash, false),
    text('token.userId', t.userId, false),
    hash('token.sessionHash', t.sessionHash, true),
    t.channel === null ? null : channel('token.channel', t.channel),
    time('token.expiresAt', t.expiresAt),
  )
}

/** A limit hit of an admit request (`{ key, rule }`), or `null` when disabled. */
function admitLimit(name: string, value: unknown): Problem {
  if (value === null) return null
  const limit = value as AdmitLimit
  return (
    object(name, value) ??
    first(text(`${name}.key`, limit.key, false), rule(`${name}.rule`, limit.rule))
  )
}

function admitRequest(value: unknown): Problem {
  const problem = object('request', value)
  if (problem !== null) return problem
  const r = value as AdmitRequest
  const user = r.userLimit
  return first(
    admitLimit('ipLimit', r.ipLimit),
    hash('tokenHash', r.tokenHash, false),
    hash('sessionHash', r.sessionHash, true),
    r.channel === null ? null : channel('channel', r.channel),
    user === null
      ? null
      : (object('userLimit', user) ??
          (typeof user.keyPrefix === 'string' ? null : 'userLimit.keyPrefix must be a string')),
    user === null ? null : rule('userLimit.rule', user.rule),
    newConnection(r.connection, false),
  )
}

function admitMessageRequest(value: unknown): Problem {
  const problem = object('request', value)
  if (problem !== null) return problem
  const r = value as AdmitMessageRequest
  return first(connectionId(r.connectionId), admitLimit('limit', r.limit))
}

function cleanupRequest(value: unknown): Problem {
  const problem = object('request', value)
  if (problem !== null) return problem
  const r = value as CleanupRequest
  return first(
    time('request.disconnectedBefore', r.disconnectedBefore),
    time('request.connectedBefore', r.connectedBefore),
    integer('request.batchSize', r.batchSize, 1),
  )
}

/**
 * Wraps `method` so that it rejects with a `TypeError` naming the method when `check` finds a
 * problem with its arguments, and otherwise calls it unchanged (with its group as `this`).
 */
function checked<A extends unknown[], R>(
  where: string,
  target: object,
  method: (...args: A) => Promise<R>,
  check: (...args: A) => Problem,
): (...args: A) => Promise<R> {
  return function checkedMethod(...args: A): Promise<R> {
    const problem = check(...args)
    if (problem !== null) return Promise.reject(new TypeError(`${where}: ${problem}`))
    try {
      return method.apply(target, args)
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

/**
 * The `admit` of a store that has no native one: the five steps of `Store.admit`, each through
 * the store's own atomic method, one after another. Correct for every store that passes
 * `testStore`; a store that can do it in one round trip implements `admit` for speed.
 */
export function admitBySteps(parts: Omit<StoreParts, 'admit' | 'cleanup'>) {
  return async function admit(request: AdmitRequest, now: number): Promise<AdmitResult> {
    if (request.ipLimit !== null) {
      const limit = await parts.limits.hit(request.ipLimit.key, request.ipLimit.rule, now)
      if (!limit.allowed) return { admitted: false, code: 'RATE_LIMITED', scope: 'ip', limit }
    }
    const consumed = await parts.tokens.consume(request.tokenHash, request.sessionHash, now)
    if (consumed === null) return { admitted: false, code: 'TOKEN_INVALID' }
    if (
      consumed.channel !== null &&
      request.channel !== null &&
      consumed.channel !== request.channel
    ) {
      return { admitted: false, code: 'TOKEN_CHANNEL_MISMATCH' }
    }
    if (request.userLimit !== null) {
      const { keyPrefix, rule } = request.userLimit
      const limit = await parts.limits.hit(keyPrefix + consumed.userId, rule, now)
      if (!limit.allowed) return { admitted: false, code: 'RATE_LIMITED', scope: 'user', limit }
    }
    const channel = request.channel ?? consumed.channel
    const { connectionId, apiId, stage, domainName } = request.connection
    const created = await parts.connections.create(
      {
        connectionId,
        userId: consumed.userId,
        channels: channel === null ? [] : [channel],
        apiId,
        stage,
        domainName,
      },
      now,
    )
    if (!created) return { admitted: false, code: 'CONNECTION_DUPLICATE' }
    return { admitted: true, token: consumed, channel }
  }
}

/**
 * The `admitMessage` of a store that has no native one: the two steps of `Store.admitMessage`,
 * each through the store's own atomic method, one after the other. Correct for every store that
 * passes `testStore`; a store that can do both in one round trip implements `admitMessage` for
 * speed.
 */
export function admitMessageBySteps(parts: Pick<StoreParts, 'connections' | 'limits'>) {
  return async function admitMessage(
    request: AdmitMessageRequest,
    now: number,
  ): Promise<AdmitMessageResult> {
    const connection = await parts.connections.touch(request.connectionId, now)
    if (connection === null) return { admitted: false, code: 'CONNECTION_UNKNOWN' }
    if (request.limit !== null) {
      const limit = await parts.limits.hit(request.limit.key, request.limit.rule, now)
      if (!limit.allowed) return { admitted: false, code: 'RATE_LIMITED', limit }
    }
    return { admitted: true, connection }
  }
}

function requireMethods(parts: StoreParts): void {
  if (typeof parts !== 'object' || parts === null) {
    throw new TypeError('defineStore: the store must be an object')
  }
  const missing: string[] = []
  for (const [group, names] of Object.entries(STORE_METHODS)) {
    const target = (parts as unknown as Record<string, Record<string, unknown> | undefined>)[group]
    for (const name of names) {
      if (typeof target !== 'object' || target === null || typeof target[name] !== 'function') {
        missing.push(`${group}.${name}`)
      }
    }
  }
  if (typeof parts.cleanup !== 'function') missing.push('cleanup')
  for (const name of ['admit', 'admitMessage'] as const) {
    if (parts[name] !== undefined && typeof parts[name] !== 'function') missing.push(name)
  }
  if (missing.length > 0) {
    throw new TypeError(`defineStore: missing or not a function: ${missing.join(', ')}`)
  }
}

/**
 * Builds a `Store` from its parts. Throws `TypeError` at once, listing every missing method,
 * unless every method of the SPI (`connections.create/get/touch/disconnect/channels/subscribe/
 * unsubscribe/list`, `tokens.put/consume`, `limits.hit`, `cleanup`) is a function; `admit` and
 * `admitMessage` are optional and default to {@link admitBySteps} and
 * {@link admitMessageBySteps}.
 *
 * Every method of the result checks its arguments before the store sees them — connection ids
 * and channels against the gateway's validators, token hashes as lower-case hex SHA-256, rules,
 * limits, pages, filters and times as sane numbers — and rejects with a `TypeError` naming the
 * method otherwise, so a store may rely on well-formed input. The result and its groups are
 * frozen and branded; passing a store that is already branded returns it unchanged.
 *
 * @example
 * ```ts
 * const store = defineStore({ connections, tokens, limits, cleanup })
 * ```
 */
export function defineStore(parts: StoreParts): Store {
  if (isStore(parts)) return parts
  requireMethods(parts)
  const { connections: c, tokens: t, limits: l } = parts
  const connections: Store['connections'] = Object.freeze({
    create: checked('connections.create', c, c.create, (connection, now) =>
      first(newConnection(connection, true), time('now', now)),
    ),
    get: checked('connections.get', c, c.get, connectionId),
    touch: checked('connections.touch', c, c.touch, (id, now) =>
      first(connectionId(id), time('now', now)),
    ),
    disconnect: checked('connections.disconnect', c, c.disconnect, (id, now) =>
      first(connectionId(id), time('now', now)),
    ),
    channels: checked('connections.channels', c, c.channels, connectionId),
    subscribe: checked('connections.subscribe', c, c.subscribe, (id, name, maxChannels) =>
      first(connectionId(id), channel('channel', name), integer('maxChannels', maxChannels, 1)),
    ),
    unsubscribe: checked('connections.unsubscribe', c, c.unsubscribe, (id, name) =>
      first(connectionId(id), channel('channel', name)),
    ),
    list: checked('connections.list', c, c.list, (f: ConnectionFilter, p: PageRequest) =>
      first(filter(f), page(p)),
    ),
  })
  const tokens: Store['tokens'] = Object.freeze({
    put: checked('tokens.put', t, t.put, token),
    consume: checked('tokens.consume', t, t.consume, (h, session, now) =>
      first(hash('hash', h, false), hash('sessionHash', session, true), time('now', now)),
    ),
  })
  const limits: Store['limits'] = Object.freeze({
    hit: checked('limits.hit', l, l.hit, (key, r, now) =>
      first(text('key', key, false), rule('rule', r), time('now', now)),
    ),
  })
  const admit =
    parts.admit === undefined
      ? admitBySteps({ connections, tokens, limits })
      : parts.admit.bind(parts)
  const admitMessage =
    parts.admitMessage === undefined
      ? admitMessageBySteps({ connections, limits })
      : parts.admitMessage.bind(parts)
  const store = {
    connections,
    tokens,
    limits,
    admit: checked('admit', parts, admit, (request, now) =>
      first(admitRequest(request), time('now', now)),
    ),
    admitMessage: checked('admitMessage', parts, admitMessage, (request, now) =>
      first(admitMessageRequest(request), time('now', now)),
    ),
    cleanup: checked('cleanup', parts, parts.cleanup, (request, now) =>
      first(cleanupRequest(request), time('now', now)),
    ),
  }
  Object.defineProperty(store, STORE_BRAND, { value: true })
  return Object.freeze(store) as Store
}
