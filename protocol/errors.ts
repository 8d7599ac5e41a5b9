// Protocol errors as values (DESIGN.md rule 5). Every error has a reason from one closed set, and the
// reason says what happens next. Throwing is kept for programmer errors (a bug on our side).
//
// What each action means for the host:
//   ignore      drop the message; send nothing; keep the connection.
//   warn        send a BOLT #1 `warning`; keep the connection and the channel.
//   disconnect  send a `warning` and close the connection; the channel stays open. On reconnection,
//               channel_reestablish forgets every update that was not signed and revoked, so a
//               violation that arrived in an uncommitted update costs nothing.
//   abort       send `tx_abort` and forget the interactive transaction being negotiated (BOLT #2 "fail
//               the negotiation"); the channel and the connection stay, nothing of it was signed. Once we
//               sent tx_signatures a negotiation can no longer be aborted: the caller says `disconnect`.
//   close       send an `error` and fail the channel (BOLT #1/#2 "fail the channel"). Before funding,
//               that only means forgetting it. After funding the channel goes on-chain — except when
//               we are behind (data-loss protection): then we ask the peer to close and never
//               broadcast our own, possibly revoked, commitment. That choice is the channel
//               machine's (its effects say whether to broadcast), not the error's.
//
// BOLT #2 mostly says "send a `warning` and close the connection, or send an `error` and fail the
// channel". We choose `disconnect` wherever the spec allows it: a force close costs fees and locks the
// counterparty's funds for to_self_delay, and for a hub one buggy or hostile message must not close a
// channel. We choose `close` where the spec says "MUST send an `error` and fail the channel" or where
// the channel cannot safely continue.
import { MAX_ERROR_TEXT_CHARS } from './limits.ts'

export type Action = 'ignore' | 'warn' | 'abort' | 'disconnect' | 'close'

