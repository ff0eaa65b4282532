/**
 * "Warns once" means once per process: a second gateway, and a second copy of core's module
 * (another installed copy of the package), find the warning already given.
 */
import { memoryStore } from '@apigw-ws/store-memory'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createGateway } from './gateway.js'
import { forgetWarnings, warnOnce } from './warnings.js'

describe('warnOnce', () => {
  let warn: ReturnType<typeof vi.spyOn>
  beforeEach(() => {
    forgetWarnings()
    warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('warns once per process for two gateways without a secret', () => {
    const options = { store: memoryStore(), allowedOrigins: ['https://app.example.com'] }
    createGateway(options)
    createGateway({ ...options, store: memoryStore() })
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/integrationSecret/)
  })

  it('shares the registry with another copy of the module', async () => {
    warnOnce('SHARED_CODE', 'first copy')
    vi.resetModules()
    const specifier = './warnings.js?copy'
    const copy = (await import(specifier)) as typeof import('./warnings.js')
    expect(copy.warnOnce).not.toBe(warnOnce)
    copy.warnOnce('SHARED_CODE', 'second copy')
    copy.warnOnce('OTHER_CODE', 'another warning')
    expect(warn.mock.calls.map((call: unknown[]) => call[0])).toEqual([
      'first copy',
      'another warning',
    ])
  })
})
