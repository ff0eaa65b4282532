/**
 * Rejection errors carry a process-wide brand, so a `RejectionError` thrown through another
 * installed copy of core (a plugin or a handler library with its own copy) keeps its code.
 */
import { describe, expect, it, vi } from 'vitest'
import { setup } from '../test/gateway-kit.js'
import { defineHandler } from './handlers.js'
import { isRejectionError, RejectionError } from './rejections.js'

/** A second copy of the rejections module, as another installed copy of core would have. */
async function otherCopy(): Promise<typeof import('./rejections.js')> {
  vi.resetModules()
  const specifier = './rejections.js?other-copy'
  const copy = (await import(specifier)) as typeof import('./rejections.js')
  expect(copy.RejectionError).not.toBe(RejectionError)
  return copy
}

describe('isRejectionError', () => {
  it('recognises errors of this copy and of another copy, and nothing else', async () => {
    const copy = await otherCopy()
    const foreign = new copy.RejectionError('CHANNEL_FORBIDDEN')
    expect(foreign instanceof RejectionError).toBe(false)
    expect(isRejectionError(foreign)).toBe(true)
    expect(copy.isRejectionError(new RejectionError('PERMISSION_DENIED'))).toBe(true)
    expect(isRejectionError(new Error('request rejected: CHANNEL_FORBIDDEN'))).toBe(false)
    expect(isRejectionError({ rejection: { code: 'CHANNEL_FORBIDDEN' } })).toBe(false)
    const forged = Object.assign(new RejectionError('CHECK_FAILED'), {
      rejection: { code: 'NOT_A_CODE' },
    })
    expect(isRejectionError(forged)).toBe(false)
    expect(isRejectionError(null)).toBe(false)
  })

  it("keeps the code of another copy's error thrown by a handler (not a 500)", async () => {
    const copy = await otherCopy()
    const { gateway, http, connect, events } = setup({
      handlers: {
        guarded: defineHandler({
          handle() {
            throw new copy.RejectionError('PERMISSION_DENIED', 'from another copy')
          },
        }),
      },
    })
    const { connectionId } = await connect()
    const response = await gateway.handle(
      http.message({ connectionId, body: { action: 'guarded' } }),
    )
    expect(response.status).toBe(403)
    expect(events.filter((e) => e.type === 'internal.error')).toEqual([])
    expect(events.at(-1)).toMatchObject({ type: 'request.rejected', code: 'PERMISSION_DENIED' })
  })
})
