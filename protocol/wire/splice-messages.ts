// BOLT #2 splicing messages: quiescence (stfu), splice_init/ack/locked, commitment batches
// (start_batch) and the interactive transaction construction (tx_*, with tx_init_rbf/tx_ack_rbf).
// The receiver rules that need the channel's state are protocol/channel/splice/ and
// protocol/interactive-tx/.
import { z } from 'zod'
import {
  MAX_ERROR_TEXT_CHARS, MAX_INTERACTIVE_INPUTS_OUTPUTS, MAX_PREVTX_BYTES, MAX_TX_OUTPUT_SCRIPT_BYTES, MAX_WITNESS_ITEM_BYTES,
  MAX_WITNESS_ITEMS,
} from '../limits.ts'
import {
  boundedArray, channelId, hexArray, hexBytesBetween, point33, s64, satAmount, signature64, text, txid, u16, u32, u64,
} from './fields.ts'

/** BOLT #2 "Channel Quiescence": `initiator` is 1 if the sender started quiescence (a boolean here). */
export const stfu = z.strictObject({
  type: z.literal('stfu'),
  channel_id: channelId,
  initiator: z.boolean(),
})

/** BOLT #1 message type of commitment_signed: what start_batch's `message_type` names. */
export const COMMITMENT_SIGNED_MESSAGE_TYPE = 132

/** BOLT #2 "Batching channel messages": while a splice is pending, one commitment_signed per funding
 *  candidate follows, `batch_size` in all. */
export const startBatch = z.strictObject({
  type: z.literal('start_batch'),
  channel_id: channelId,
  /** Range only; `batch_size` ≤ 1 (ignore) and > MAX_COMMITMENT_BATCH_SIZE are receiver rules. */
  batch_size: u16,
  /** BOLT #2: the sender "MUST set `message_type` to `132` (`commitment_signed`)"; a receiver
   *  ignores a start_batch without it or with another type. */
  message_type: u16.optional(),
})

export const spliceInit = z.strictObject({
  type: z.literal('splice_init'),
  channel_id: channelId,
  /** Signed: positive splices in, negative splices out. */
  funding_contribution_satoshis: s64,
  funding_feerate_perkw: u32,
  locktime: u32,
  funding_pubkey: point33,
  require_confirmed_inputs: z.boolean().optional(),
})

export const spliceAck = z.strictObject({
  type: z.literal('splice_ack'),
  channel_id: channelId,
  funding_contribution_satoshis: s64,
  funding_pubkey: point33,
  require_confirmed_inputs: z.boolean().optional(),
})

export const spliceLocked = z.strictObject({
  type: z.literal('splice_locked'),
  channel_id: channelId,
  splice_txid: txid,
})

export const txAddInput = z.strictObject({
  type: z.literal('tx_add_input'),
  channel_id: channelId,
  /** BOLT #2: even for the initiator, odd for the non-initiator. Checked by the negotiation. */
  serial_id: u64,
  /** The whole previous transaction, so the receiver can check the spent output is segwit. Empty
   *  (BOLT `prevtx_len` 0) for the shared input of a splice, named by `shared_input_txid`. */
  prevtx: hexBytesBetween(0, MAX_PREVTX_BYTES),
  prevtx_vout: u32,
  sequence: u32,
  /** Splicing: the current funding output is spent by txid instead of a prevtx. */
  shared_input_txid: txid.optional(),
})

export const txAddOutput = z.strictObject({
  type: z.literal('tx_add_output'),
  channel_id: channelId,
  serial_id: u64,
  sats: satAmount,
  script: hexBytesBetween(1, MAX_TX_OUTPUT_SCRIPT_BYTES),
})

export const txRemoveInput = z.strictObject({
  type: z.literal('tx_remove_input'),
  channel_id: channelId,
  serial_id: u64,
})

export const txRemoveOutput = z.strictObject({
  type: z.literal('tx_remove_output'),
  channel_id: channelId,
  serial_id: u64,
})

export const txComplete = z.strictObject({
  type: z.literal('tx_complete'),
  channel_id: channelId,
})

/** BOLT #2 interactive tx: either side may abort the negotiation, with a reason as in `error`. */
export const txAbort = z.strictObject({
  type: z.literal('tx_abort'),
  channel_id: channelId,
  data: text(MAX_ERROR_TEXT_CHARS),
})

/** BOLT #2 "tx_init_rbf": replace the last negotiated transaction at a feerate at least 25/24 of its. */
export const txInitRbf = z.strictObject({
  type: z.literal('tx_init_rbf'),
  channel_id: channelId,
  locktime: u32,
  feerate: u32,
  /** Signed, as in splice_init: what the sender adds to (or takes from) its channel balance. Absent: 0. */
  funding_output_contribution: s64.optional(),
  require_confirmed_inputs: z.boolean().optional(),
})

export const txAckRbf = z.strictObject({
  type: z.literal('tx_ack_rbf'),
  channel_id: channelId,
  funding_output_contribution: s64.optional(),
  require_confirmed_inputs: z.boolean().optional(),
})

const witness = hexArray(0, MAX_WITNESS_ITEM_BYTES, MAX_WITNESS_ITEMS)

export const txSignatures = z.strictObject({
  type: z.literal('tx_signatures'),
  channel_id: channelId,
  txid,
  /** One witness per input the sender added, in serial_id order. */
  witnesses: boundedArray(witness, MAX_INTERACTIVE_INPUTS_OUTPUTS),
  /** Splicing: the sender's signature for the shared (current funding) input. */
  shared_input_signature: signature64.optional(),
})

export type Stfu = z.infer<typeof stfu>
export type StartBatch = z.infer<typeof startBatch>
export type TxAbort = z.infer<typeof txAbort>
export type SpliceInit = z.infer<typeof spliceInit>
export type SpliceAck = z.infer<typeof spliceAck>
export type SpliceLocked = z.infer<typeof spliceLocked>
export type TxAddInput = z.infer<typeof txAddInput>
export type TxAddOutput = z.infer<typeof txAddOutput>
export type TxRemoveInput = z.infer<typeof txRemoveInput>
export type TxRemoveOutput = z.infer<typeof txRemoveOutput>
export type TxComplete = z.infer<typeof txComplete>
export type TxSignatures = z.infer<typeof txSignatures>
export type TxInitRbf = z.infer<typeof txInitRbf>
export type TxAckRbf = z.infer<typeof txAckRbf>
