/**
 * CPU placement for the HTTP benchmarks. On a machine with at least two CPUs and `taskset`
 * (util-linux), the server process (every thread of it) runs on the last CPU and the load
 * generator on the others, so neither one's work lands on the other's core and the scheduler
 * does not move them between cores mid-run; both are sources of round-to-round spread that are
 * not the code under test. `APIGW_BENCH_PIN=0` turns placement off. Without `taskset` or with
 * one CPU nothing is pinned, and the benches say so once.
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

let usable: boolean | undefined

function pinning(): boolean {
  if (usable !== undefined) return usable
  usable = false
  if (process.env.APIGW_BENCH_PIN === '0' || availableParallelism() < 2) return usable
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' })
    usable = true
  } catch {
    console.log('(taskset not found: the server and the load generator are not pinned to CPUs)')
  }
  return usable
}

const last = (): number => availableParallelism() - 1

/** Pins every thread of process `pid` to the last CPU, when pinning is available. */
export function pinServer(pid: number): void {
  if (!pinning()) return
  execFileSync('taskset', ['-a', '-cp', String(last()), String(pid)], { stdio: 'ignore' })
}

/** The command line prefix that runs `program` on every CPU but the server's. */
export function loadGeneratorCommand(program: string): string[] {
  return pinning() ? ['taskset', '-c', last() === 1 ? '0' : `0-${last() - 1}`, program] : [program]
}
