/**
 * `pnpm --filter @apigw-ws/example-deploy synth`: synthesizes both stacks into `cdk.out`
 * (`ChatHttp.template.json`, `ChatLambda.template.json`) without AWS credentials. Context such as
 * `backendUrl` comes from `cdk.json`/`-c` when run by the CDK CLI (`npx cdk synth`).
 */
import { fileURLToPath } from 'node:url'
import { App } from 'aws-cdk-lib'
import { chatStacks } from './stacks.js'

const app = new App({
  outdir: process.env.CDK_OUTDIR ?? fileURLToPath(new URL('../cdk.out', import.meta.url)),
})
chatStacks(app)
const assembly = app.synth()
for (const stack of assembly.stacks) {
  console.log(`${stack.stackName}: ${stack.templateFullPath}`)
}
