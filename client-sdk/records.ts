// What the SDK keeps in its own store besides its channels (those are host/channel/record.ts, the
// hub's stored form too). The keys are in host/store/keys.ts with every other namespace. Every record
// read back is parsed with its schema: a store edited or corrupted by hand is refused with the key
// named, not trusted.
//
//   inv/<payment hash>          an invoice we issued, with its preimage (written before the invoice
//                               is handed out: a payer can never hold an invoice we cannot fulfil);
//                               or a push payment we received (`push`, no invoice text: the preimage
//                               came sealed in the HTLC), written paid in the batch of its fulfil
//   inv-at/<created>/<hash>     the same invoices by creation time (listInvoices pages through it)
//   pay/<payment hash>          a payment we make: pending → succeeded (with the preimage) | failed
//   pay-at/<created>/<hash>     the same payments by creation time (listPayments)
//   idem/<idempotency key>      → the payment hash a pay() with that key is about
//   evt/<event id>              an event for the application not acknowledged yet (event-outbox.ts),
//                               written in the batch of the state change that causes it
// <created> is seconds since 1970 as 16 digits (host/store/keys.ts counter), so key order is time order.
import { z } from 'zod'
import { parseJsonValue, put, type Store, type StoreOp } from '../host/store/index.ts'

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const msat = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

export const invoiceRecord = z.strictObject({
  paymentHash: hex32,
  preimage: hex32,
  invoice: z.string(),
  amountMsat: msat,
  memo: z.string(),
  /** Seconds since 1970. */
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  /** The HTLC that paid it ("<channel id>:<htlc id>"), once paid. */
  paidBy: z.string().optional(),
  receivedMsat: msat.optional(),
  /** Cancelled by the payee before it was paid: payments for it are refused. */
  cancelled: z.boolean().optional(),
  /** When the HTLC that paid it was accepted (seconds since 1970). */
  paidAt: z.number().int().optional(),
  /** A push payment received (pay({ to }) of the payer): `invoice` is '', `amountMsat` is what the
   *  payer sealed, `memo` the payer's reference. */
  push: z.literal(true).optional(),
  /** A leg of a split paid to us (DESIGN.md "Splits"): the split it belongs to. */
  splitId: hex32.optional(),
})
export type InvoiceRecord = z.infer<typeof invoiceRecord>

export const paymentRecord = z.strictObject({
  paymentHash: hex32,
  /** The invoice paid; '' for a push payment. */
  invoice: z.string(),
  /** A push payment (pay({ to })): its preimage sealed to the payee (protocol/push/secret.ts), sent
   *  in every offer of its HTLC, and how many blocks the hub may hold it. We keep no preimage. */
  push: z.strictObject({
    ephemeral_point: z.string().regex(/^0[23][0-9a-f]{64}$/), ciphertext: z.string().regex(/^[0-9a-f]{80}$/), tag: hex32,
  }).optional(),
  holdBlocks: z.number().int().min(0).optional(),
  /** A leg of a split we pay (client-sdk/split-pay.ts): the HTLC metadata's split_leg, sent in every offer. */
  splitLeg: z.strictObject({
    split_id: hex32, index: z.number().int().min(0), count: z.number().int().min(1), payer: z.string().regex(/^0[23][0-9a-f]{64}$/),
    release_by: z.number().int().min(0), secret: z.strictObject({
      ephemeral_point: z.string().regex(/^0[23][0-9a-f]{64}$/), ciphertext: z.string().regex(/^[0-9a-f]{80}$/), tag: hex32,
    }),
  }).optional(),
  payee: z.string(),
  /** What the payee receives. */
  amountMsat: msat,
  /** What we offer the hub (amount + its fee). */
  offeredMsat: msat,
  status: z.enum(['pending', 'succeeded', 'failed']),
  preimage: hex32.optional(),
  failure: z.strictObject({ reason: z.string(), detail: z.string() }).optional(),
  idempotencyKey: z.string().optional(),
  reference: z.string().optional(),
  /** When pay() began it, and when it got its final outcome (seconds since 1970). */
  createdAt: z.number().int(),
  settledAt: z.number().int().optional(),
})
export type PaymentRecord = z.infer<typeof paymentRecord>

export async function readRecord<S extends z.ZodType> (store: Store, key: string, schema: S): Promise<z.output<S> | undefined> {
  const raw = await store.get(key)
  if (raw === undefined) return undefined
  const r = schema.safeParse(parseJsonValue(raw))
  if (!r.success) throw new Error(
    `store record ${key} is not valid: ${r.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`
  )
  return r.data
}

export const putRecord = (key: string, value: unknown): StoreOp => put(key, value)
