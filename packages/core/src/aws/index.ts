/**
 * `@apigw-ws/core/aws`: the `@connections` transport backed by the AWS SDK. It is the only entry
 * point that imports `@aws-sdk/client-apigatewaymanagementapi` (an optional peer dependency), so
 * the main entry stays free of it.
 */

export type { AwsConnections, AwsConnectionsOptions } from './aws-connections.js'
export { awsConnections, DEFAULT_MAX_ATTEMPTS } from './aws-connections.js'
export { classifyError } from './classify.js'
export type { EndpointOption } from './endpoint.js'
