// Payment receipts (DESIGN.md "Audit anchoring and receipts"), pure: what a receipt says, the audit
// record it mirrors, and the hub's signature over it.
//
// A receipt is the hub's signed statement that a payment settled, given to payer and payee alike:
// payment hash, the amount the payee received, the hub's fee, the payer's reference, the time, and the
// number of the audit entry that records it. Signed: BIP-340 by the hub's node key over
//   sha256(RECEIPT_TAG ‖ canonical JSON of the receipt)
// (canonical JSON: one byte string per receipt, protocol/audit/canonical-json.ts). The entry's record
// holds the same fields, so once the entry is anchored the receipt can be matched to the chain.
import { z } from 'zod'
import { sha256 } from '@noble/hashes/sha2.js'
import { canonicalJson } from '../audit/canonical-json.ts'
import { getCurve } from '../crypto/index.ts'
import { MAX_REFERENCE_CHARS } from '../limits.ts'
import { bytesToHex, hexToBytes, type NodeId } from '../types.ts'

export const RECEIPT_TAG = new TextEncoder().encode('micropayout-hub/receipt/v1')
export const RECEIPT_VERSION = 1

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 32 bytes of lowercase hex' })
const nodeId = z.string().regex(/^0[23][0-9a-f]{64}$/, { error: 'must be a node id (33-byte compressed key, hex)' })
const count = z.number().int({ error: 'must be an integer' }).min(0).max(Number.MAX_SAFE_INTEGER)
const msat = z.number().int({ error: 'must be an integer number of msat' }).min(0).max(Number.MAX_SAFE_INTEGER)

/** The audit record of a settled payment (the fields a receipt repeats). */
export const paymentRecordSchema = z.strictObject({
  kind: z.literal('payment'),
  payment_hash: hex32,
  /** What the payee received. */
  amount_msat: msat,
  /** What the hub kept: the payer's HTLC minus the payee's. */
  fee_msat: msat,
  payer: nodeId,
  payee: nodeId,
  reference: z.string().max(MAX_REFERENCE_CHARS).nullable(),
})
export type PaymentAuditRecord = z.infer<typeof paymentRecordSchema>

export const receiptSchema = z.strictObject({
  v: z.literal(RECEIPT_VERSION),
  hub_id: nodeId,
  payment_hash: hex32,
  amount_msat: msat,
  fee_msat: msat,
  payer: nodeId,
  payee: nodeId,
  reference: z.string().max(MAX_REFERENCE_CHARS).nullable(),
  /** When the hub recorded the payment (ms since 1970), and the audit entry that records it. */
  time_ms: count,
  entry: count,
})
export type Receipt = z.infer<typeof receiptSchema>

/** The receipt for the payment recorded by audit entry `entry` (written at `timeMs`). */
export function receiptOf (hubId: NodeId, record: PaymentAuditRecord, entry: number, timeMs: number): Receipt {
  return {
    v: RECEIPT_VERSION, hub_id: hubId, payment_hash: record.payment_hash, amount_msat: record.amount_msat, fee_msat: record.fee_msat,
    payer: record.payer, payee: record.payee, reference: record.reference, time_ms: timeMs, entry,
  }
}

/** The record a receipt says its entry holds. */
export function recordOfReceipt (r: Receipt): PaymentAuditRecord {
  return {
    kind: 'payment', payment_hash: r.payment_hash, amount_msat: r.amount_msat, fee_msat: r.fee_msat, payer: r.payer, payee: r.payee,
    reference: r.reference,
  }
}

export function receiptDigest (r: Receipt): Uint8Array {
  const body = new TextEncoder().encode(canonicalJson(r))
  const buf = new Uint8Array(RECEIPT_TAG.length + body.length)
  buf.set(RECEIPT_TAG, 0)
  buf.set(body, RECEIPT_TAG.length)
  return sha256(buf)
}

/** The hub's signature (hex) over a receipt. `auxRand`: 32 fresh random bytes (BIP-340). */
export function signReceipt (r: Receipt, hubSecret: Uint8Array, auxRand: Uint8Array): string {
  return bytesToHex(getCurve().schnorrSign(receiptDigest(r), hubSecret, auxRand))
}

/** True when `signature` is the hub's (r.hub_id's) over the receipt. Never throws. */
export function receiptSignatureValid (r: Receipt, signature: string): boolean {
  if (!/^[0-9a-f]{128}$/.test(signature)) return false
  try {
    return getCurve().schnorrVerify(hexToBytes(signature), receiptDigest(r), hexToBytes(r.hub_id).subarray(1))
  } catch {
    return false
  }
}
