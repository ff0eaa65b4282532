import { describe, expect, it } from 'vitest'
import { classifyError } from './classify.js'

/** An error shaped like the SDK's service exceptions. */
function sdkError(name: string, status?: number, attempts = 1): Error {
  const error = new Error('message') as Error & { $metadata: object }
  error.name = name
  error.$metadata = { attempts, ...(status === undefined ? {} : { httpStatusCode: status }) }
  return error
}

describe('classifyError', () => {
  it.each([
    ['GoneException', 410, 'GoneException', true, false],
    ['Unknown', 410, 'HTTP_410', true, false],
    ['ForbiddenException', 403, 'ForbiddenException', false, false],
    ['PayloadTooLargeException', 413, 'PayloadTooLargeException', false, false],
    ['BadRequestException', 400, 'BadRequestException', false, false],
    ['LimitExceededException', 429, 'LimitExceededException', false, true],
    ['Unknown', 429, 'HTTP_429', false, true],
    ['InternalServerErrorException', 500, 'InternalServerErrorException', false, true],
    ['Unknown', 502, 'HTTP_502', false, true],
    ['UnknownError', 503, 'HTTP_503', false, true],
  ])('%s with HTTP %i → %s (gone %s, retryable %s)', (name, status, code, gone, retryable) => {
    expect(classifyError(sdkError(name, status, 3))).toEqual({
      ok: false,
      code,
      gone,
      retryable,
      status,
      attempts: 3,
    })
  })

  it('names network failures by their Node code and marks them retryable', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    expect(classifyError(error)).toEqual({
      ok: false,
      code: 'ECONNREFUSED',
      gone: false,
      retryable: true,
    })
    expect(classifyError(sdkError('TimeoutError'))).toMatchObject({
      code: 'TimeoutError',
      retryable: true,
    })
    expect(classifyError('weird')).toMatchObject({ code: 'Error', retryable: true })
  })

  it('reports aborts as ABORTED and retryable', () => {
    expect(classifyError(sdkError('AbortError'))).toMatchObject({
      code: 'ABORTED',
      retryable: true,
      gone: false,
    })
    expect(classifyError(sdkError('ECONNRESET'), AbortSignal.abort())).toMatchObject({
      code: 'ABORTED',
    })
  })

  it('never lets an arbitrary error name through as a code', () => {
    expect(classifyError(sdkError('<script>', 400))).toMatchObject({ code: 'HTTP_400' })
    expect(classifyError(sdkError('a b c'))).toMatchObject({ code: 'NETWORK_ERROR' })
  })
})
