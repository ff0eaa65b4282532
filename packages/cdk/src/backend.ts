/**
 * `WebSocketBackend`: what API Gateway forwards WebSocket events to. Either the HTTP mount the
 * adapters serve (`https://app.example.com/ws`, HTTP_PROXY, one integration per route at
 * `<mount>/<route>`) or a Lambda function (AWS_PROXY).
 */
import { Token } from 'aws-cdk-lib'
import type { IFunction } from 'aws-cdk-lib/aws-lambda'

/** An HTTP backend: the adapters' mount URL, without a trailing slash. */
export interface HttpBackend {
  readonly kind: 'http'
  readonly mountUrl: string
}

/** A Lambda backend: the function exporting `gateway.lambda`. */
export interface LambdaBackend {
  readonly kind: 'lambda'
  readonly function: IFunction
}

/** Where API Gateway forwards events. Build one with {@link WebSocketBackend}. */
export type WebSocketBackend = HttpBackend | LambdaBackend

/** Factories for {@link WebSocketBackend}. */
export const WebSocketBackend = Object.freeze({
  /**
   * HTTP_PROXY to `mountUrl`, the URL the adapters are mounted at (e.g. `https://app.example.com/ws`
   * for `app.route('/ws', websocketRoutes(gateway))`). Must be `https:` (or `http:`) with no query or
   * fragment; a trailing slash is removed. A deploy-time token (e.g. a load balancer's DNS name
   * inside a template string) is accepted unchecked. Throws `TypeError` otherwise.
   */
  http(mountUrl: string): HttpBackend {
    if (typeof mountUrl !== 'string' || mountUrl.length === 0) {
      throw new TypeError('WebSocketBackend.http: mountUrl must be a non-empty string')
    }
    if (Token.isUnresolved(mountUrl)) return Object.freeze({ kind: 'http', mountUrl })
    let url: URL
    try {
      url = new URL(mountUrl)
    } catch {
      throw new TypeError(`WebSocketBackend.http: "${mountUrl}" is not a URL`)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TypeError('WebSocketBackend.http: mountUrl must be an https: (or http:) URL')
    }
    if (url.search !== '' || url.hash !== '' || mountUrl.includes('?') || mountUrl.includes('#')) {
      throw new TypeError('WebSocketBackend.http: mountUrl must not have a query or fragment')
    }
    return Object.freeze({ kind: 'http', mountUrl: mountUrl.replace(/\/+$/, '') })
  },

  /** AWS_PROXY to `fn`; the construct grants API Gateway permission to invoke it. */
  lambda(fn: IFunction): LambdaBackend {
    if (typeof fn !== 'object' || fn === null || typeof fn.functionArn !== 'string') {
      throw new TypeError('WebSocketBackend.lambda: expected a Lambda function construct')
    }
    return Object.freeze({ kind: 'lambda', function: fn })
  },
})
