/**
 * Alternating rounds and honest tables. Every variant of a comparison runs once per round, in
 * the same order each round (A B C, A B C, …), so drift from other processes on a shared machine
 * hits every variant alike. A printed row is one round of its variant (the round with the median
 * throughput), so the figures in a row always belong together; the spread columns show how far
 * the other rounds strayed, and ratios are the median of the per-round ratios (each taken from
 * variants measured back to back). A variant declared to do strictly more work than another but
 * measured faster than it is flagged: that is a measurement problem, not a speed-up.
 */

/** What one round of one variant measured. */
export interface Sample {
  /** Operations completed per wall-clock second. */
  readonly perSecond: number
  /** CPU time per operation (µs) of the process doing the work, when it is measured. */
  readonly cpuUs?: number
  /** Latency percentiles (ms), when the load generator reports them. */
  readonly p50Ms?: number
  readonly p99Ms?: number
  /** Failed operations (non-2xx responses, socket errors, timeouts). */
  readonly failed?: number
}

/** One variant of a comparison. */
export interface Variant {
  readonly name: string
  /** Measures one round. */
  readonly run: () => Promise<Sample>
  /**
   * Names of variants this one does strictly more work than (a superset of their steps). If it is
   * measured faster than one of them, its row carries a warning.
   */
  readonly moreWorkThan?: readonly string[]
}

/** Every round of every variant, `samples[variant][round]`. */
export interface RoundsResult {
  readonly variants: readonly Variant[]
  readonly samples: readonly (readonly Sample[])[]
}

/** Runs `rounds` alternating rounds of `variants` (after `warmUp` untimed rounds, default 1). */
export async function alternate(
  rounds: number,
  variants: readonly Variant[],
  warmUp = 1,
): Promise<RoundsResult> {
  for (let r = 0; r < warmUp; r++) for (const variant of variants) await variant.run()
  const samples: Sample[][] = variants.map(() => [])
  for (let r = 0; r < rounds; r++) {
    for (const [i, variant] of variants.entries()) samples[i]?.push(await variant.run())
  }
  return { variants, samples }
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** The index of the round whose throughput is the median (the lower middle for even counts). */
export function medianRound(samples: readonly Sample[]): number {
  const order = samples.map((s, i) => [s.perSecond, i] as const).sort((a, b) => a[0] - b[0])
  return order[(order.length - 1) >> 1]?.[1] ?? 0
}

/** `(max − min) / median` of `values`, as a percentage string. */
function spread(values: readonly number[]): string {
  if (values.length < 2) return '-'
  const m = median(values)
  return `±${(((Math.max(...values) - Math.min(...values)) / m) * 50).toFixed(0)}%`
}

/** Per-round ratios `pick(a) / pick(b)`, summarised as median [min–max]. */
export function roundRatios(
  a: readonly Sample[],
  b: readonly Sample[],
  pick: (s: Sample) => number | undefined,
): { readonly median: number; readonly min: number; readonly max: number } {
  const ratios: number[] = []
  for (let r = 0; r < Math.min(a.length, b.length); r++) {
    const x = pick(a[r] as Sample)
    const y = pick(b[r] as Sample)
    if (x !== undefined && y !== undefined && y > 0) ratios.push(x / y)
  }
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
}

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || Number.isNaN(n)) return '-'
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

/** Throughput ratio this/base and CPU-efficiency ratio base.cpu/this.cpu, per round. */
export function ratiosTo(result: RoundsResult, variant: number, base: number) {
  const a = result.samples[variant] ?? []
  const b = result.samples[base] ?? []
  return {
    throughput: roundRatios(a, b, (s) => s.perSecond),
    // CPU efficiency: how many of this variant's operations fit in the CPU of one of base's.
    cpu: roundRatios(b, a, (s) => s.cpuUs),
  }
}

/**
 * Prints the comparison: one row per variant (its median round), spreads across rounds, and the
 * median per-round ratios to `base` (default: the first variant). Returns the warnings printed.
 */
export function printRounds(
  title: string,
  result: RoundsResult,
  options: { readonly base?: number; readonly unit?: string } = {},
): string[] {
  const base = options.base ?? 0
  const unit = options.unit ?? 'ops'
  const { variants, samples } = result
  const rounds = samples[0]?.length ?? 0
  console.log(`\n## ${title}`)
  console.log(
    `(${rounds} alternating rounds; each row is its variant's median round; ratios are medians of per-round ratios to "${variants[base]?.name}" [min–max])`,
  )
  const hasCpu = samples.some((rows) => rows.some((s) => s.cpuUs !== undefined))
  const hasLatency = samples.some((rows) => rows.some((s) => s.p50Ms !== undefined))
  console.log(
    [
      'variant'.padEnd(60),
      `${unit}/s`.padStart(10),
      'spread'.padStart(6),
      ...(hasCpu ? ['CPU µs/op'.padStart(10), 'spread'.padStart(6)] : []),
      ...(hasLatency ? ['p50/p99 ms'.padStart(13)] : []),
      '  vs base: throughput',
      ...(hasCpu ? ['   CPU efficiency'] : []),
    ].join(' '),
  )
  const warnings: string[] = []
  for (const [i, variant] of variants.entries()) {
    const rows = samples[i] ?? []
    const row = rows[medianRound(rows)]
    if (row === undefined) continue
    const ratios = ratiosTo(result, i, base)
    const ratioText = (r: { median: number; min: number; max: number }) =>
      i === base
        ? '1.00×'.padEnd(20)
        : `${fmt(r.median, 2)}× [${fmt(r.min, 2)}–${fmt(r.max, 2)}]`.padEnd(20)
    const flags: string[] = []
    for (const lighterName of variant.moreWorkThan ?? []) {
      const j = variants.findIndex((v) => v.name === lighterName)
      if (j < 0) continue
      const vs = ratiosTo(result, i, j)
      if (vs.throughput.median > 1 || (hasCpu && vs.cpu.median > 1)) {
        const warning = `WARNING "${variant.name}" does strictly more work than "${lighterName}" but measured faster (throughput ${fmt(vs.throughput.median, 2)}×, CPU efficiency ${fmt(vs.cpu.median, 2)}×): the measurement, not the code, is suspect`
        warnings.push(warning)
        flags.push('⚠')
      }
    }
    const failed = rows.reduce((sum, s) => sum + (s.failed ?? 0), 0)
    if (failed > 0) flags.push(`${failed} FAILED`)
    console.log(
      [
        `${flags.length > 0 ? `${flags.join(' ')} ` : ''}${variant.name}`.padEnd(60),
        fmt(row.perSecond).padStart(10),
        spread(rows.map((s) => s.perSecond)).padStart(6),
        ...(hasCpu
          ? [
              fmt(row.cpuUs, 1).padStart(10),
              spread(rows.map((s) => s.cpuUs ?? Number.NaN)).padStart(6),
            ]
          : []),
        ...(hasLatency ? [`${fmt(row.p50Ms, 2)}/${fmt(row.p99Ms, 2)}`.padStart(13)] : []),
        `  ${ratioText(ratios.throughput)}`,
        ...(hasCpu ? [`  ${ratioText(ratios.cpu)}`] : []),
      ].join(' '),
    )
  }
  for (const warning of warnings) console.log(warning)
  return warnings
}

/** Prints a target verdict line for a ratio summary. */
export function verdict(label: string, ratio: { readonly median: number }, target: number): void {
  const met = ratio.median >= target ? 'meets' : 'BELOW'
  console.log(`${label}: ${fmt(ratio.median, 2)}× (${met} the ${target}× target)`)
}
