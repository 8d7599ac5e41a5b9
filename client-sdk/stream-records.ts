// What a stream keeps in the client's store (keys in host/store/keys.ts; DESIGN.md "Streams"). Every
// record read back is parsed with its schema, like records.ts.
//
//   stream-out/<payee>/<seq>        payer: a tick, written (synced) before its payment begins. Its
//                                   items, root and the sealed secret of its current attempt; a failed
//                                   attempt is replaced, in the same record, by the next one.
//   stream-in/<payment hash>        payee: a tick it fulfilled, with its items and its signature,
//                                   written in the batch that stores the fulfil (its item ids are the
//                                   payee's durable dedupe, read back into memory at the first tick)
import { z } from 'zod'
import { wireStreamItem } from '../protocol/stream/item.ts'
import { MAX_STREAM_TICK_ITEMS } from '../protocol/limits.ts'

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const nodeId = z.string().regex(/^0[23][0-9a-f]{64}$/)
const sig = z.string().regex(/^[0-9a-f]{128}$/)
const msat = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)

export const outgoingTick = z.strictObject({
  seq: z.number().int().min(0),
  payee: nodeId,
  items: z.array(wireStreamItem).min(1).max(MAX_STREAM_TICK_ITEMS),
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
})
export type OutgoingTick = z.infer<typeof outgoingTick>

export const incomingTick = z.strictObject({
  payer: nodeId,
  paymentHash: hex32,
  items: z.array(wireStreamItem).min(1).max(MAX_STREAM_TICK_ITEMS),
  root: hex32,
  amountMsat: msat,
  signature: sig,
  receivedAt: z.number().int(),
})
export type IncomingTick = z.infer<typeof incomingTick>
