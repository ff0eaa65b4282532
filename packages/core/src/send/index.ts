/**
 * The sending surface of `@apigw-ws/core`: the sender factory, its options and report types, and
 * the payload rules. The main entry re-exports this module; the transport SPI lives beside it in
 * `transport.ts`.
 */

export type { SendData } from './payload.js'
export { MAX_PAYLOAD_BYTES, PayloadTooLargeError } from './payload.js'
export type { SendFailure, SendReport } from './report.js'
export type {
  ChannelSendOptions,
  Sender,
  SenderOptions,
  SendOptions,
  VerifyOptions,
} from './sender.js'
export { createSender } from './sender.js'
export type * from './transport.js'
