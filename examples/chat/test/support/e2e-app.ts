/**
 * The application every end-to-end test (and the end-to-end benchmark) runs: one apigw-ws gateway
 * with a small set of handlers (`echo` answers with a two-way reply, `join` subscribes, `say`
 * fans out to a channel, `whoami` replies through `@connections`), whose `@connections` traffic
 * goes through the real AWS SDK to whatever endpoint the test points it at. Tests drive it through
 * each adapter and integration; keeping one definition means every backend is held to the same
 * behaviour.
 */
import {
  createGateway,
  defineHandler,
  type EventListener,
  type Gateway,
  type RateLimitOptions,
  type Store,
} from '@apigw-ws/core'
import { awsConnections } from '@apigw-ws/core/aws'
import * as v from 'valibot'

/** The page origin the tests' clients claim (and the only one the gateway allows). */
export const APP_ORIGIN = 'https://chat.e2e.test'
/** The integration secret the local gateway adds to every HTTP call. */
export const INTEGRATION_SECRET = 'e2e-integration-secret-0123456789'
/** The header through which the test backends learn who is "signed in" on the token route. */
export const USER_HEADER = 'x-e2e-user'
/**
 * Dummy credentials (the local gateway and sandbox accept any SigV4 signature). A fresh object per
 * call: the AWS SDK writes bookkeeping onto the credentials object it is given, so a shared or
 * frozen one breaks signing (`Cannot set properties of undefined (setting 'CREDENTIALS_CODE')`).
 */
export function dummyCredentials(): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: 'local', secretAccessKey: 'local' }
}

const echoSchema = v.object({ text: v.optional(v.string()), seq: v.optional(v.number()) })

/** Options of {@link createE2eGateway}. */
export interface E2eGatewayOptions {
  readonly store: Store
  /** `http` for the adapters behind the local gateway's HTTP integration, `lambda` otherwise. */
  readonly integration: 'http' | 'lambda'
  /** The `@connections` endpoint, read on every send (it is known only once a gateway listens). */
  readonly managementEndpoint: () => string
  readonly onEvent?: EventListener
  /** Overrides of the default rate limits (the benchmark opens thousands of connections). */
  readonly rateLimits?: RateLimitOptions
}

/**
 * Builds the test application's gateway. Users are whatever the token route was told (any
 * non-empty id loads as itself); channels are open except `staff`. Handlers:
 * - `echo` `{ text?, seq? }` → two-way reply `{ type: 'echo', text?, seq? }`;
 * - `join` `{ room }` → subscribes, replies `{ type: 'joined', room }`;
 * - `say` `{ room, text }` → `toChannel(room, { type: 'said', room, from, text })`, no reply;
 * - `whoami` → `ctx.reply({ type: 'you', connectionId, userId })` through `@connections`.
 */
export function createE2eGateway(options: E2eGatewayOptions): Gateway {
  return createGateway<string>({
    store: options.store,
    integration: options.integration,
    ...(options.integration === 'http' ? { integrationSecret: INTEGRATION_SECRET } : {}),
    connections: awsConnections({
      region: 'us-east-1',
      credentials: dummyCredentials(),
      endpoint: () => options.managementEndpoint(),
      // One attempt: a failed post must show up in the test, not hide behind retries.
      maxAttempts: 1,
    }),
    allowedOrigins: [APP_ORIGIN],
    auth: {
      loadUser: (userId) => (userId.length > 0 ? userId : null),
      authorizeChannel: ({ channel }) => channel !== 'staff',
    },
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    handlers: {
      echo: defineHandler<string, v.InferOutput<typeof echoSchema>>({
        schema: echoSchema,
        handle: (_ctx, input) => ({ type: 'echo', ...input }),
      }),
      join: defineHandler<string, { room: string }>({
        schema: v.object({ room: v.string() }),
        handle: async (ctx, input) => {
          await ctx.join(input.room)
          return { type: 'joined', room: input.room }
        },
      }),
      say: defineHandler<string, { room: string; text: string }>({
        schema: v.object({ room: v.string(), text: v.string() }),
        handle: async (ctx, input) => {
          await ctx.send.toChannel(input.room, {
            type: 'said',
            room: input.room,
            from: ctx.userId,
            text: input.text,
          })
          return undefined
        },
      }),
      whoami: defineHandler<string>({
        handle: async (ctx) => {
          await ctx.reply({ type: 'you', connectionId: ctx.connectionId, userId: ctx.userId })
          return undefined
        },
      }),
    },
  })
}
