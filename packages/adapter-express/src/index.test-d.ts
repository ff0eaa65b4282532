/**
 * Type tests for the public surface of `@apigw-ws/adapter-express`: option and identity shapes,
 * the Express types the factories return, and what `identify` receives.
 */
import type { Gateway } from '@apigw-ws/core'
import express, { type Request, type RequestHandler, type Router } from 'express'
import { describe, expectTypeOf, it } from 'vitest'
import {
  BodyAlreadyConsumedError,
  type TokenHandlerOptions,
  type TokenIdentity,
  tokenHandler,
  type WebSocketRouterOptions,
  websocketRouter,
} from './index.js'

declare const gateway: Gateway

describe('websocketRouter', () => {
  it('takes a gateway and optional options and returns an Express router', () => {
    expectTypeOf(websocketRouter).parameter(0).toEqualTypeOf<Gateway>()
    expectTypeOf(websocketRouter(gateway)).toEqualTypeOf<Router>()
    expectTypeOf<WebSocketRouterOptions>().toEqualTypeOf<{
      readonly rawBody?: (req: Request) => Uint8Array | string | undefined
    }>()
    express().use('/ws', websocketRouter(gateway, { rawBody: () => undefined }))
    // @ts-expect-error rawBody returns bytes, a string or undefined
    websocketRouter(gateway, { rawBody: () => 42 })
  })

  it('reports a consumed body with a named Error subclass', () => {
    expectTypeOf<BodyAlreadyConsumedError>().toExtend<Error>()
    expectTypeOf(BodyAlreadyConsumedError).constructorParameters.toEqualTypeOf<[]>()
  })
})

describe('tokenHandler', () => {
  it('has a stable identity shape and returns a request handler', () => {
    expectTypeOf<TokenIdentity>().toEqualTypeOf<{
      readonly userId: string
      readonly sessionId?: string | null
      readonly channel?: string | null
    }>()
    expectTypeOf<TokenHandlerOptions['identify']>().parameter(0).toEqualTypeOf<Request>()
    expectTypeOf<TokenHandlerOptions['identify']>().returns.toEqualTypeOf<
      TokenIdentity | null | undefined | Promise<TokenIdentity | null | undefined>
    >()
    expectTypeOf(tokenHandler(gateway, { identify: () => null })).toEqualTypeOf<RequestHandler>()
    express().post(
      '/ws-token',
      tokenHandler(gateway, { identify: async (req) => ({ userId: req.path }) }),
    )
  })

  it('refuses identities that are not one', () => {
    // @ts-expect-error userId is a string
    tokenHandler(gateway, { identify: () => ({ userId: 42 }) })
    // @ts-expect-error identify is required
    tokenHandler(gateway, {})
  })
})
