// BOLT #2 channel messages as strict JSON schemas: establishment, normal operation, close, reestablish.
// Field names are BOLT #2's, in snake_case. What the schema checks is shape and range only; the
// receiver rules that depend on channel state (reserve, in-flight, CLTV, ...) live in protocol/channel/.
import { z } from 'zod'
import {
  MAX_FAIL_DETAIL_CHARS, MAX_FORWARDED_INVOICE_CHARS, MAX_FUNDING_SATOSHIS, MAX_HTLC_SIGNATURES, MAX_IDEMPOTENCY_KEY_CHARS,
  MAX_REFERENCE_CHARS, MAX_SHUTDOWN_SCRIPT_BYTES, MAX_SPLIT_RECIPIENTS,
} from '../limits.ts'
import { PUSH_PLAINTEXT_BYTES } from '../push/secret.ts'
import {
  channelId, height, hex32, hexArray, hexBytes, hexBytesBetween, msatAmount, nodeId, point33, satAmount, signature64,
  text, txid, u16, u32, u64, u8,
} from './fields.ts'

/** BOLT #2 channel_type, as a name instead of a feature bitfield. `static_remotekey` first; `anchors`
 *  (option_anchors_zero_fee_htlc_tx) later (DESIGN.md). */
export const CHANNEL_TYPES = ['static_remotekey', 'anchors'] as const
export const channelType = z.enum(CHANNEL_TYPES)
export type ChannelType = z.infer<typeof channelType>

/** BOLT #2 shutdown / upfront_shutdown_script: a scriptPubKey. Whether it is one of the allowed forms
 *  (P2PKH, P2SH, P2WPKH, P2WSH, segwit v1+) is a receiver rule, checked by the channel. */
const scriptPubKey = hexBytesBetween(1, MAX_SHUTDOWN_SCRIPT_BYTES)

// ── Channel establishment (BOLT #2 "Channel Establishment v1") ──

export const openChannel = z.strictObject({
  type: z.literal('open_channel'),
  chain_hash: hex32,
  temporary_channel_id: channelId,
  funding_satoshis: satAmount.refine((n) => n <= MAX_FUNDING_SATOSHIS, {
    error: `must be ≤ ${MAX_FUNDING_SATOSHIS} (BOLT #2: less than 2^24 without option_large_channel)`,
  }),
  push_msat: msatAmount,
  dust_limit_satoshis: satAmount,
  max_htlc_value_in_flight_msat: msatAmount,
  channel_reserve_satoshis: satAmount,
  htlc_minimum_msat: msatAmount,
  feerate_per_kw: u32,
  to_self_delay: u16,
  max_accepted_htlcs: u16,
  funding_pubkey: point33,
  revocation_basepoint: point33,
  payment_basepoint: point33,
  delayed_payment_basepoint: point33,
  htlc_basepoint: point33,
  first_per_commitment_point: point33,
  /** Bit 0: announce_channel. Always 0 here (hub channels are private), but carried as BOLT #2 does. */
  channel_flags: u8,
  upfront_shutdown_script: scriptPubKey.optional(),
  channel_type: channelType,
})

export const acceptChannel = z.strictObject({
  type: z.literal('accept_channel'),
  temporary_channel_id: channelId,
  dust_limit_satoshis: satAmount,
  max_htlc_value_in_flight_msat: msatAmount,
  channel_reserve_satoshis: satAmount,
  htlc_minimum_msat: msatAmount,
  minimum_depth: u32,
  to_self_delay: u16,
  max_accepted_htlcs: u16,
  funding_pubkey: point33,
  revocation_basepoint: point33,
  payment_basepoint: point33,
  delayed_payment_basepoint: point33,
  htlc_basepoint: point33,
  first_per_commitment_point: point33,
  upfront_shutdown_script: scriptPubKey.optional(),
  channel_type: channelType,
})

export const fundingCreated = z.strictObject({
  type: z.literal('funding_created'),
  temporary_channel_id: channelId,
  /** RPC (display) byte order, like every Txid here; BOLT #2's binary field is in internal order. */
  funding_txid: txid,
  funding_output_index: u16,
  signature: signature64,
})

export const fundingSigned = z.strictObject({
  type: z.literal('funding_signed'),
  channel_id: channelId,
  signature: signature64,
})

export const channelReady = z.strictObject({
  type: z.literal('channel_ready'),
  channel_id: channelId,
  second_per_commitment_point: point33,
})

// ── Normal operation (BOLT #2 "Normal Operation") ──

/** An idempotency key: what the SDK accepts (client-sdk/options.ts) and the hub keeps per payer. */
export const IDEMPOTENCY_KEY = new RegExp(`^[0-9A-Za-z_.:-]{1,${MAX_IDEMPOTENCY_KEY_CHARS}}$`)

