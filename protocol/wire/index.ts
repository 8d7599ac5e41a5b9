// Public surface of the wire layer: message types and schemas, and the frame codec.
//
// The wire in one paragraph (DESIGN.md "Protocol decisions"): one JSON object per WebSocket frame,
// at most MAX_FRAME_BYTES; `{ "type": "<BOLT name>", ...BOLT #2 fields in snake_case }`; bytes are
// lowercase hex of exact length; amounts are safe integers named `_msat` or `_satoshis`; every
// object is strict (an unknown field is refused). Departures from BOLT #2, and why:
//  - update_add_htlc names its `recipient` and carries bounded `metadata` instead of an onion: the
//    hub is the only intermediary.
//  - update_fail_htlc carries a `reason` from a closed set (BOLT #4 names) and an optional short
//    `detail` instead of an encrypted onion failure; with no onion there is no
//    update_fail_malformed_htlc either.
//  - commitment_signed's `num_htlcs` is the length of `htlc_signatures`; channel_type is a name, not
//    a feature bitfield; stfu's `initiator` is a boolean.
//  - closing uses closing_signed with `fee_range` (see channel-messages.ts for why).
//  - ping's num_pong_bytes is capped so that the pong fits one frame.
//  - a TLV of several fields is an object named after the TLV (channel_reestablish `next_funding`,
//    `my_current_funding_locked`); a TLV of one field is that field, optional.
export * from './messages.ts'
export { CHANNEL_TYPES, HTLC_FAILURE_REASONS, IDEMPOTENCY_KEY } from './channel-messages.ts'
export { decodeFrame, encodeMessage, wireErrorToChannelError } from './codec.ts'
export type { DecodeResult, WireError, WireReason } from './codec.ts'
