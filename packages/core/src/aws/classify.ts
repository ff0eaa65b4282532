/**
 * Turns what the AWS SDK throws into a `TransportFailure`. The SDK has already retried what its
 * standard retry mode retries (throttling, 5xx, transient network errors), so this only names
 * the final outcome: gone, not worth retrying, or worth retrying later.
 */
import type { TransportFailure } from '../send/transport.js'

// Names the SDK uses when the response named no modeled or header-provided error type.
const UNNAMED = new Set(['Unknown', 'UnknownError', 'Error'])
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,99}$/
const NODE_ERROR_CODE = /^E[A-Z0-9_]{1,40}$/

interface SdkErrorShape {
  readonly name?: unknown
  readonly code?: unknown
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly attempts?: unknown }
}

/**
 * Classifies an SDK error:
 * - aborted (the call's signal fired, or `AbortError`) → `ABORTED`, retryable;
 * - `GoneException`, or HTTP 410 whatever its error type header → gone, not retryable;
 * - any other HTTP response: code is the AWS error name when the response named one, else
 *   `HTTP_<status>`; retryable for 429 (`LimitExceededException`) and 5xx, not for other 4xx
 *   (`ForbiddenException` 403, `PayloadTooLargeException` 413, …);
 * - no HTTP response (network failure, timeout): the Node error code (`ECONNREFUSED`, …) or the
 *   error's name, retryable.
 */
export function classifyError(error: unknown, signal?: AbortSignal): TransportFailure {
  const shape: SdkErrorShape = typeof error === 'object' && error !== null ? error : {}
  const name = typeof shape.name === 'string' ? shape.name : 'Error'
  const status = shape.$metadata?.httpStatusCode
  const attempts = shape.$metadata?.attempts
  const extra = {
    ...(typeof status === 'number' ? { status } : {}),
    ...(typeof attempts === 'number' ? { attempts } : {}),
  }
  if (signal?.aborted === true || name === 'AbortError') {
    return { ok: false, code: 'ABORTED', gone: false, retryable: true, ...extra }
  }
  if (name === 'GoneException' || status === 410) {
    const code = name === 'GoneException' ? name : 'HTTP_410'
    return { ok: false, code, gone: true, retryable: false, ...extra }
  }
  if (typeof status === 'number') {
    const named = !UNNAMED.has(name) && IDENTIFIER.test(name)
    const retryable = status === 429 || status >= 500 || name === 'LimitExceededException'
    return { ok: false, code: named ? name : `HTTP_${status}`, gone: false, retryable, ...extra }
  }
  const code =
    typeof shape.code === 'string' && NODE_ERROR_CODE.test(shape.code)
      ? shape.code
      : IDENTIFIER.test(name)
        ? name
        : 'NETWORK_ERROR'
  return { ok: false, code, gone: false, retryable: true, ...extra }
}
