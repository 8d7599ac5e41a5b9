// The durable record of a payout batch (docs/DESIGN.md "Batched settlement", durable writes): its plan,
// stage, round and transaction, one record per batch, written at each stage change:
//   negotiating   before the first splice_init of a round (a restart abandons the round)
//   signed        every peer signed: the fully signed transaction, before any tx_signatures of the hub
//                 leaves (a restart finishes every session and broadcasts it)
//   broadcast     handed to our node
//   negotiating / signed again, with `replaced` not empty: a replacement (RBF) of the broadcast batch at
//                 a higher feerate, written before its tx_init_rbf leaves; the transactions it
//                 replaces stay valid (the first to confirm wins) and are followed too
//   confirmed     at settlement.finalityDepth: its payouts are done
//   abandoned     no round completed (every peer dropped, maxRounds, or a restart while negotiating):
//                 nothing of it was signed by the hub; its payouts wait for the next window
import { z } from 'zod'
import { MAX_COMMITMENT_BATCH_SIZE } from '../../protocol/limits.ts'
import { keys } from '../../host/store/keys.ts'
import { parseJsonValue, put, type Store } from '../../host/store/store.ts'

/** Lowercase hex of whole bytes, at most `maxBytes` bytes. */
const hex = (maxBytes: number) => z.string().regex(/^([0-9a-f]{2})*$/).max(2 * maxBytes)
const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
/** A signed batch of 252 inputs and outputs is well under 100 kB (scripts/bench/settlement.ts). */
const MAX_BATCH_TX_BYTES = 200_000
/** The most channels a batch record lists (BOLT #2 bounds a batch to 252 inputs). */
const MAX_RECORD_CHANNELS = 252

export const BATCH_STAGES = ['negotiating', 'signed', 'broadcast', 'confirmed', 'abandoned'] as const
export type BatchStage = (typeof BATCH_STAGES)[number]

const payoutSchema = z.strictObject({
  channel_id: hex32,
  node_id: z.string().regex(/^0[23][0-9a-f]{64}$/),
  funding_txid: hex32,
  funding_vout: count,
  capacity_sat: count,
  new_capacity_sat: count,
  payout_script: hex(34),
  payout_sat: count,
  fee_sat: count,
})
export type BatchPayoutRecord = z.infer<typeof payoutSchema>

/** A signed transaction of the batch that a replacement (RBF) replaced: still valid until another of
 *  the batch's transactions confirms. */
const replacedSchema = z.strictObject({
  txid: hex32,
  feerate_per_kw: count,
  locktime: count,
  vbytes: count,
  tx_hex: hex(MAX_BATCH_TX_BYTES),
  payouts: z.array(payoutSchema).max(MAX_RECORD_CHANNELS),
  broadcast_height: count.nullable(),
})
export type ReplacedTx = z.infer<typeof replacedSchema>

export const batchRecordSchema = z.strictObject({
  id: count,
  stage: z.enum(BATCH_STAGES),
  round: count,
  /** The height the batch (its first round) started at, and the current round's. */
  started_height: count,
  round_height: count,
  feerate_per_kw: count,
  locktime: count,
  /** The current round's payouts, in the planned order (protocol/settlement/build.ts). */
  payouts: z.array(payoutSchema).max(MAX_RECORD_CHANNELS),
  /** The audit anchor the batch carries (hub/audit/anchoring.ts), if any. */
  anchor: z.strictObject({ seq: count, script: hex(83), root: hex32 }).nullable(),
  txid: hex32,
  vbytes: count,
  /** The fully signed transaction (from stage signed on). */
  tx_hex: hex(MAX_BATCH_TX_BYTES).nullable(),
  /** Channels dropped in earlier rounds, and why; their payouts wait for the next window. */
  dropped: z.array(z.strictObject({ channel_id: hex32, reason: z.string().max(500) })).max(MAX_RECORD_CHANNELS),
  broadcast_height: count.nullable(),
  confirmed_height: count.nullable(),
  /** Why the batch was abandoned. */
  reason: z.string().max(500).nullable(),
  /** The batch's earlier signed transactions, oldest first, each replaced by the next (BOLT #2
   *  tx_init_rbf); every channel keeps each as a funding candidate (at most one candidate short of
   *  BOLT #2's start_batch bound of 20 commitment_signed). */
  replaced: z.array(replacedSchema).max(MAX_COMMITMENT_BATCH_SIZE - 2).default([]),
  /** The last replacement that did not complete (a peer failed, a restart, a payout that cannot pay
   *  the higher fee): the next waits settlement.rbfAfterBlocks from its height. */
  replace_failed: z.strictObject({ height: count, reason: z.string().max(500) }).nullable().default(null),
})
export type BatchRecord = z.infer<typeof batchRecordSchema>

/** The batch's current transaction as a replaced one (it must be signed). */
export function asReplaced (b: BatchRecord): ReplacedTx {
  if (b.tx_hex === null) throw new Error(`settlement: batch ${b.id} is not signed`)
  return {
    txid: b.txid, feerate_per_kw: b.feerate_per_kw, locktime: b.locktime, vbytes: b.vbytes, tx_hex: b.tx_hex, payouts: b.payouts,
    broadcast_height: b.broadcast_height,
  }
}

/** Every signed transaction of the batch, oldest first: the replaced ones, and the current one once signed. */
export const signedTxs = (b: BatchRecord): ReplacedTx[] => b.tx_hex === null ? [...b.replaced] : [...b.replaced, asReplaced(b)]

/** The record with `t` (one of its signed transactions) as its current one; the others are kept as replaced. */
export function withCurrent (b: BatchRecord, t: ReplacedTx): BatchRecord {
  return {
    ...b, txid: t.txid, feerate_per_kw: t.feerate_per_kw, locktime: t.locktime, vbytes: t.vbytes, tx_hex: t.tx_hex, payouts: t.payouts,
    broadcast_height: t.broadcast_height, replaced: signedTxs(b).filter(x => x.txid !== t.txid),
  }
}

/** Every batch record, oldest first. A malformed record stops the hub: a batch whose stage is unknown
 *  could be signed twice or forgotten. */
export async function loadBatches (store: Store): Promise<BatchRecord[]> {
  const out: BatchRecord[] = []
  for await (const [key, v] of store.iterate(keys.settlementBatchPrefix)) {
    const r = batchRecordSchema.safeParse(parseJsonValue(v))
    if (!r.success) throw new Error(`store: ${key} is not a batch record (${r.error.issues[0]?.message ?? 'invalid'}): refusing to start`)
    out.push(r.data)
  }
  return out.sort((a, b) => a.id - b.id)
}

export async function saveBatch (store: Store, b: BatchRecord): Promise<void> {
  await store.write([put(keys.settlementBatch(b.id), batchRecordSchema.parse(b))])
}
