/**
 * A minimal AWS Signature Version 4 signer for `@connections` POSTs, written for the sending
 * benchmark's "raw signed HTTP" baseline: the least work any client must do per send (hash the
 * body, hash the canonical request, one HMAC with a signing key derived once per day). It is
 * not used by the library, which signs through the AWS SDK.
 */
import { createHash, createHmac } from 'node:crypto'

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest()
}

/** Signs POSTs to `host` for `region`/`execute-api`, caching the day's signing key. */
export function sigv4Signer(options: {
  readonly host: string
  readonly region: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
}): (path: string, body: Uint8Array) => Record<string, string> {
  let day = ''
  let key: Buffer = Buffer.alloc(0)
  return (path, body) => {
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '')
    const date = amzDate.slice(0, 8)
    if (date !== day) {
      day = date
      key = hmac(
        hmac(hmac(hmac(`AWS4${options.secretAccessKey}`, date), options.region), 'execute-api'),
        'aws4_request',
      )
    }
    const bodyHash = createHash('sha256').update(body).digest('hex')
    // Non-S3 services sign the path URI-encoded once more.
    const canonical = `POST\n${path.replace(/%/g, '%25')}\n\nhost:${options.host}\nx-amz-date:${amzDate}\n\nhost;x-amz-date\n${bodyHash}`
    const scope = `${date}/${options.region}/execute-api/aws4_request`
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`
    const signature = createHmac('sha256', key).update(toSign).digest('hex')
    return {
      host: options.host,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${options.accessKeyId}/${scope}, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    }
  }
}
