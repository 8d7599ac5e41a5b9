// Public surface of the wire layer: message types and schemas, and the frame codec.
export * from './messages.ts'
export { CHANNEL_TYPES, HTLC_FAILURE_REASONS } from './channel-messages.ts'
export { decodeFrame, encodeMessage, wireErrorToChannelError } from './codec.ts'
export type { DecodeResult, WireError, WireReason } from './codec.ts'