/** A push payment's preimage and amount, sealed to the payee's node key (protocol/push/secret.ts):
 *  the hub forwards it and cannot read it. */
export const pushSecret = z.strictObject({
  ephemeral_point: point33,
  ciphertext: hexBytes(PUSH_PLAINTEXT_BYTES),
  tag: hex32,
})

export const splitLeg = z.strictObject({
  split_id: hex32,
  index: u16.refine(n => n < MAX_SPLIT_RECIPIENTS, { error: `must be below ${MAX_SPLIT_RECIPIENTS} (MAX_SPLIT_RECIPIENTS)` }),
  count: u16.refine(n => n >= 1 && n <= MAX_SPLIT_RECIPIENTS, { error: `must be 1 to ${MAX_SPLIT_RECIPIENTS} (MAX_SPLIT_RECIPIENTS)` }),
  payer: nodeId,
  /** Seconds since 1970: the payer releases the split before this, or never. */
  release_by: u64,
  secret: pushSecret,
})

/** DESIGN.md "Payment metadata": a small bounded object forwarded to the payee so receipts can say
 *  what a payment was for. */
export const htlcMetadata = z.strictObject({
  /** Merkle root of a stream tick's line items. */
  stream_root: hex32.optional(),
  /** Id shared by every leg of one split payment. */
  split_id: hex32.optional(),
  /** The platform's own reference for the payment. */
  reference: text(MAX_REFERENCE_CHARS).optional(),
  /** The BOLT #11 invoice being paid (regtest prefix lnbcrt). */
  invoice: z.string().max(MAX_FORWARDED_INVOICE_CHARS, { error: `must be at most ${MAX_FORWARDED_INVOICE_CHARS} characters` })
    .regex(/^[0-9a-z]*$/i, { error: 'must be a bech32 string' }).optional(),
  /** A push payment (no invoice): its preimage, sealed to the payee. */
  push: pushSecret.optional(),
  /** The payer's idempotency key: the hub refuses a second payment under one key of one payer. */
  idempotency_key: z.string().regex(IDEMPOTENCY_KEY, { error: 'must be 1-64 characters of [0-9A-Za-z_.:-]' }).optional(),
  /** A leg of a split payment (DESIGN.md "Splits"): its place in the split, the payer whose abort
   *  counts, the release deadline, and r_i sealed to the recipient (protocol/split/secrets.ts). */
  split_leg: splitLeg.optional(),
})
export type HtlcMetadata = z.infer<typeof htlcMetadata>

export const updateAddHtlc = z.strictObject({
  type: z.literal('update_add_htlc'),
  channel_id: channelId,
  id: u64,
  amount_msat: msatAmount.refine((n) => n >= 1, { error: 'must be ≥ 1' }),
  payment_hash: hex32,
  cltv_expiry: height,
  /** The final payee. The hub is the only intermediary, so an HTLC names its recipient: no onion. */
  recipient: nodeId,
  metadata: htlcMetadata.optional(),
})

export const updateFulfillHtlc = z.strictObject({
  type: z.literal('update_fulfill_htlc'),
  channel_id: channelId,
  id: u64,
  payment_preimage: hex32,
})

/** Why an HTLC failed, in place of BOLT #4's encrypted onion failure. Names are BOLT #4's failure
 *  messages where one exists. */
export const HTLC_FAILURE_REASONS = [
  'incorrect_or_unknown_payment_details', // payee does not know the hash, or amount/expiry is wrong
  'final_incorrect_cltv_expiry',          // payee: cltv_expiry too close
  'final_incorrect_htlc_amount',          // payee: amount differs from what was forwarded
  'expiry_too_soon',                      // hub: too close to expiry to forward
  'incorrect_cltv_expiry',                // hub: expiry delta below its policy
  'fee_insufficient',                     // hub: amount does not cover the hub's fee
  'amount_below_minimum',                 // hub: below the downstream channel's htlc_minimum_msat
  'temporary_channel_failure',            // hub: downstream channel has no capacity now
  'permanent_channel_failure',            // hub: downstream channel is closing or closed
  'unknown_next_peer',                    // hub: recipient has no channel with the hub
  'recipient_offline',                    // hub: recipient did not come back before the deadline
  'temporary_node_failure',               // a node-wide transient failure (storage, shutdown)
  'permanent_node_failure',               // a node-wide permanent failure
  'mpp_timeout',                          // a split did not complete in time
  'invoice_expired',                      // payee: the invoice being paid has expired
  'idempotency_key_reused',               // hub: the payer used this key for another payment (other payee, amount or reference)
  'duplicate_payment',                    // hub: the payer's key names a payment that succeeded or is in flight
] as const
export const htlcFailureReason = z.enum(HTLC_FAILURE_REASONS)
export type HtlcFailureReason = z.infer<typeof htlcFailureReason>

