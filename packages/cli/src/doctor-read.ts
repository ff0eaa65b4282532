/**
 * Reads a deployed WebSocket API through `@aws-sdk/client-apigatewayv2` (`GetApi`, `GetRoutes`,
 * `GetIntegrations`, `GetRouteResponses`, `GetStage`), following every `NextToken`, into the
 * snapshot the doctor's rules take.
 */
import {
  type ApiGatewayV2Client,
  GetApiCommand,
  GetIntegrationsCommand,
  GetRouteResponsesCommand,
  GetRoutesCommand,
  GetStageCommand,
} from '@aws-sdk/client-apigatewayv2'
import type { ApiSnapshot, IntegrationInfo, RouteInfo } from './doctor-checks.js'

async function allPages<T>(
  fetchPage: (
    nextToken: string | undefined,
  ) => Promise<{ Items?: T[] | undefined; NextToken?: string | undefined }>,
): Promise<T[]> {
  const items: T[] = []
  let token: string | undefined
  for (let page = 0; page < 1000; page++) {
    const result = await fetchPage(token)
    items.push(...(result.Items ?? []))
    token = result.NextToken
    if (token === undefined || token === '') return items
  }
  throw new Error('too many pages')
}

/** Reads API `apiId` (and `stageName`, when given). Rejects with the SDK's error. */
export async function readApi(
  client: ApiGatewayV2Client,
  apiId: string,
  stageName: string | undefined,
): Promise<ApiSnapshot> {
  const api = await client.send(new GetApiCommand({ ApiId: apiId }))
  const routes: RouteInfo[] = (
    await allPages((NextToken) =>
      client.send(new GetRoutesCommand({ ApiId: apiId, NextToken, MaxResults: '100' })),
    )
  ).map((r) => ({
    routeId: r.RouteId ?? '',
    routeKey: r.RouteKey ?? '',
    target: r.Target,
    routeResponseSelectionExpression: r.RouteResponseSelectionExpression,
  }))
  const integrations: IntegrationInfo[] = (
    await allPages((NextToken) =>
      client.send(new GetIntegrationsCommand({ ApiId: apiId, NextToken, MaxResults: '100' })),
    )
  ).map((i) => ({
    integrationId: i.IntegrationId ?? '',
    integrationType: i.IntegrationType,
    integrationUri: i.IntegrationUri,
    requestParameters: i.RequestParameters,
  }))
  const routeResponses: Record<string, string[]> = {}
  for (const route of routes) {
    const responses = await allPages((NextToken) =>
      client.send(
        new GetRouteResponsesCommand({
          ApiId: apiId,
          RouteId: route.routeId,
          NextToken,
          MaxResults: '100',
        }),
      ),
    )
    routeResponses[route.routeId] = responses.map((r) => r.RouteResponseKey ?? '')
  }
  let stage: ApiSnapshot['stage'] = null
  if (stageName !== undefined) {
    const s = await client.send(new GetStageCommand({ ApiId: apiId, StageName: stageName }))
    stage = {
      stageName: s.StageName ?? stageName,
      defaultRouteSettings: {
        throttlingRateLimit: s.DefaultRouteSettings?.ThrottlingRateLimit,
        throttlingBurstLimit: s.DefaultRouteSettings?.ThrottlingBurstLimit,
      },
      accessLogSettings: {
        destinationArn: s.AccessLogSettings?.DestinationArn,
        format: s.AccessLogSettings?.Format,
      },
    }
  }
  return {
    apiId,
    name: api.Name,
    protocolType: api.ProtocolType,
    routeSelectionExpression: api.RouteSelectionExpression,
    routes,
    integrations,
    routeResponses,
    stage,
  }
}
