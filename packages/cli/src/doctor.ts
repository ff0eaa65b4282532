/**
 * `apigw-ws doctor`: reads a deployed API Gateway WebSocket API and reports every
 * misconfiguration that would make apigw-ws refuse traffic or leak tokens, each with its fix.
 * Exit 0 when clean, 1 with findings, 2 for usage, credential, region or not-found errors.
 */
import { readFileSync } from 'node:fs'
import { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2'
import { parse } from './args.js'
import { diagnose, type Expectations, type Finding } from './doctor-checks.js'
import { readApi } from './doctor-read.js'
import { type CliIo, EXIT, printJson, UsageError } from './io.js'

/** `apigw-ws doctor --help`. */
export const DOCTOR_HELP = `Usage: apigw-ws doctor --api-id <id> --region <region> [options]

Reads a deployed WebSocket API (GetApi, GetRoutes, GetIntegrations, GetRouteResponses,
GetStage) and reports each misconfiguration with its fix. Exit code 0 when clean, 1 with
findings, 2 for usage, credential or region errors. Uses the AWS SDK's usual credentials
(environment, profile, SSO, instance role); needs apigateway:GET on the API.

Options:
  --api-id <id>            the WebSocket API id (required)
  --region <region>        its region, e.g. eu-west-1 (required)
  --stage <name>           also check the stage (throttling, access log format)
  --mount <url>            the adapters' mount, e.g. https://app.example.com/ws: HTTP
                           integrations must point at <mount>/connect, …/default, …/<route>
  --template <file>        a synthesized CloudFormation template (e.g. from @apigw-ws/cdk):
                           its route responses name the two-way routes
  --two-way <routes>       comma-separated two-way route keys (need a route response)
  --secret-header <name>   core's secretHeader (default: x-apigw-secret)
  --source-ip-header <h>   core's sourceIpHeader, when the app sets one
  --stage-header <h>       core's stageHeader, when the app sets one (e.g. x-apigw-stage)
  --domain-name-header <h> core's domainNameHeader, when the app sets one
  --route-key-header <h>   core's routeKeyHeader, when the app sets one
  --handler-keys <keys>    core's handlerKeys, comma-separated (default: handler,action)
  --endpoint <url>         API Gateway endpoint override (VPC endpoints, tests)
  --json                   print the report as JSON
  -h, --help               show this help
`

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/
const API_ID = /^[a-z0-9]{1,32}$/

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

/** Route keys that have a route response in a synthesized template. */
export function twoWayRoutesFromTemplate(text: string): string[] {
  let template: {
    Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }>
  }
  try {
    template = JSON.parse(text) as typeof template
  } catch {
    throw new UsageError('--template is not a JSON CloudFormation template')
  }
  const resources = template.Resources ?? {}
  const keys: string[] = []
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::ApiGatewayV2::RouteResponse') continue
    const ref = (resource.Properties?.RouteId as { Ref?: unknown } | undefined)?.Ref
    const route = typeof ref === 'string' ? resources[ref] : undefined
    const key = route?.Properties?.RouteKey
    if (typeof key === 'string') keys.push(key)
  }
  return keys.sort()
}

/** Why an SDK error stops the doctor, as a clear message (never with credentials in it). */
function explain(error: unknown, apiId: string, region: string, stage: string | undefined): Error {
  const e = error as { name?: string; message?: string; code?: string; $metadata?: unknown }
  const name = e?.name ?? ''
  if (name === 'CredentialsProviderError' || /credential/i.test(e?.message ?? '')) {
    return new UsageError(
      'no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is available',
    )
  }
  if (name === 'NotFoundException') {
    return new UsageError(
      stage === undefined
        ? `API ${apiId} not found in ${region}: check --api-id and --region`
        : `API ${apiId} or its stage ${stage} not found in ${region}: check --api-id, --stage and --region`,
    )
  }
  if (name === 'UnrecognizedClientException' || name === 'InvalidSignatureException') {
    return new UsageError(`AWS rejected the credentials (${name}): check them and --region`)
  }
  if (name === 'AccessDeniedException' || name === 'ForbiddenException') {
    return new UsageError(`not allowed to read API ${apiId}: the caller needs apigateway:GET`)
  }
  if (e?.code === 'ENOTFOUND' || e?.code === 'ECONNREFUSED' || name === 'TimeoutError') {
    return new UsageError(`cannot reach API Gateway in ${region}: check --region and the network`)
  }
  return error instanceof Error ? error : new Error(String(error))
}

