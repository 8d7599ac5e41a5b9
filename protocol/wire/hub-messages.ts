// Hub-specific messages (DESIGN.md: "Hub-specific messages ... are added beside them"). They are not
// BOLT messages: they exist because every party has exactly one counterparty, the hub.
import { z } from 'zod'
import { MAX_FUNDING_SATOSHIS, MAX_MERKLE_PATH, MAX_STREAM_CHUNK_CHARS, MAX_STREAM_TICK_ITEMS } from '../limits.ts'
import { proofAnchorSchema, proofEntrySchema } from '../receipt/proof.ts'
import { receiptSchema } from '../receipt/receipt.ts'
import { PACKED_ITEMS } from '../stream/item.ts'
import { channelId, height, hex32, msatAmount, nodeId, satAmount, signature64, u16, u32, u64 } from './fields.ts'

const fundingSatoshis = satAmount.refine((n) => n <= MAX_FUNDING_SATOSHIS, {
  error: `must be ≤ ${MAX_FUNDING_SATOSHIS} (BOLT #2: less than 2^24 without option_large_channel)`,
})

/** client → hub: "open a channel to me with your funds" (inbound liquidity for a creator or a
 *  treasury). The hub answers with open_channel (the usual BOLT #2 flow, hub as opener) or with an
 *  `error` saying why not. `funding_satoshis` is a wish: the hub caps it at its configured size. */
export const requestChannel = z.strictObject({
  type: z.literal('request_channel'),
  funding_satoshis: fundingSatoshis.optional(),
})

/** hub → client, right after authentication: what the hub charges and expects, so the client can
 *  compute what to offer (protocol/forwarding.ts) and which expiry to set. */
export const hubPolicy = z.strictObject({
  type: z.literal('hub_policy'),
  chain_hash: hex32,
  /** BOLT #7 fee_base_msat / fee_proportional_millionths, charged on the forwarded amount. */
  fee_base_msat: msatAmount,
  fee_proportional_millionths: u32,
  /** The hub subtracts this from the incoming cltv_expiry for the HTLC it forwards. */
  cltv_expiry_delta: u16,
  /** Size of the channels the hub opens on request. */
  funding_satoshis: fundingSatoshis,
  /** Confirmations the hub waits for before a channel it accepts is usable. */
  minimum_depth: u32,
})

/** hub → payer: the HTLC `id` the payer offered on `channel_id` is for a payee that is offline (or whose
 *  channel is still opening), and the hub holds it, durably, until the payee returns or the hold ends
 *  (then the HTLC is forwarded, or failed back with `recipient_offline`). Sent once the hold is stored,
 *  and again when the payer's channel reestablishes. It settles nothing: the payment is pending. */
export const paymentHeld = z.strictObject({
  type: z.literal('payment_held'),
  channel_id: channelId,
  id: u64,
  payment_hash: hex32,
  /** The hold ends at this time (seconds since 1970) or at this block height, whichever comes first. */
  until_time: u64,
  until_height: height,
})

/** payer → hub → payee: items of a stream tick (DESIGN.md "Streams"), relayed beside the tick's HTLC.
 *  From the payer, `peer` is the payee; the hub relays it with `peer` set to the payer (the node id
 *  that connection proved) and keeps nothing. `first` is the index of the first item in the tick;
 *  `items` are packed in one string (protocol/stream/item.ts packStreamItems: the hub relays it as it
 *  is, the payee checks every item); a message without items asks the payee for the tick's receipt
 *  again. */
export const streamItems = z.strictObject({
  type: z.literal('stream_items'),
  peer: nodeId,
  payment_hash: hex32,
  count: z.number().int().min(1).max(MAX_STREAM_TICK_ITEMS),
  root: hex32,
  first: z.number().int().min(0).max(MAX_STREAM_TICK_ITEMS - 1),
  items: z.string().max(MAX_STREAM_CHUNK_CHARS)
    .regex(PACKED_ITEMS, { error: 'must be packed items: printable ASCII without " or \\, TAB, LF' }),
})

/** payee → hub → payer: the payee's signature over a tick it fulfilled (protocol/stream/tick.ts), relayed
 *  like stream_items (`peer`: the payer from the payee, the payee from the hub). */
export const streamReceipt = z.strictObject({
  type: z.literal('stream_receipt'),
  peer: nodeId,
  payment_hash: hex32,
  signature: signature64,
})

export type StreamItemsMessage = z.infer<typeof streamItems>
export type StreamReceiptMessage = z.infer<typeof streamReceipt>
export type RequestChannel = z.infer<typeof requestChannel>
export type PaymentHeld = z.infer<typeof paymentHeld>
export type HubPolicy = z.infer<typeof hubPolicy>

/** hub → payer and payee: the hub's signed receipt of a settled payment (protocol/receipt/receipt.ts),
 *  sent once the audit entry that records it is durable, and again on request (receipt_request). */
export const paymentReceipt = z.strictObject({
  type: z.literal('payment_receipt'),
  receipt: receiptSchema,
  signature: signature64,
})

/** client → hub: "send me the receipt of this payment of mine, and its inclusion proof if it is anchored". */
export const receiptRequest = z.strictObject({
  type: z.literal('receipt_request'),
  payment_hash: hex32,
})

/** hub → client, the answer to receipt_request (after its payment_receipt): `anchored` with the proof
 *  (protocol/receipt/proof.ts: the entry, its Merkle path, the anchor), `not_anchored` while no anchor
 *  over the entry is final, `unknown` when the hub has no receipt of this payment for this node id. */
export const receiptProof = z.strictObject({
  type: z.literal('receipt_proof'),
  payment_hash: hex32,
  status: z.enum(['anchored', 'not_anchored', 'unknown']),
  entry: proofEntrySchema.optional(),
  path: z.array(hex32).max(MAX_MERKLE_PATH).optional(),
  anchor: proofAnchorSchema.optional(),
})

export type PaymentReceipt = z.infer<typeof paymentReceipt>
export type ReceiptRequest = z.infer<typeof receiptRequest>
export type ReceiptProofMessage = z.infer<typeof receiptProof>
