import { awsConnections } from '@apigw-ws/core/aws'

// The local gateway serves `@connections` on its own port under its stage and prints the
// endpoint (`managementEndpoint`) when it starts. It does not check signatures, so any
// credentials will do, but the SDK needs some.
export const connections = awsConnections({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:4000/local',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
})
