// A stream's tick (DESIGN.md "Streams"): one push payment (protocol/push/secret.ts) whose reference
// commits to its items: `stream:<count>:<root>`. The push secret's tag binds the reference to the
// HTLC's payment hash, so the hub can neither change the root nor move it to another HTLC; the sealed
// amount is the sum of the items, which the payee checks against the items it received.
//
// A receipt for one item is the item, its Merkle proof, the tick (payer, payee, payment hash, amount,
// count, root) and the payee's BIP-340 signature over the tick's statement:
//
//   SHA256(TICK_TAG ‖ payer ‖ payee ‖ payment_hash ‖ amount_msat (8 bytes) ‖ count (4 bytes) ‖ root)
//
// The payee signs when it fulfils the tick's HTLC: it says "I was paid amount_msat by payer for the
// items under root". A push payment's preimage proves nothing to a third party (the payer chose it),
// so the signature is what the receipt rests on; anyone holding the payee's node id checks it offline.
import { z } from 'zod'
import { getCurve, type Curve } from '../crypto/index.ts'
import { equalBytes, sha256 } from '../crypto/hash.ts'
import { MAX_STREAM_TICK_ITEMS, MAX_STREAM_TICK_MSAT } from '../limits.ts'
import { err, ok, type Result } from '../result.ts'
import { bytesToHex, hexToBytes } from '../types.ts'
import { hex32, point33, signature64 } from '../wire/fields.ts'
import { leafHash, streamItem, type StreamItem } from './item.ts'
import { rootFromProof } from './merkle.ts'

/** Domain separation: a tick statement can never be another signed message of ours. */
export const TICK_TAG = new TextEncoder().encode('micropayout-hub/stream/v1/tick-paid')

/** What the payee signs. */
export interface TickStatement {
  payer: string
  payee: string
  paymentHash: string
  amountMsat: number
  count: number
  root: string
}

const REFERENCE = /^stream:([1-9][0-9]{0,5}):([0-9a-f]{64})$/

/** The reference of a tick's push payment. */
export const tickReference = (count: number, root: string): string => `stream:${count}:${root}`

/** A tick's reference read back; undefined when it is not one (an ordinary push payment). */
export function parseTickReference (reference: string): { count: number; root: string } | undefined {
  const m = REFERENCE.exec(reference)
  if (m === null) return undefined
  const count = Number(m[1])
  return count > MAX_STREAM_TICK_ITEMS ? undefined : { count, root: m[2]! }
}

export function tickDigest (s: TickStatement): Uint8Array {
  const buf = new Uint8Array(TICK_TAG.length + 33 + 33 + 32 + 8 + 4 + 32)
  let at = 0
  const put = (b: Uint8Array): void => { buf.set(b, at); at += b.length }
  put(TICK_TAG)
  put(hexToBytes(s.payer))
  put(hexToBytes(s.payee))
  put(hexToBytes(s.paymentHash))
  const view = new DataView(buf.buffer)
  view.setBigUint64(at, BigInt(s.amountMsat)); at += 8
  view.setUint32(at, s.count); at += 4
  put(hexToBytes(s.root))
  return sha256(buf)
}

/** The payee's signature over a tick (BIP-340 with its node key; `auxRand` 32 bytes from the caller). */
export function signTick (s: TickStatement, nodeKey: Uint8Array, auxRand: Uint8Array, curve?: Curve): string {
  return bytesToHex(getCurve(curve).schnorrSign(tickDigest(s), nodeKey, auxRand))
}

export function verifyTickSignature (s: TickStatement, signature: string, curve?: Curve): boolean {
  const sig = hexToBytes(signature)
  const payee = hexToBytes(s.payee)
  if (sig.length !== 64 || payee.length !== 33) return false
  return getCurve(curve).schnorrVerify(sig, tickDigest(s), payee.subarray(1))
}

/** A receipt as it is handed out and checked (JSON from anywhere: parsed before it is believed). */
export const streamReceipt = z.strictObject({
  item: z.strictObject({ id: streamItem.shape.id, amountMsat: streamItem.shape.amountMsat, memo: streamItem.shape.memo.unwrap() }),
  index: z.number().int().min(0).max(MAX_STREAM_TICK_ITEMS - 1),
  proof: z.array(hex32).max(32),
  tick: z.strictObject({
    payer: point33, payee: point33, paymentHash: hex32,
    amountMsat: z.number().int().min(1).max(MAX_STREAM_TICK_MSAT),
    count: z.number().int().min(1).max(MAX_STREAM_TICK_ITEMS), root: hex32,
  }),
  signature: signature64,
})
export type StreamReceipt = z.infer<typeof streamReceipt>

export type ReceiptRefusal =
  | { reason: 'malformed'; detail: string }     // not a receipt (a field is missing or out of bounds)
  | { reason: 'bad_proof'; detail: string }     // the item is not at `index` of the tree under `root`
  | { reason: 'bad_signature'; detail: string } // the payee did not sign this tick
  | { reason: 'wrong_payee'; detail: string }   // signed by another node than the one the verifier expects

/** A receipt for one item built from the tick's statement, signature, and the item's place (its proof
 *  as bytes, or as hex: merkle.ts tickTreeProofHex). */
export const receiptOf = (
  tick: TickStatement, signature: string, item: StreamItem, index: number, proof: ReadonlyArray<Uint8Array | string>,
): StreamReceipt => ({
  item: { ...item }, index, proof: proof.map(p => typeof p === 'string' ? p : bytesToHex(p)), tick: { ...tick }, signature,
})

/**
 * Checks a receipt offline: the item is the `index`-th of the tick's `count` items under `root`, and
 * the payee (`expectedPayee`, if given) signed that the tick paid it. Needs nothing but the receipt.
 */
export function verifyStreamReceipt (
  input: unknown, expectedPayee?: string, curve?: Curve,
): Result<StreamReceipt, ReceiptRefusal> {
  const p = streamReceipt.safeParse(input)
  if (!p.success) {
    return err({ reason: 'malformed', detail: p.error.issues.map(i => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') })
  }
  const r = p.data
  if (expectedPayee !== undefined && r.tick.payee !== expectedPayee) {
    return err({ reason: 'wrong_payee', detail: `signed by ${r.tick.payee}, not ${expectedPayee}` })
  }
  if (r.item.amountMsat > r.tick.amountMsat) return err({ reason: 'bad_proof', detail: 'the item pays more than its tick' })
  const root = rootFromProof(leafHash(r.item), r.index, r.tick.count, r.proof.map(hexToBytes))
  if (root === undefined || !equalBytes(root, hexToBytes(r.tick.root))) {
    return err({ reason: 'bad_proof', detail: `item ${JSON.stringify(r.item.id)} is not item ${r.index} of the tick's tree` })
  }
  if (!verifyTickSignature(r.tick, r.signature, curve)) {
    return err({ reason: 'bad_signature', detail: 'the signature is not the payee\'s over this tick' })
  }
  return ok(r)
}
