/**
 * A small HTTP load generator on `node:http`, for benchmarks that compare servers on loopback in
 * the same run. It keeps `concurrency` requests in flight over a keep-alive agent (one socket per
 * in-flight request), cycles through prepared request templates, and stops after a fixed
 * duration or request count. No external tool is needed (autocannon is not a dependency here).
 */
import { Agent, request } from 'node:http'

/** One prepared request. */
export interface RequestTemplate {
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
}

/** What to send and for how long. */
export interface LoadOptions {
  readonly port: number
  readonly host?: string
  /** Requests to cycle through (request `i` uses template `i % length`). */
  readonly templates: readonly RequestTemplate[]
  /** Requests in flight at any time. */
  readonly concurrency: number
  /** Stop starting new requests after this long. At least one of the two limits is required. */
  readonly durationMs?: number
  /** Stop after this many requests. */
  readonly requests?: number
  /** A response with another status counts as a failure. Default 200. */
  readonly expectStatus?: number
}

/** What a run measured. */
export interface LoadResult {
  /** Responses with the expected status. */
  readonly ok: number
  /** Responses with another status, and transport errors. */
  readonly failed: number
  /** Wall time from the first request to the last response, in milliseconds. */
  readonly ms: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** The first unexpected status or error seen, for the report. */
  readonly firstFailure: string | null
}

function send(
  agent: Agent,
  host: string,
  port: number,
  template: RequestTemplate,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host, port, method: 'POST', path: template.path, headers: template.headers },
      (res) => {
        res.on('data', () => undefined)
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(template.body)
  })
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

/**
 * Runs the load and resolves the measurement. Each template's `content-length` is set from its
 * body. Never rejects for a failed request (failures are counted); the agent is destroyed at the
 * end so no socket outlives the run.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { port, templates, concurrency } = options
  const host = options.host ?? '127.0.0.1'
  const expectStatus = options.expectStatus ?? 200
  if (templates.length === 0) throw new TypeError('runLoad: give at least one template')
  if (options.durationMs === undefined && options.requests === undefined) {
    throw new TypeError('runLoad: give durationMs or requests')
  }
  const prepared = templates.map((t) => ({
    ...t,
    headers: { ...t.headers, 'content-length': String(t.body.length) },
  }))
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const limit = options.requests ?? Number.POSITIVE_INFINITY
  const latencies: number[] = []
  let started = 0
  let ok = 0
  let failed = 0
  let firstFailure: string | null = null
  const start = performance.now()
  const deadline =
    options.durationMs === undefined ? Number.POSITIVE_INFINITY : start + options.durationMs

  async function worker(): Promise<void> {
    while (started < limit && performance.now() < deadline) {
      const template = prepared[started++ % prepared.length] as RequestTemplate
      const sentAt = performance.now()
      try {
        const status = await send(agent, host, port, template)
        if (status === expectStatus) ok++
        else {
          failed++
          firstFailure ??= `status ${status}`
        }
      } catch (error) {
        failed++
        firstFailure ??= error instanceof Error ? error.message : String(error)
      }
      latencies.push(performance.now() - sentAt)
    }
  }

  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
  const ms = performance.now() - start
  agent.destroy()
  const sorted = Float64Array.from(latencies).sort()
  return {
    ok,
    failed,
    ms,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    firstFailure,
  }
}
