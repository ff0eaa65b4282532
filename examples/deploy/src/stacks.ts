/**
 * The chat example's WebSocket API as CDK stacks, one per integration mode:
 * - `chatHttpStack`: HTTP_PROXY to the chat app (the Hono server of examples/chat, running
 *   wherever you host it, with `websocketRoutes` mounted at `/ws`), plus the role the app runs
 *   under, allowed to send and disconnect on this stage and to read the integration secret;
 * - `chatLambdaStack`: AWS_PROXY to `lambda-handler.ts`, bundled with esbuild.
 */
import { fileURLToPath } from 'node:url'
import { WebSocketBackend, WebSocketGateway } from '@apigw-ws/cdk'
import { CfnOutput, Duration, SecretValue, Stack, type StackProps } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs'
import type { Construct } from 'constructs'
import { chatSettings } from './settings.js'

/** Props of {@link ChatHttpStack}. */
export interface ChatHttpStackProps extends StackProps {
  /** Where the chat app mounts its WebSocket routes, e.g. `https://chat.example.com/ws`. */
  readonly backendUrl: string
}

/** The chat's WebSocket API in front of the chat app (HTTP_PROXY). */
export class ChatHttpStack extends Stack {
  readonly gateway: WebSocketGateway
  readonly appRole: iam.Role

  constructor(scope: Construct, id: string, props: ChatHttpStackProps) {
    super(scope, id, props)
    this.gateway = new WebSocketGateway(this, 'WebSocket', {
      backend: WebSocketBackend.http(props.backendUrl),
      settings: chatSettings('http'),
    })
    this.appRole = new iam.Role(this, 'AppRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'The chat app: sends and disconnects through @connections, reads the secret',
    })
    this.gateway.grantManageConnections(this.appRole, { disconnect: true })
    this.gateway.grantSecretRead(this.appRole)
    new CfnOutput(this, 'AppRoleArn', { value: this.appRole.roleArn })
    new CfnOutput(this, 'AppEnvironment', {
      value: this.toJsonString(this.gateway.backendEnvironment()),
      description: 'Environment variables for the chat app',
    })
  }
}

/** Props of {@link ChatLambdaStack}. */
export interface ChatLambdaStackProps extends StackProps {
  /** Name of a Secrets Manager secret holding the PostgreSQL URL. */
  readonly databaseUrlSecretName: string
  /** Origins allowed to connect, e.g. `https://chat.example.com`. */
  readonly allowedOrigins: readonly string[]
}

/** The chat's WebSocket API served by a Lambda function (AWS_PROXY). */
export class ChatLambdaStack extends Stack {
  readonly gateway: WebSocketGateway
  readonly handler: NodejsFunction

  constructor(scope: Construct, id: string, props: ChatLambdaStackProps) {
    super(scope, id, props)
    this.handler = new NodejsFunction(this, 'Handler', {
      entry: fileURLToPath(new URL('./lambda-handler.ts', import.meta.url)),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      memorySize: 512,
      timeout: Duration.seconds(10),
      bundling: {
        format: OutputFormat.ESM,
        // Workspace packages resolve to their sources here; an installed app resolves `dist`.
        esbuildArgs: { '--conditions': '@apigw-ws/source' },
        externalModules: ['@aws-sdk/*', 'pg-native'],
        banner: "import{createRequire}from'module';const require=createRequire(import.meta.url);",
      },
    })
    this.gateway = new WebSocketGateway(this, 'WebSocket', {
      backend: WebSocketBackend.lambda(this.handler),
      settings: chatSettings('lambda'),
    })
    for (const [name, value] of Object.entries(this.gateway.backendEnvironment())) {
      this.handler.addEnvironment(name, value)
    }
    this.handler.addEnvironment('ALLOWED_ORIGINS', props.allowedOrigins.join(','))
    // Resolved by CloudFormation at deploy time (a dynamic reference): not in the template.
    this.handler.addEnvironment(
      'DATABASE_URL',
      SecretValue.secretsManager(props.databaseUrlSecretName).unsafeUnwrap(),
    )
    this.gateway.grantManageConnections(this.handler, { disconnect: true })
  }
}

/** Both stacks in `app`, configured from context (`-c backendUrl=…` etc.) or the defaults. */
export function chatStacks(app: Construct): {
  readonly http: ChatHttpStack
  readonly lambda: ChatLambdaStack
} {
  const context = (key: string, fallback: string): string => {
    const value: unknown = app.node.tryGetContext(key)
    return typeof value === 'string' && value !== '' ? value : fallback
  }
  return {
    http: new ChatHttpStack(app, 'ChatHttp', {
      backendUrl: context('backendUrl', 'https://chat.example.com/ws'),
    }),
    lambda: new ChatLambdaStack(app, 'ChatLambda', {
      databaseUrlSecretName: context('databaseUrlSecretName', 'chat/database-url'),
      allowedOrigins: context('allowedOrigins', 'https://chat.example.com').split(','),
    }),
  }
}
