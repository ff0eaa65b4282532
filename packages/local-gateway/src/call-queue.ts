/**
 * A bounded, first-come-first-served queue of backend calls. At most `limit` calls run at once
 * (each on one keep-alive socket of the integration's pool); the rest wait in arrival order. A
 * burst of messages then reuses a few warm connections in turn, instead of opening one backend
 * connection per call, which the backend accepts one per event-loop turn: calls on
 * late-accepted connections would wait for the whole burst while newer ones on early
 * connections went first.
 */

/** A call waiting for a slot; `start` runs it, `cancel` drops it unstarted. */
export interface QueuedCall {
  /** Removes the call from the queue if it has not started; `true` when it was removed. */
  cancel(): boolean
}

/** The queue. */
export interface CallQueue {
  /**
   * Runs `start` as soon as fewer than `limit` calls are running and every call enqueued before
   * it has started. `start` must call the `done` it is given exactly once, when its call ends
   * (however it ends); that frees the slot for the next waiting call.
   */
  enqueue(start: (done: () => void) => void): QueuedCall
  /** Calls running now. */
  readonly running: number
  /** Calls waiting for a slot. */
  readonly waiting: number
  /** Drops every waiting call unstarted (they are never started) and returns them. */
  drain(): number
}

/** Creates a queue running at most `limit` calls at once (`limit` ≥ 1). */
export function createCallQueue(limit: number): CallQueue {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new TypeError('createCallQueue: limit must be a positive integer')
  }
  // A singly linked FIFO: O(1) enqueue, dequeue and (lazy) cancellation.
  interface Entry {
    start: ((done: () => void) => void) | null
    next: Entry | null
  }
  let head: Entry | null = null
  let tail: Entry | null = null
  let running = 0
  let waiting = 0

  function release(): void {
    running--
    pump()
  }

  function pump(): void {
    while (running < limit && head !== null) {
      const entry = head
      head = entry.next
      if (head === null) tail = null
      const start = entry.start
      if (start === null) continue // cancelled while waiting
      entry.start = null
      waiting--
      running++
      let released = false
      start(() => {
        if (released) return
        released = true
        release()
      })
    }
  }

  return {
    enqueue(start) {
      const entry: Entry = { start, next: null }
      if (tail === null) head = entry
      else tail.next = entry
      tail = entry
      waiting++
      pump()
      return {
        cancel() {
          if (entry.start === null) return false
          entry.start = null
          waiting--
          return true
        },
      }
    },
    get running() {
      return running
    },
    get waiting() {
      return waiting
    },
    drain() {
      let dropped = 0
      for (let entry = head; entry !== null; entry = entry.next) {
        if (entry.start !== null) {
          entry.start = null
          dropped++
        }
      }
      head = tail = null
      waiting = 0
      return dropped
    },
  }
}
