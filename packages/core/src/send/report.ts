/**
 * The outcome of one send call. A report accounts for every recipient the call took on exactly
 * once (delivered, gone or failed), so callers can retry precisely the retryable failures and
 * operators can alert on codes. The builder here is the only place reports are assembled.
 */
import type { SendCompletedEvent } from '../events.js'

/** One recipient the call could not reach. */
export interface SendFailure {
  readonly connectionId: string
  /**
   * Stable code: the AWS error name when known (`ForbiddenException`, `LimitExceededException`,
   * …), `HTTP_<status>` otherwise, a Node network code (`ECONNREFUSED`, …), or one of the
   * sender's own: `ABORTED` (signal or deadline), `NOT_CONNECTED` (the store does not know the
   * connection as connected), `NO_ENDPOINT` / `INVALID_ENDPOINT` (no usable `@connections`
   * endpoint), `TRANSPORT_ERROR` (the transport threw instead of resolving a failure).
   */
  readonly code: string
  /** Whether sending the same message again later could succeed. */
  readonly retryable: boolean
}

/**
 * What a send call did. `attempted` counts recipients, not HTTP requests: every connection the
 * call took on (listed from the store and not excluded) is counted once and lands in exactly one
 * of `delivered`, `gone` or `failed`, so `attempted === delivered + gone.length + failed.length`
 * always holds. Recipients stopped by a signal or deadline before their request started are in
 * `failed` with code `ABORTED` and `retryable: true`.
 */
export interface SendReport {
  readonly attempted: number
  /** Recipients API Gateway accepted the call for (for `verifyConnections`: still connected). */
  readonly delivered: number
  /** Connection ids API Gateway no longer knows (`GoneException` / HTTP 410); now disconnected. */
  readonly gone: readonly string[]
  readonly failed: readonly SendFailure[]
  /**
   * `true` when a signal or deadline stopped the call early. Recipients already listed are
   * reported as `ABORTED`; the store is not paged any further (listing the rest would itself
   * overrun the deadline), so recipients on later pages are in no list. Re-run the send, or a
   * narrower one, to reach them.
   */
  readonly aborted: boolean
}

/** Accumulates one call's outcomes; not shared between calls. */
export class ReportBuilder {
  #delivered = 0
  #retries = 0
  readonly #gone: string[] = []
  readonly #failed: SendFailure[] = []
  #aborted = false

  delivered(): void {
    this.#delivered++
  }

  gone(connectionId: string): void {
    this.#gone.push(connectionId)
  }

  failed(connectionId: string, code: string, retryable: boolean): void {
    this.#failed.push({ connectionId, code, retryable })
  }

  retried(extraAttempts: number): void {
    if (extraAttempts > 0) this.#retries += extraAttempts
  }

  markAborted(): void {
    this.#aborted = true
  }

  report(): SendReport {
    return {
      attempted: this.#delivered + this.#gone.length + this.#failed.length,
      delivered: this.#delivered,
      gone: this.#gone,
      failed: this.#failed,
      aborted: this.#aborted,
    }
  }

  /** The `send.completed` event for this report: counts and codes only, never payloads. */
  event(target: string, at: number): SendCompletedEvent {
    const failures: Record<string, number> = Object.create(null)
    for (const f of this.#failed) failures[f.code] = (failures[f.code] ?? 0) + 1
    return {
      type: 'send.completed',
      at,
      target,
      attempted: this.#delivered + this.#gone.length + this.#failed.length,
      delivered: this.#delivered,
      gone: this.#gone.length,
      failed: this.#failed.length,
      failures,
      retries: this.#retries,
      aborted: this.#aborted,
    }
  }
}
