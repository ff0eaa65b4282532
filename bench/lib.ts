/**
 * Shared benchmark helpers. Benchmarks compare two or more variants measured side by side in the
 * same process and run, and report ratios: absolute numbers drift on shared machines, ratios
 * measured together do not.
 */

/** One measured variant. */
export interface Measurement {
  readonly name: string
  /** Operations completed. */
  readonly ops: number
  /** Wall time in milliseconds. */
  readonly ms: number
}

/** Operations per second of a measurement. */
export function opsPerSecond(m: Measurement): number {
  return m.ms > 0 ? (m.ops * 1000) / m.ms : Number.POSITIVE_INFINITY
}

/** Runs `fn` `ops` times with `concurrency` workers and returns the measurement. */
export async function measure(
  name: string,
  ops: number,
  fn: (i: number) => Promise<unknown>,
  concurrency = 1,
): Promise<Measurement> {
  let next = 0
  const start = performance.now()
  const worker = async (): Promise<void> => {
    for (let i = next++; i < ops; i = next++) await fn(i)
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
  return { name, ops, ms: performance.now() - start }
}

/**
 * Measures variants alternately for `rounds` rounds (A B A B …) so drift hits every variant alike,
 * and keeps each variant's median round (by throughput): a best round would hide GC and load.
 */
export async function compare(
  rounds: number,
  variants: ReadonlyArray<() => Promise<Measurement>>,
): Promise<Measurement[]> {
  const all: Measurement[][] = variants.map(() => [])
  for (let r = 0; r < rounds; r++) {
    for (const [i, run] of variants.entries()) all[i]?.push(await run())
  }
  return all.map((ms) => {
    const sorted = [...ms].sort((x, y) => opsPerSecond(x) - opsPerSecond(y))
    return sorted[(sorted.length - 1) >> 1] as Measurement
  })
}

/** Prints a table of measurements with each one's ratio to `baseline` (default: the first). */
export function report(title: string, rows: readonly Measurement[], baseline = rows[0]): void {
  console.log(`\n## ${title}`)
  const base = baseline ? opsPerSecond(baseline) : 1
  for (const m of rows) {
    const rate = opsPerSecond(m)
    console.log(
      `${m.name.padEnd(48)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} ops/s` +
        `  ${(rate / base).toFixed(2)}× ${baseline?.name ?? ''}`,
    )
  }
}
