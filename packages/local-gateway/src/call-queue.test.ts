import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { createCallQueue } from './call-queue.js'

describe('createCallQueue', () => {
  it('runs at most `limit` calls and starts the rest in arrival order as slots free', () => {
    const queue = createCallQueue(2)
    const started: number[] = []
    const done: (() => void)[] = []
    for (let i = 0; i < 5; i++) {
      queue.enqueue((release) => {
        started.push(i)
        done[i] = release
      })
    }
    expect(started).toEqual([0, 1])
    expect([queue.running, queue.waiting]).toEqual([2, 3])
    done[1]?.()
    expect(started).toEqual([0, 1, 2])
    done[1]?.() // a second release of the same call frees nothing
    expect(started).toEqual([0, 1, 2])
    done[0]?.()
    done[2]?.()
    expect(started).toEqual([0, 1, 2, 3, 4])
    expect([queue.running, queue.waiting]).toEqual([2, 0])
  })

  it('never starts a cancelled call, and cancel after start is a no-op', () => {
    const queue = createCallQueue(1)
    const started: string[] = []
    let releaseFirst = (): void => {}
    const first = queue.enqueue((release) => {
      started.push('a')
      releaseFirst = release
    })
    const second = queue.enqueue(() => started.push('b'))
    queue.enqueue(() => started.push('c'))
    expect(second.cancel()).toBe(true)
    expect(second.cancel()).toBe(false)
    expect(first.cancel()).toBe(false)
    releaseFirst()
    expect(started).toEqual(['a', 'c'])
  })

  it('drain drops every waiting call', () => {
    const queue = createCallQueue(1)
    const started: number[] = []
    queue.enqueue(() => started.push(0))
    queue.enqueue(() => started.push(1))
    queue.enqueue(() => started.push(2))
    expect(queue.drain()).toBe(2)
    expect([queue.running, queue.waiting]).toEqual([1, 0])
    expect(started).toEqual([0])
  })

  it('rejects a limit below 1', () => {
    expect(() => createCallQueue(0)).toThrow(TypeError)
    expect(() => createCallQueue(1.5)).toThrow(TypeError)
  })

  type Op =
    | { kind: 'enqueue' }
    | { kind: 'finish'; pick: number }
    | { kind: 'cancel'; pick: number }
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant<Op>({ kind: 'enqueue' }),
    fc.nat().map<Op>((pick) => ({ kind: 'finish', pick })),
    fc.nat().map<Op>((pick) => ({ kind: 'cancel', pick })),
  )

  test.prop([fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 80 })])(
    'any interleaving: never more than limit running, starts in arrival order, no slot lost',
    (limit, ops) => {
      const queue = createCallQueue(limit)
      const started: number[] = []
      const running = new Map<number, () => void>()
      const waiting: { id: number; cancel: () => boolean }[] = []
      let nextId = 0
      for (const step of ops) {
        if (step.kind === 'enqueue') {
          const id = nextId++
          const handle = queue.enqueue((release) => {
            started.push(id)
            running.set(id, release)
          })
          if (!running.has(id)) waiting.push({ id, cancel: () => handle.cancel() })
        } else if (step.kind === 'finish' && running.size > 0) {
          const ids = [...running.keys()]
          const id = ids[step.pick % ids.length] as number
          const release = running.get(id) as () => void
          running.delete(id)
          release()
        } else if (step.kind === 'cancel' && waiting.length > 0) {
          const [entry] = waiting.splice(step.pick % waiting.length, 1)
          if (entry && !started.includes(entry.id)) expect(entry.cancel()).toBe(true)
        }
        for (let i = waiting.length - 1; i >= 0; i--) {
          if (started.includes((waiting[i] as { id: number }).id)) waiting.splice(i, 1)
        }
        expect(queue.running).toBe(running.size)
        expect(queue.running).toBeLessThanOrEqual(limit)
        expect(queue.waiting).toBe(waiting.length)
        // A free slot never coexists with a waiting call.
        if (queue.waiting > 0) expect(queue.running).toBe(limit)
        // Started ids are increasing: nobody overtakes an earlier arrival.
        expect([...started].sort((a, b) => a - b)).toEqual(started)
      }
    },
  )
})
