import { gatewayOptions } from '@apigw-ws/cdk/settings'
import { createGateway } from '@apigw-ws/core'
import { memoryStore } from '@apigw-ws/store-memory'
import { chatSettings } from './cdk-settings.js'

// Read the secret from where APIGW_WS_SECRET_SOURCE says (see secretSourceFromEnvironment).
declare const secretFromSecretsManager: string

export const gateway = createGateway({
  ...gatewayOptions(chatSettings, {
    integrationSecret: secretFromSecretsManager,
    apiId: process.env.APIGW_WS_API_ID,
  }),
  store: memoryStore(),
  allowedOrigins: ['https://app.example.com'],
})