/** Every reason, with the action it takes unless the caller has a better-informed one. */
export const REASONS = {
  // ── Wire (protocol/wire): the frame never became a message. BOLT #1: a message we cannot parse,
  //    or of an unknown even type, "MUST close the connection". ──
  frame_too_large: 'disconnect',     // over MAX_FRAME_BYTES, refused before parsing
  malformed_frame: 'disconnect',     // not UTF-8, not JSON, too deeply nested, not an object
  unknown_message: 'disconnect',     // `type` is not a message we know
  invalid_field: 'disconnect',       // a field is missing, extra, out of range or badly encoded

  // ── Connection and authentication (DESIGN.md "Authentication"; scenarios 19, 20) ──
  auth_failed: 'disconnect',         // bad signature, wrong hub or client id, replayed challenge
  not_authenticated: 'disconnect',   // a channel message before auth_ok
  not_your_channel: 'disconnect',    // channel of another node id: never close someone else's channel
  unknown_channel: 'warn',           // BOLT #1: a channel_id we do not know is not a reason to fail others
  unexpected_pong: 'disconnect',     // BOLT #1: pong `byteslen` matches no ping we sent: MAY close
  rate_limited: 'disconnect',        // too many messages, connections or unfunded channels (scenario 20)
  peer_error: 'close',               // BOLT #1: on `error` for a channel, "MUST fail the channel"
  peer_warning: 'ignore',            // BOLT #1: a `warning` is logged, nothing else

  // ── Channel establishment (BOLT #2 open_channel / accept_channel receiver rules). Nothing is on
  //    chain yet: `close` forgets the channel. ──
  wrong_chain: 'close',              // chain_hash is not our chain
  unsupported_channel_type: 'close',
  funding_out_of_range: 'close',     // too small for our policy, or ≥ 2^24 without large channels
  push_exceeds_funding: 'close',     // push_msat > funding_satoshis × 1000
  dust_limit_out_of_range: 'close',  // below 354 sat or above our policy
  reserve_out_of_range: 'close',     // reserve below dust limit, or too large for the channel
  to_self_delay_too_large: 'close',
  max_accepted_htlcs_out_of_range: 'close', // 0 or more than 483
  minimum_depth_too_large: 'close',
  feerate_out_of_range: 'close',     // open_channel feerate_per_kw too low or unreasonably large
  too_many_unconfirmed_channels: 'close', // per-peer or overall cap on channels whose funding is not confirmed yet

  // ── Funding (DESIGN.md "What the hub checks before it signs"; protocol/channel/funding-check.ts).
  //    `close` here abandons the channel: no valid commitment can spend a missing or wrong output, so
  //    nothing is broadcast and the host forgets the channel. ──
  channel_id_in_use: 'close',        // funding_created names a funding outpoint (channel id) of a channel we already know
  funding_output_missing: 'close',   // the funding transaction has no output at funding_output_index
  funding_output_mismatch: 'close',  // the output does not pay the 2-of-2 P2WSH of the funding keys, or not funding_satoshis
  funding_output_spent: 'close',     // the funding output was spent before the channel was ready: the monitor resolves the spend
  funding_timeout: 'close',          // BOLT #2: the funding did not confirm in time: the fundee forgets the channel

  // ── Normal operation (BOLT #2 update_add_htlc … revoke_and_ack receiver rules) ──
  amount_below_minimum: 'disconnect',   // amount 0 or below our htlc_minimum_msat
  insufficient_funds: 'disconnect',     // sender cannot afford the HTLC at the current feerate
  reserve: 'disconnect',                // the HTLC would take the sender below its channel reserve
  too_many_htlcs: 'disconnect',         // more than our max_accepted_htlcs
  max_in_flight: 'disconnect',          // more than our max_htlc_value_in_flight_msat
  dust_exposure: 'disconnect',          // dust HTLCs would exceed our max_dust_htlc_exposure_msat
  bad_cltv: 'disconnect',               // cltv_expiry ≥ 500000000, or outside our policy window
  bad_htlc_id: 'disconnect',            // id not the next one: BOLT #2 "other id violations"
  unknown_htlc: 'disconnect',           // fulfill/fail of an id not in our current commitment
  htlc_not_committed: 'disconnect',     // fulfill/fail before the add is irrevocably committed
  bad_preimage: 'disconnect',           // sha256(payment_preimage) ≠ payment_hash
  bad_signature: 'disconnect',          // commitment, HTLC or closing signature invalid or high-S
  wrong_htlc_signature_count: 'disconnect', // num_htlcs ≠ HTLC outputs of our new commitment
  empty_commitment: 'disconnect',       // commitment_signed with no update since the last one
  unexpected_revocation: 'disconnect',  // revoke_and_ack with no commitment of ours awaiting one
  bad_revocation_secret: 'close',       // BOLT #2: secret does not give the previous point: MUST fail
  fee_update_not_funder: 'disconnect',  // update_fee from the side that does not pay the fee
  fee_out_of_range: 'disconnect',       // update_fee below 253 sat/kw floor or unreasonably large
  fee_unaffordable: 'disconnect',       // the funder cannot pay the new fee on our commitment
  htlc_deadline: 'close',               // BOLT #2 cltv_expiry_delta: an HTLC past its timeout/fulfillment deadline: MUST fail the channel
  unexpected_message: 'disconnect',     // a message not allowed in the channel's current phase
  // Our owner (the application, the hub operator) or our chain monitor (an HTLC deadline) closes the
  // channel with our latest commitment: the channel fails first, then the monitor broadcasts.
  force_close: 'close',

  // ── Close (BOLT #2 shutdown / closing_signed) ──
  update_after_shutdown: 'disconnect',  // update_add_htlc after the sender's shutdown
  bad_shutdown_script: 'disconnect',    // not an allowed script form, or not the upfront one
  // BOLT #2 closing_signed receiver: fee_satoshis outside the overlap of the fee ranges, or a
  // non-funder changing the agreed fee: "MUST fail the channel".
  closing_fee_out_of_range: 'close',
  // BOLT #2: fee ranges do not overlap: "SHOULD send a warning" (fail only if none comes in time).
  closing_fee_no_overlap: 'warn',
  // BOLT #2: an output of the closing transaction below its dust limit: "MUST fail the channel".
  closing_output_dust: 'close',

  // ── Reestablish (BOLT #2 "Message Retransmission"; DESIGN.md data-loss protection) ──
  peer_lying: 'close',                  // the peer's claims contradict what it signed or revealed
  peer_behind: 'close',                 // the peer lost state; our latest commitment is safe to use
  we_are_behind: 'close',               // proven: ask the peer to close, never broadcast ours
  we_may_be_behind: 'disconnect',       // the peer claims commitments we never signed, unproven: nothing changes (reestablish.ts)
  // Our state comes from a restored backup and the peer has not proven it current: our commitment may
  // be revoked, so it is not broadcast, not even on the owner's request (hub/backup/restored.ts).
  restored_unverified: 'ignore',

  // ── Quiescence (BOLT #2 "Channel Quiescence") ──
  quiescence_violation: 'disconnect',   // an update after the sender's stfu, stfu with its own updates pending, a second stfu
  // BOLT #2: "MUST disconnect after 60 seconds of quiescence if the HTLCs are pending" (the host's timer).
  quiescence_timeout: 'disconnect',
  channel_quiescent: 'ignore',          // our add_htlc while the channel is (becoming) quiescent for a splice: retry afterwards

  // ── Splicing (BOLT #2 "Channel Splicing"): splice_init, splice_ack, tx_init_rbf, tx_ack_rbf, splice_locked.
  //    The spec's "MUST send a `warning` and close the connection or send an `error` and fail the
  //    channel" is `disconnect` here; its "MUST respond with `tx_abort`" is `abort`. ──
  splice_not_quiescent: 'disconnect',   // splice_init / tx_init_rbf outside quiescence, or from the side that did not initiate it
  splice_pending: 'disconnect',         // splice_init while another splice is negotiated or not locked; RBF after splice_locked
  splice_after_shutdown: 'disconnect',  // splice_init or tx_init_rbf after the sender's shutdown
  splice_contribution_exceeds_balance: 'disconnect', // a negative contribution larger than the sender's balance
  splice_feerate_unacceptable: 'abort', // funding_feerate_perkw outside our feerate policy
  splice_rejected: 'abort',             // we decline the splice (our host's decision, or a capacity we do not accept)
  splice_cancelled: 'abort',            // our host cancelled its splice before the transaction was complete
  splice_rbf_feerate_too_low: 'abort',  // BOLT #2 tx_init_rbf: feerate below 25/24 of the last one
  splice_rbf_fee_too_low: 'abort',      // BOLT #2 tx_complete: an RBF whose total fee is below the last one's
  splice_shared_input_invalid: 'abort', // not exactly one input spending the current funding output, or added by the non-initiator
  splice_funding_output_invalid: 'abort', // not exactly one new funding output of capacity plus contributions, or added by the
                                          // non-initiator
  splice_below_reserve: 'abort',        // a side that takes funds out (or adds outputs) keeps less than its reserve or the commitment fee
  // BOLT #2 tx_signatures (splice): "If `shared_input_signature` is not set [or] not valid ...: MUST send
  // an `error` and fail the channel."
  splice_shared_signature_invalid: 'close',
  splice_locked_unknown: 'disconnect',  // splice_locked naming no pending splice transaction
  // tx_abort after we sent tx_signatures: the peer can still complete the transaction, and going on
  // without it would revoke the commitment we hold for it. The channel closes.
  splice_aborted_after_signing: 'close',
  commitment_batch_invalid: 'disconnect', // start_batch over MAX_COMMITMENT_BATCH_SIZE, or a batch interrupted by another message
  // BOLT #2 commitment_signed: "If there are pending splice transactions and the sending node did not
  // send `start_batch` followed by a batch ... [or] `commitment_signed` is missing for a funding
  // transaction: MUST send an `error` and fail the channel."
  commitment_batch_missing: 'close',

  // ── Interactive transaction construction (BOLT #2): each is "MUST fail the negotiation" ──
  interactive_tx_failed: 'abort',       // a tx_* message out of turn, or with no negotiation in progress
  tx_bad_sequence: 'abort',             // tx_add_input `sequence` 0xFFFFFFFE or 0xFFFFFFFF
  tx_bad_prevtx: 'abort',               // `prevtx` not a transaction, no output at `prevtx_vout`, or empty without the shared input
  tx_input_not_segwit: 'abort',         // the spent output is not a segwit program: its txid could be malleated
  tx_duplicate_input: 'abort',          // the same outpoint added twice
  tx_serial_id_in_use: 'abort',         // a `serial_id` already in the transaction
  tx_serial_id_parity: 'abort',         // even from the non-initiator, odd from the initiator
  tx_unknown_serial_id: 'abort',        // tx_remove_* of an id the sender did not add, or already removed
  tx_too_many_messages: 'abort',        // 4096 tx_add_input (or tx_add_output) in one negotiation
  tx_output_dust: 'abort',              // an output below the dust limit
  tx_output_too_large: 'abort',         // an output above MAX_MONEY
  tx_output_nonstandard: 'abort',       // BOLT #2: "MAY fail the negotiation if `script` is non-standard"
  tx_too_many_inputs_outputs: 'abort',  // more than 252 inputs or 252 outputs
  tx_too_heavy: 'abort',                // estimated weight above 400,000 (MAX_STANDARD_TX_WEIGHT)
  tx_peer_underpays: 'abort',           // the peer's inputs do not cover its outputs, contribution and fee at the agreed feerate
  tx_signatures_invalid: 'abort',       // empty witness, wrong count or txid, a signature not SIGHASH_ALL
  batch_terms_violated: 'abort',        // a batched settlement's transaction not paying this peer's payout as agreed (docs/DESIGN.md)
} as const satisfies Record<string, Action>

export type Reason = keyof typeof REASONS
export const ALL_REASONS = Object.keys(REASONS) as Reason[]

export type ChannelError = { action: Action; reason: Reason; detail: string }

/** An error value with its reason's default action, or `action` when the caller knows better
 *  (for example `close` for a violation found in an already committed state). */
export function channelError (reason: Reason, detail: string, action: Action = REASONS[reason]): ChannelError {
  return { action, reason, detail }
}

/** The text of the `error` or `warning` that tells the peer about `err` (BOLT #1 `data`), cut to what
 *  the wire allows. */
export function errorText (err: Pick<ChannelError, 'reason' | 'detail'>): string {
  return `${err.reason}: ${err.detail}`.slice(0, MAX_ERROR_TEXT_CHARS)
}

/** Order of severity, to combine errors: the worse action wins. */
const SEVERITY: Record<Action, number> = { ignore: 0, warn: 1, abort: 2, disconnect: 3, close: 4 }
export function worseAction (a: Action, b: Action): Action {
  return SEVERITY[a] >= SEVERITY[b] ? a : b
}
