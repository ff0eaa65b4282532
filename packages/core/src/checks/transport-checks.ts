/**
 * Checks that apply to every route, before any state is read: body size, the integration secret,
 * the API Gateway request shape, and the connection id; and, on `$connect`, the attributes that
 * say where the connection is reached. None of them touches the store.
 *
 * The shape check (API id, User-Agent) is a consistency check, not authentication: anyone can
 * send those headers. Authentication of API Gateway is the integration secret in HTTP mode and
 * the Lambda invocation itself in Lambda mode.
 */
import { bodyExceeds } from '../body.js'
import { reject } from '../rejections.js'
import { digestsEqual, sha256 } from '../sha256.js'
import { isApiId, isConnectionId, isDomainName, isStage } from '../validators.js'
import type { RequestState, StepResult } from './request-state.js'

/** API Gateway's `User-Agent` on integration calls is this prefix followed by the API id. */
const AGENT_PREFIX = 'AmazonAPIGateway_'

/** Body no larger than `maxBodyBytes` UTF-8 bytes, measured before any parsing. */
export function bodySize<TUser>(state: RequestState<TUser>): StepResult {
  const max = state.config.maxBodyBytes
  if (bodyExceeds(state.request.body, max)) return reject('BODY_TOO_LARGE')
  return undefined
}

/**
 * HTTP mode: the secret header equals one of the configured secrets (constant time on digests;
 * every secret is compared, so timing does not reveal which one matched). Lambda events are
 * trusted; in `integration: 'lambda'` mode anything that is not a Lambda event is refused.
 */
export function integrationSecret<TUser>(state: RequestState<TUser>): StepResult {
  const { config, request } = state
  if (request.lambda) return undefined
  if (config.integration === 'lambda')
    return reject('SECRET_INVALID', 'http request in lambda mode')
  if (config.secretDigests.length === 0) return undefined
  const presented: unknown = request.headers[config.secretHeader]
  if (typeof presented !== 'string') return reject('SECRET_INVALID', 'missing')
  const digest = sha256(presented)
  let matched = false
  for (const secret of config.secretDigests) matched = digestsEqual(digest, secret) || matched
  return matched ? undefined : reject('SECRET_INVALID', 'mismatch')
}

/**
 * API Gateway consistency. HTTP mode: the API id header is present (and allowed, when `apiIds` is
 * set), and disconnect and message calls carry `User-Agent: AmazonAPIGateway_<apiId>` for that
 * same id, whether or not ids are pinned. Lambda mode: only a pinned `apiIds` list is checked.
 */
export function gatewayShape<TUser>(state: RequestState<TUser>): StepResult {
  const { config, request } = state
  if (request.lambda) {
    // The invocation itself is authentic; only a pinned API id is checked (emulators such as
    // Architect's sandbox omit the id, which matters only when ids are pinned).
    const apiId = request.lambda.apiId
    if (config.apiIds === null) return undefined
    return apiId !== null && config.apiIds.has(apiId)
      ? undefined
      : reject('GATEWAY_SHAPE_INVALID', 'api id not allowed')
  }
  const apiId = request.headers['x-amzn-apigateway-api-id'] ?? null
  if (apiId === null || apiId === '') return reject('GATEWAY_SHAPE_INVALID', 'no api id')
  if (config.apiIds !== null && !config.apiIds.has(apiId)) {
    return reject('GATEWAY_SHAPE_INVALID', 'api id not allowed')
  }
  if (state.route !== '$connect') {
    const agent = request.headers['user-agent']
    const matches =
      agent !== undefined &&
      agent.length === AGENT_PREFIX.length + apiId.length &&
      agent.startsWith(AGENT_PREFIX) &&
      agent.endsWith(apiId)
    if (!matches) return reject('GATEWAY_SHAPE_INVALID', 'user agent')
  }
  return undefined
}

/** The connection id, only from `requestContext` (Lambda) or the mapped `connectionid` header. */
export function connectionId<TUser>(state: RequestState<TUser>): StepResult {
  const { request } = state
  const id = request.lambda ? request.lambda.connectionId : request.headers.connectionid
  if (!isConnectionId(id)) return reject('CONNECTION_ID_INVALID')
  state.connectionId = id
  return undefined
}

/** A header named by an option: `null` when unnamed, else its valid value or `undefined`. */
function mappedHeader(
  headers: Readonly<Record<string, string>>,
  name: string | null,
  isValid: (value: unknown) => value is string,
): string | null | undefined {
  if (name === null) return null
  const value = headers[name]
  return isValid(value) ? value : undefined
}

/**
 * `$connect`: where the connection is reached. Lambda mode takes `requestContext` (trusted),
 * keeping only values that pass the same validators the sender applies. HTTP mode reads a stage
 * or domain header only when an option names it (`stageHeader`, `domainNameHeader`); a named
 * header must be present and valid, because API Gateway forwards the client's own headers on
 * `$connect` and only the integration's mapping overwrites them. The API id is kept only when
 * `apiIds` pins it (`gatewayShape` has then checked it); otherwise it is `null`.
 */
export function connectionAttributes<TUser>(state: RequestState<TUser>): StepResult {
  const { config, request } = state
  const lambda = request.lambda
  if (lambda) {
    state.attributes = {
      apiId: isApiId(lambda.apiId) ? lambda.apiId : null,
      stage: isStage(lambda.stage) ? lambda.stage : null,
      domainName: isDomainName(lambda.domainName) ? lambda.domainName : null,
    }
    return undefined
  }
  const stage = mappedHeader(request.headers, config.stageHeader, isStage)
  if (stage === undefined) return reject('GATEWAY_SHAPE_INVALID', 'stage header')
  const domainName = mappedHeader(request.headers, config.domainNameHeader, isDomainName)
  if (domainName === undefined) return reject('GATEWAY_SHAPE_INVALID', 'domain name header')
  const apiId = request.headers['x-amzn-apigateway-api-id']
  state.attributes = {
    apiId: config.apiIds !== null && isApiId(apiId) ? apiId : null,
    stage,
    domainName,
  }
  return undefined
}
