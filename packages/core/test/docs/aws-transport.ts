import { awsConnections } from '@apigw-ws/core/aws'

// Each connection is reached at https://{apiId}.execute-api.eu-west-1.amazonaws.com/{stage},
// from the API id and stage it connected through. Credentials come from the SDK's default chain.
export const connections = awsConnections({ region: 'eu-west-1' })
