// What a stream keeps in the client's store (keys in host/store/keys.ts; DESIGN.md "Streams"). Every
// record read back is parsed with its schema, like records.ts. A tick's items are stored packed, as
// they travel (protocol/stream/item.ts packStreamItems: one string, `id TAB amount TAB memo` and LF
// between items): one string to write and read per tick, not an array per item.
//
//   stream-out/<payee>/<seq>        payer: a tick, written (synced) before its payment begins. Its
//                                   items, root and the sealed secret of its current attempt; a failed
//                                   attempt is replaced, in the same record, by the next one.
//   stream-in/<payment hash>        payee: a tick it fulfilled, with its items and its signature,
//                                   written in the batch that stores the fulfil (its item ids are the
//                                   payee's durable dedupe, read back into memory at the first tick)
import { z } from 'zod'
import { PACKED_ITEMS, packStreamItems, wireStreamItem, type WireStreamItem } from '../protocol/stream/item.ts'
import { MAX_STREAM_ITEM_ID_CHARS, MAX_STREAM_ITEM_MEMO_CHARS, MAX_STREAM_TICK_ITEMS } from '../protocol/limits.ts'

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const nodeId = z.string().regex(/^0[23][0-9a-f]{64}$/)
const sig = z.string().regex(/^[0-9a-f]{128}$/)
const msat = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)
const count = z.number().int().min(1).max(MAX_STREAM_TICK_ITEMS)
/** A tick's items packed: the longest item (id, 16 digits, memo, two TABs and an LF) every item. */
const packed = z.string().min(1).max(MAX_STREAM_TICK_ITEMS * (MAX_STREAM_ITEM_ID_CHARS + 16 + MAX_STREAM_ITEM_MEMO_CHARS + 3))
  .regex(PACKED_ITEMS)

/** A tick record holding its items as an array of [id, amount_msat, memo] (the format before ticks
 *  were stored packed) is read as its packed form, so a data directory keeps its streams across the
 *  upgrade. An array that is not valid items is left as it is, and the record's schema refuses it. */
function packedTickRecord (v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !('items' in v)) return v
  const { items, ...rest } = v as { items: unknown }
  const parsed = z.array(wireStreamItem).min(1).max(MAX_STREAM_TICK_ITEMS).safeParse(items)
  if (!parsed.success) return v
  return { ...rest, packed: packStreamItems(parsed.data), count: parsed.data.length }
}

export const outgoingTick = z.preprocess(packedTickRecord, z.strictObject({
  seq: z.number().int().min(0),
  payee: nodeId,
  /** The items, packed, and how many. */
  packed,
  count,
  root: hex32,
  amountMsat: msat,
  /** The current attempt (1 for the first): its payment hash and the secret sealed for it. */
  attempt: z.number().int().min(1),
  paymentHash: hex32,
  push: z.strictObject({
    ephemeral_point: z.string().regex(/^0[23][0-9a-f]{64}$/), ciphertext: z.string().regex(/^[0-9a-f]{80}$/), tag: hex32,
  }),
  /** pending: its payment is in flight (or about to begin); paid: with the payee's signature;
   *  failed: every attempt failed, none of its items was paid. */
  status: z.enum(['pending', 'paid', 'failed']),
  signature: sig.optional(),
  failure: z.string().optional(),
  /** Seconds since 1970. */
  createdAt: z.number().int(),
  paidAt: z.number().int().optional(),
}))
export type OutgoingTick = z.infer<typeof outgoingTick>

/** The payee's record of a tick it fulfilled. */
export const storedIncomingTick = z.preprocess(packedTickRecord, z.strictObject({
  payer: nodeId,
  paymentHash: hex32,
  packed,
  count,
  root: hex32,
  amountMsat: msat,
  signature: sig,
  receivedAt: z.number().int(),
}))
export type StoredIncomingTick = z.infer<typeof storedIncomingTick>

/** A tick paid to us as HubClient.streamTick hands it out: its items as [id, amount_msat, memo]. */
export interface IncomingTick {
  payer: string
  paymentHash: string
  items: WireStreamItem[]
  root: string
  amountMsat: number
  signature: string
  receivedAt: number
}
