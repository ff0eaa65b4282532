/**
 * The production `ConnectionsTransport`: PostToConnection, DeleteConnection and GetConnection
 * through `@aws-sdk/client-apigatewaymanagementapi`. It keeps one SDK client per endpoint (so
 * connections of different APIs and stages each reach their own), leaves retries of throttling
 * and 5xx to the SDK's standard retry mode, and turns every outcome into a classified result:
 * nothing a single connection does makes it throw.
 */
import {
  ApiGatewayManagementApiClient,
  type ApiGatewayManagementApiClientConfig,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi'
import type {
  ConnectionInfo,
  ConnectionsTransport,
  ConnectionTarget,
  TransportFailure,
  TransportResult,
} from '../send/transport.js'
import { classifyError } from './classify.js'
import {
  defaultEndpoint,
  type EndpointOption,
  failure,
  isRegion,
  normalizeEndpoint,
} from './endpoint.js'

/** Default number of attempts per call (the first one plus up to two SDK retries). */
export const DEFAULT_MAX_ATTEMPTS = 3

/** Options of {@link awsConnections}. Validated once; invalid values throw `TypeError`. */
export interface AwsConnectionsOptions {
  /** AWS region of the APIs (used for the default endpoint and for SigV4 signing). */
  readonly region: string
  /** Credentials or a provider; defaults to the SDK's default provider chain. */
  readonly credentials?: ApiGatewayManagementApiClientConfig['credentials']
  /**
   * Attempts per call in the SDK's standard retry mode (integer 1–10, default
   * {@link DEFAULT_MAX_ATTEMPTS}). The SDK retries 429 and 5xx with jittered exponential backoff;
   * nothing else retries.
   */
  readonly maxAttempts?: number
  /**
   * Explicit `@connections` endpoint: a custom domain with its base path
   * (`https://ws.example.com/chat`), a local gateway (`http://127.0.0.1:8080/local`), or a
   * function of the target. Without it the endpoint is
   * `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}` from the stored connection.
   */
  readonly endpoint?: EndpointOption
  /** HTTP handler passed to every client (e.g. a `NodeHttpHandler` with custom agents). */
  readonly requestHandler?: ApiGatewayManagementApiClientConfig['requestHandler']
  /**
   * Replaces the SDK's standard retry strategy (and `maxAttempts`) in every client; for tuning
   * or tests. Pass one of the SDK's own strategies: the transport adds no retry layer of its own.
   */
  readonly retryStrategy?: ApiGatewayManagementApiClientConfig['retryStrategy']
}

/** The AWS transport, plus visibility into its client cache. */
export interface AwsConnections extends ConnectionsTransport {
  /** The endpoint calls for `target` go to, or the failure they resolve without a request. */
  endpointFor(target: ConnectionTarget): string | TransportFailure
  /** Endpoints that have a cached client, in the order the clients were created. */
  endpoints(): readonly string[]
  /** Destroys every cached client, closing idle sockets; later calls create fresh clients. */
  destroy(): void
}

/**
 * Creates the AWS transport. Calls never throw for a per-connection problem: API errors,
 * network errors, aborts, and targets without a usable endpoint (`NO_ENDPOINT`,
 * `INVALID_ENDPOINT`, resolved without any request) all resolve a `TransportFailure`. Clients
 * are created lazily, one per distinct endpoint, and shared by concurrent calls.
 */
export function awsConnections(options: AwsConnectionsOptions): AwsConnections {
  const { region, credentials, requestHandler, retryStrategy, endpoint } = validate(options)
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
  const fixedEndpoint = typeof endpoint === 'string' ? normalizeEndpoint(endpoint) : null
  const chooseEndpoint = typeof endpoint === 'function' ? endpoint : null
  const clients = new Map<string, ApiGatewayManagementApiClient>()

  function endpointFor(target: ConnectionTarget): string | TransportFailure {
    if (fixedEndpoint !== null) return fixedEndpoint
    if (chooseEndpoint === null) return defaultEndpoint(region, target)
    let chosen: unknown
    try {
      chosen = chooseEndpoint(target)
    } catch {
      return failure('INVALID_ENDPOINT')
    }
    if (chosen === null || chosen === undefined) return failure('NO_ENDPOINT')
    if (typeof chosen !== 'string') return failure('INVALID_ENDPOINT')
    if (clients.has(chosen)) return chosen
    return normalizeEndpoint(chosen) ?? failure('INVALID_ENDPOINT')
  }

  function clientFor(target: ConnectionTarget): ApiGatewayManagementApiClient | TransportFailure {
    const url = endpointFor(target)
    if (typeof url !== 'string') return url
    let client = clients.get(url)
    if (client === undefined) {
      client = new ApiGatewayManagementApiClient({
        region,
        endpoint: url,
        maxAttempts,
        retryMode: 'standard',
        // Resolving the middleware stack on every call is most of the SDK's per-call CPU cost;
        // the stack is never modified after creation, so it can be resolved once per command.
        cacheMiddleware: true,
        // The SDK annotates a credentials object it is given; pass a copy so a frozen or shared
        // object of the caller's works and is never modified.
        ...(credentials === undefined
          ? {}
          : { credentials: typeof credentials === 'object' ? { ...credentials } : credentials }),
        ...(requestHandler === undefined ? {} : { requestHandler }),
        ...(retryStrategy === undefined ? {} : { retryStrategy }),
      })
      clients.set(url, client)
    }
    return client
  }

  /**
   * Makes one SDK call for `target` and maps its output; every failure (no endpoint, abort, AWS
   * error, network) resolves a classified `TransportFailure`. Send options are `undefined`
   * without a signal: the SDK reuses its cached middleware only for calls made without options.
   */
  async function call<T>(
    target: ConnectionTarget,
    signal: AbortSignal | undefined,
    run: (
      client: ApiGatewayManagementApiClient,
      options: { abortSignal: AbortSignal } | undefined,
    ) => Promise<T>,
  ): Promise<T | TransportFailure> {
    if (signal?.aborted === true) return aborted()
    const client = clientFor(target)
    if (!(client instanceof ApiGatewayManagementApiClient)) return client
    try {
      return await run(client, signal === undefined ? undefined : { abortSignal: signal })
    } catch (error) {
      return classifyError(error, signal)
    }
  }

  return Object.freeze({
    post: (target, data, signal) =>
      call(target, signal, async (client, options) => {
        const command = new PostToConnectionCommand({
          ConnectionId: target.connectionId,
          Data: data,
        })
        return success((await client.send(command, options)).$metadata.attempts)
      }),

    delete: (target, signal) =>
      call(target, signal, async (client, options) => {
        const command = new DeleteConnectionCommand({ ConnectionId: target.connectionId })
        return success((await client.send(command, options)).$metadata.attempts)
      }),

    get: (target, signal) =>
      call(target, signal, async (client, options): Promise<ConnectionInfo> => {
        const command = new GetConnectionCommand({ ConnectionId: target.connectionId })
        const output = await client.send(command, options)
        return {
          ok: true,
          connectedAt: output.ConnectedAt?.getTime() ?? null,
          lastActiveAt: output.LastActiveAt?.getTime() ?? null,
          sourceIp: output.Identity?.SourceIp ?? null,
          userAgent: output.Identity?.UserAgent ?? null,
        }
      }),

    endpointFor,

    endpoints: () => [...clients.keys()],

    destroy() {
      for (const client of clients.values()) client.destroy()
      clients.clear()
    },
  } satisfies AwsConnections)
}

function success(attempts: number | undefined): TransportResult {
  return attempts === undefined ? { ok: true } : { ok: true, attempts }
}

function aborted(): TransportFailure {
  return { ok: false, code: 'ABORTED', gone: false, retryable: true }
}

function validate(options: AwsConnectionsOptions): AwsConnectionsOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('awsConnections: options must be an object')
  }
  if (!isRegion(options.region)) {
    throw new TypeError('awsConnections: options.region must be an AWS region such as "eu-west-1"')
  }
  const { maxAttempts, endpoint } = options
  if (
    maxAttempts !== undefined &&
    (typeof maxAttempts !== 'number' ||
      !Number.isInteger(maxAttempts) ||
      maxAttempts < 1 ||
      maxAttempts > 10)
  ) {
    throw new TypeError('awsConnections: options.maxAttempts must be an integer from 1 to 10')
  }
  if (typeof endpoint === 'string' && normalizeEndpoint(endpoint) === null) {
    throw new TypeError(
      'awsConnections: options.endpoint must be an absolute http(s) URL without query or fragment',
    )
  }
  if (endpoint !== undefined && typeof endpoint !== 'string' && typeof endpoint !== 'function') {
    throw new TypeError('awsConnections: options.endpoint must be a URL string or a function')
  }
  return options
}
