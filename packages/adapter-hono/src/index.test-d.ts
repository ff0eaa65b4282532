/**
 * Type tests for the public surface of `@apigw-ws/adapter-hono`: option and identity shapes, the
 * env inference that lets `identify` and `peer` read the app's typed context, and mounting
 * into apps with or without node-server bindings.
 */
import type { Gateway } from '@apigw-ws/core'
import type { HttpBindings } from '@hono/node-server'
import { type Context, type Env, type Handler, Hono } from 'hono'
import { describe, expectTypeOf, it } from 'vitest'
import {
  type TokenIdentity,
  type TokenRouteOptions,
  tokenRoute,
  type WebSocketRoutesOptions,
  websocketRoutes,
} from './index.js'

declare const gateway: Gateway

describe('websocketRoutes', () => {
  it('takes a gateway and optional options and returns a Hono app', () => {
    expectTypeOf(websocketRoutes).parameter(0).toEqualTypeOf<Gateway>()
    expectTypeOf(websocketRoutes(gateway)).toEqualTypeOf<Hono<Env>>()
    expectTypeOf<WebSocketRoutesOptions>().toEqualTypeOf<{
      readonly peer?: (c: Context<Env>) => string | undefined
    }>()
  })

  it('mounts in a plain app and reads node-server bindings in peer', () => {
    new Hono().route('/ws', websocketRoutes(gateway))
    const app = new Hono<{ Bindings: HttpBindings }>()
    app.route(
      '/ws',
      websocketRoutes<{ Bindings: HttpBindings }>(gateway, {
        peer: (c) => {
          expectTypeOf(c.env.incoming.socket.remoteAddress).toEqualTypeOf<string | undefined>()
          return c.env.incoming.socket.remoteAddress
        },
      }),
    )
    // @ts-expect-error peer returns a string or undefined
    websocketRoutes(gateway, { peer: () => 42 })
  })
})

describe('tokenRoute', () => {
  it('has a stable identity shape', () => {
    expectTypeOf<TokenIdentity>().toEqualTypeOf<{
      readonly userId: string
      readonly sessionId?: string | null
      readonly channel?: string | null
    }>()
    expectTypeOf<TokenRouteOptions['identify']>().returns.toEqualTypeOf<
      TokenIdentity | null | undefined | Promise<TokenIdentity | null | undefined>
    >()
  })

  it("takes the app's env so identify reads typed variables", () => {
    type AppEnv = { Variables: { user: { id: string } | null } }
    const app = new Hono<AppEnv>()
    app.post(
      '/ws-token',
      tokenRoute<AppEnv>(gateway, {
        identify: (c) => {
          expectTypeOf(c.get('user')).toEqualTypeOf<{ id: string } | null>()
          const user = c.get('user')
          return user === null ? null : { userId: user.id }
        },
      }),
    )
    expectTypeOf(tokenRoute<AppEnv>(gateway, { identify: () => null })).toEqualTypeOf<
      Handler<AppEnv>
    >()
  })

  it('refuses identities that are not one', () => {
    // @ts-expect-error userId is a string
    tokenRoute(gateway, { identify: () => ({ userId: 42 }) })
    // @ts-expect-error identify is required
    tokenRoute(gateway, {})
  })
})