function printHuman(
  io: CliIo,
  header: string,
  findings: readonly Finding[],
  notes: readonly string[],
): void {
  io.stdout(`${header}\n`)
  for (const note of notes) io.stdout(`  note: ${note}\n`)
  for (const f of findings) {
    io.stdout(`\n✗ ${f.code}${f.route === null ? '' : ` (${f.route})`}: ${f.message}\n`)
    io.stdout(`  fix: ${f.fix}\n`)
  }
  io.stdout(
    findings.length === 0
      ? '\n✓ no misconfiguration found\n'
      : `\n${findings.length} finding${findings.length === 1 ? '' : 's'}\n`,
  )
}

/** Runs `doctor`; resolves the exit code. */
export async function doctorCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parse(argv, {
    'api-id': { type: 'string' },
    region: { type: 'string' },
    stage: { type: 'string' },
    mount: { type: 'string' },
    template: { type: 'string' },
    'two-way': { type: 'string' },
    'secret-header': { type: 'string' },
    'source-ip-header': { type: 'string' },
    'stage-header': { type: 'string' },
    'domain-name-header': { type: 'string' },
    'route-key-header': { type: 'string' },
    'handler-keys': { type: 'string' },
    endpoint: { type: 'string' },
  })
  if (args.help === true) {
    io.stdout(DOCTOR_HELP)
    return EXIT.OK
  }
  const apiId = args['api-id']
  const region = args.region
  if (apiId === undefined || !API_ID.test(apiId)) {
    throw new UsageError('--api-id is required (the WebSocket API id, e.g. a1b2c3d4e5)')
  }
  if (region === undefined || !REGION.test(region)) {
    throw new UsageError('--region is required (an AWS region such as eu-west-1)')
  }
  if (args.mount !== undefined && !/^https?:\/\/[^?#]+$/.test(args.mount)) {
    throw new UsageError('--mount must be an http(s) URL without query or fragment')
  }
  const twoWay = new Set(list(args['two-way']))
  if (args.template !== undefined) {
    let text: string
    try {
      text = readFileSync(args.template, 'utf8')
    } catch {
      throw new UsageError(`cannot read --template ${args.template}`)
    }
    for (const key of twoWayRoutesFromTemplate(text)) twoWay.add(key)
  }
  const handlerKeys = list(args['handler-keys'] ?? 'handler,action')
  if (handlerKeys.length === 0) throw new UsageError('--handler-keys must name at least one key')
  const expected: Expectations = {
    mount: args.mount,
    secretHeader: (args['secret-header'] ?? 'x-apigw-secret').toLowerCase(),
    sourceIpHeader: args['source-ip-header']?.toLowerCase(),
    stageHeader: args['stage-header']?.toLowerCase(),
    domainNameHeader: args['domain-name-header']?.toLowerCase(),
    routeKeyHeader: args['route-key-header']?.toLowerCase(),
    handlerKeys,
    twoWayRoutes: [...twoWay],
  }

  const client = new ApiGatewayV2Client({
    region,
    maxAttempts: 2,
    ...(args.endpoint === undefined ? {} : { endpoint: args.endpoint }),
  })
  let findings: Finding[]
  let name: string | undefined
  try {
    const snapshot = await readApi(client, apiId, args.stage)
    name = snapshot.name
    findings = diagnose(snapshot, expected)
  } catch (error) {
    throw explain(error, apiId, region, args.stage)
  } finally {
    client.destroy()
  }
  const notes: string[] = []
  if (args.stage === undefined) notes.push('stage not checked (pass --stage)')
  if (args.mount === undefined) notes.push('integration URIs not checked (pass --mount)')
  if (args.json === true) {
    printJson(io, {
      apiId,
      name: name ?? null,
      region,
      stage: args.stage ?? null,
      clean: findings.length === 0,
      findings,
      notes,
    })
  } else {
    const where = `${region}${args.stage === undefined ? '' : `, stage ${args.stage}`}`
    printHuman(
      io,
      `apigw-ws doctor: API ${apiId}${name ? ` (${name})` : ''} in ${where}`,
      findings,
      notes,
    )
  }
  return findings.length === 0 ? EXIT.OK : EXIT.FINDINGS
}