export const updateFailHtlc = z.strictObject({
  type: z.literal('update_fail_htlc'),
  channel_id: channelId,
  id: u64,
  reason: htlcFailureReason,
  detail: text(MAX_FAIL_DETAIL_CHARS).optional(),
})

export const commitmentSigned = z.strictObject({
  type: z.literal('commitment_signed'),
  channel_id: channelId,
  signature: signature64,
  /** BOLT #2: one signature per untrimmed HTLC of the receiver's new commitment, in the order of the
   *  HTLC outputs in that transaction. BOLT's `num_htlcs` is the array length. */
  htlc_signatures: hexArray(64, 64, MAX_HTLC_SIGNATURES),
  /** BOLT #2: "MUST set `funding_txid` to the funding transaction spent by this commitment
   *  transaction" — with splices pending, it tells the batch's commitments apart. */
  funding_txid: txid.optional(),
})

export const revokeAndAck = z.strictObject({
  type: z.literal('revoke_and_ack'),
  channel_id: channelId,
  per_commitment_secret: hex32,
  next_per_commitment_point: point33,
})

export const updateFee = z.strictObject({
  type: z.literal('update_fee'),
  channel_id: channelId,
  /** Range only; the 253 sat/kw floor and affordability are receiver rules (fee_out_of_range). */
  feerate_per_kw: u32,
})

// ── Close (BOLT #2 "Channel Close") ──

export const shutdown = z.strictObject({
  type: z.literal('shutdown'),
  channel_id: channelId,
  scriptpubkey: scriptPubKey,
})

/** Classic closing fee negotiation with `fee_range` (BOLT #2 closing_signed). Chosen over
 *  closing_complete/closing_sig (option_simple_close) because the funder pays the whole fee as in
 *  our commitments, overlapping ranges agree in one round trip, and the closing transaction is the
 *  BOLT #3 one our transaction code and its test vectors already cover. */
export const closingSigned = z.strictObject({
  type: z.literal('closing_signed'),
  channel_id: channelId,
  fee_satoshis: satAmount,
  signature: signature64,
  fee_range: z.strictObject({
    min_fee_satoshis: satAmount,
    max_fee_satoshis: satAmount,
  }).refine((r) => r.min_fee_satoshis <= r.max_fee_satoshis, {
    error: 'min_fee_satoshis must be ≤ max_fee_satoshis',
  }).optional(),
})

// ── Reestablish (BOLT #2 "Message Retransmission") ──

export const channelReestablish = z.strictObject({
  type: z.literal('channel_reestablish'),
  channel_id: channelId,
  /** The commitment number of the next commitment_signed the sender expects to receive. */
  next_commitment_number: u64,
  /** The commitment number of the next revoke_and_ack the sender expects to receive. */
  next_revocation_number: u64,
  /** Last per-commitment secret received from the peer, or 32 zero bytes if none
   *  (option_data_loss_protect / option_static_remotekey). */
  your_last_per_commitment_secret: hex32,
  my_current_per_commitment_point: point33,
  /** BOLT #2 `next_funding` TLV: the sender sent commitment_signed for this interactive (splice)
   *  transaction and has not received tx_signatures for it. `retransmit_flags` bit 0: it has not
   *  received our commitment_signed for it either (resend it). */
  next_funding: z.strictObject({
    next_funding_txid: txid,
    retransmit_flags: u8,
  }).optional(),
  /** BOLT #2 `my_current_funding_locked` TLV: the latest funding transaction the sender sent
   *  splice_locked (or channel_ready) for. `retransmit_flags` bit 0 asks for announcement_signatures,
   *  which this hub never sends (its channels are not announced): always 0 here. */
  my_current_funding_locked: z.strictObject({
    my_current_funding_locked_txid: txid,
    retransmit_flags: u8,
  }).optional(),
})

export type OpenChannel = z.infer<typeof openChannel>
export type AcceptChannel = z.infer<typeof acceptChannel>
export type FundingCreated = z.infer<typeof fundingCreated>
export type FundingSigned = z.infer<typeof fundingSigned>
export type ChannelReady = z.infer<typeof channelReady>
export type UpdateAddHtlc = z.infer<typeof updateAddHtlc>
export type UpdateFulfillHtlc = z.infer<typeof updateFulfillHtlc>
export type UpdateFailHtlc = z.infer<typeof updateFailHtlc>
export type CommitmentSigned = z.infer<typeof commitmentSigned>
export type RevokeAndAck = z.infer<typeof revokeAndAck>
export type UpdateFee = z.infer<typeof updateFee>
export type Shutdown = z.infer<typeof shutdown>
export type ClosingSigned = z.infer<typeof closingSigned>
export type ChannelReestablish = z.infer<typeof channelReestablish>
