/**
 * Test support (not published): the AWS SDK's own standard retry strategy with a 1 ms backoff,
 * so retry tests exercise the real SDK classification (429, 5xx) without its up-to-a-second
 * jittered delays. `@smithy/core` is loaded from the client package's own dependency tree, so
 * the strategy is the exact version the client uses; core declares no dependency on it.
 */
import { createRequire } from 'node:module'
import type { ApiGatewayManagementApiClientConfig } from '@aws-sdk/client-apigatewaymanagementapi'

type RetryStrategy = NonNullable<ApiGatewayManagementApiClientConfig['retryStrategy']>

interface BackoffStrategy {
  computeNextBackoffDelay(retryAttempt: number): number
  setDelayBase(delay: number): void
}

interface SmithyRetry {
  readonly StandardRetryStrategy: new (options: {
    maxAttempts: number
    backoff?: BackoffStrategy
  }) => RetryStrategy
}

const fromClient = createRequire(
  createRequire(import.meta.url).resolve('@aws-sdk/client-apigatewaymanagementapi'),
)
const smithyRetry = fromClient('@smithy/core/retry') as SmithyRetry

/** A fresh SDK `StandardRetryStrategy` allowing `maxAttempts` attempts, 1 ms apart. */
export function fastRetry(maxAttempts: number): RetryStrategy {
  return new smithyRetry.StandardRetryStrategy({
    maxAttempts,
    backoff: { computeNextBackoffDelay: () => 1, setDelayBase: () => {} },
  })
}

/** Dummy credentials: the local server does not verify signatures. */
export const testCredentials = { accessKeyId: 'test', secretAccessKey: 'test' } as const
