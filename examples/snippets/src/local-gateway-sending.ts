import { awsConnections } from '@apigw-ws/core/aws'
import { startLocalGateway } from '@apigw-ws/local-gateway'

const gateway = await startLocalGateway({
  integration: { type: 'http', baseUrl: 'http://127.0.0.1:3000/ws' },
})

// The local gateway accepts any SigV4 signature, so any credentials do.
export const connections = awsConnections({
  endpoint: gateway.managementEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
})
