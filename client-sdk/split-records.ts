// What the SDK stores of split payments (DESIGN.md "Splits"; keys in host/store/keys.ts):
//
//   split/<split id>          a split we pay: the split secret x, each leg's r_i, and the payer's
//                             machine state (protocol/split/payer.ts: the legs, every leg locked,
//                             the phase). Written before any leg's HTLC can be signed, and again
//                             before anything a change causes leaves (a release, an abort).
//   split-leg/<payment hash>  a split leg paid to us: r_i and what the leg said, written before our
//                             leg locked leaves; then released (with the preimage, before the
//                             fulfil) or aborted/expired (before the fail).
// Every record read back is parsed with its schema.
import { z } from 'zod'

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const nodeId = z.string().regex(/^0[23][0-9a-f]{64}$/)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

export const payerSplitRecord = z.strictObject({
  x: hex32,
  /** r_i of each leg, in leg order. */
  r: z.array(hex32),
  reference: z.string(),
  totalMsat: count,
  /** The hub's fees on every leg together (what we offer beyond the total). */
  feeMsat: count,
  createdAt: count,
  /** paySplit's idempotency key: its legs pay under `<key>:<index>` (split-options.ts legKey). */
  idempotencyKey: z.string().optional(),
  /** The hub refused a leg for its key (another SDK data directory of ours used it first): the
   *  split aborted for that reason. */
  keyRefused: z.enum(['duplicate_payment', 'idempotency_key_reused']).optional(),
  state: z.strictObject({
    splitId: hex32,
    payer: nodeId,
    releaseBy: count,
    phase: z.enum(['locking', 'released', 'aborted']),
    reason: z.string().optional(),
    legs: z.array(z.strictObject({
      to: nodeId, amountMsat: count, paymentHash: hex32, rHash: hex32, locked: z.string().regex(/^[0-9a-f]{128}$/).optional(),
      outcome: z.enum(['fulfilled', 'failed']).optional(),
    })),
  }),
})
export type PayerSplitRecord = z.infer<typeof payerSplitRecord>

export const receivedLegRecord = z.strictObject({
  paymentHash: hex32,
  splitId: hex32,
  index: count,
  count,
  payer: nodeId,
  releaseBy: count,
  reference: z.string(),
  r: hex32,
  amountMsat: count,
  channelId: hex32,
  htlcId: count,
  state: z.enum(['locked', 'released', 'aborted', 'expired']),
  preimage: hex32.optional(),
})
export type ReceivedLegRecord = z.infer<typeof receivedLegRecord>
