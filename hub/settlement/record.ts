// The durable record of a payout batch (docs/DESIGN.md "Batched settlement", durable writes): its plan,
// stage, round and transaction, one record per batch, written at each stage change:
//   negotiating   before the first splice_init of a round (a restart abandons the round)
//   signed        every peer signed: the fully signed transaction, before any tx_signatures of the hub
//                 leaves (a restart finishes every session and broadcasts it)
//   broadcast     handed to our node
//   confirmed     at settlement.finalityDepth: its payouts are done
//   abandoned     no round completed (every peer dropped, maxRounds, or a restart while negotiating):
//                 nothing of it was signed by the hub; its payouts wait for the next window
import { z } from 'zod'
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
})
export type BatchRecord = z.infer<typeof batchRecordSchema>

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
