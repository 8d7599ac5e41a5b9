// The secrets of a split payment (DESIGN.md "Splits"). The payer picks a split secret x and one secret
// r_i per leg; leg i's preimage is p_i = sha256(x ‖ r_i) and its HTLC is locked to sha256(p_i).
//
//   - r_i travels in leg i's HTLC metadata, sealed to recipient i's node key (protocol/push/secret.ts's
//     construction, domain LEG_INFO), its tag binding everything the leg says in clear: the payment
//     hash, split id, leg index and count, the payer's node id, the release deadline and the
//     reference. The hub forwards it and cannot read it.
//   - x is sent only at the release, sealed to each recipient (domain RELEASE_INFO, bound to the split
//     id and that recipient's payment hash).
//
// So nobody can claim a leg before the release (p_i needs x, which only the payer has), and after it
// only recipient i can (p_i needs r_i too): the hub learns p_i from recipient i's fulfil and nothing
// from which it could compute another leg's preimage.
import { sha256 } from '@noble/hashes/sha2.js'
import type { Curve } from '../crypto/index.ts'
import { concatBytes as concat, equalBytes, u64be } from '../crypto/hash.ts'
import { fromWire, openFrom, sealTo, toWire, type PushSecret } from '../push/secret.ts'
import { err, ok, type Result } from '../result.ts'
import { bytesToHex, hexToBytes, type Msat } from '../types.ts'

const LEG_INFO = new TextEncoder().encode('micropayout-hub split leg v1')
const RELEASE_INFO = new TextEncoder().encode('micropayout-hub split release v1')
const encoder = new TextEncoder()

/** Leg i's preimage: sha256(x ‖ r_i), hex. */
export function legPreimage (x: Uint8Array, r: Uint8Array): string {
  if (x.length !== 32 || r.length !== 32) throw new RangeError('legPreimage: x and r must be 32 bytes')
  return bytesToHex(sha256(concat(x, r)))
}

/** Leg i's payment hash: sha256(p_i), hex. */
export const legPaymentHash = (x: Uint8Array, r: Uint8Array): string => bytesToHex(sha256(hexToBytes(legPreimage(x, r))))

/** What a recipient's leg_locked commits to about r_i: sha256(r_i), hex. The payer checks it against
 *  the r_i it sealed, so a leg whose sealed secret was swapped on the way is never released. */
export const rCommitment = (r: Uint8Array): string => bytesToHex(sha256(r))

/** What a leg says in clear beside its sealed r_i (the HTLC metadata's split_leg and the HTLC). */
export interface LegContext {
  paymentHash: string
  splitId: string
  index: number
  count: number
  /** The payer's node id: whose signature an abort of this split must carry. */
  payer: string
  /** Seconds since 1970: the payer never releases the split after this. */
  releaseBy: number
  reference: string
}

const u16 = (n: number): Uint8Array => new Uint8Array([n >> 8 & 0xff, n & 0xff])

const legAssociated = (c: LegContext): Uint8Array => concat(
  hexToBytes(c.paymentHash), hexToBytes(c.splitId), u16(c.index), u16(c.count), hexToBytes(c.payer), u64be(c.releaseBy),
  encoder.encode(c.reference),
)

/** Seals r_i and the leg's amount to the recipient (`e`: a fresh valid secret key, the caller's randomness). */
export function sealLeg (
  r: Uint8Array, amountMsat: number, recipient: Uint8Array, e: Uint8Array, c: LegContext, curve?: Curve,
): PushSecret {
  if (r.length !== 32) throw new RangeError('sealLeg: r must be 32 bytes')
  if (!Number.isSafeInteger(amountMsat) || amountMsat < 1) throw new RangeError('sealLeg: amountMsat must be a positive safe integer')
  return toWire(sealTo(concat(r, u64be(amountMsat)), recipient, e, LEG_INFO, legAssociated(c), curve))
}

/** Why a recipient refuses a split leg's HTLC (it fails it back; nothing is claimed). */
export type LegRefusal =
  | { reason: 'bad_seal'; detail: string }     // not sealed to our key for what the leg says in clear
  | { reason: 'bad_amount'; detail: string }   // the sealed amount is not a positive safe integer
  | { reason: 'amount_short'; detail: string } // the HTLC carries less than the payer sealed

/** The recipient's side: r_i and the sealed amount, checked against the HTLC. */
export function openLeg (
  secret: PushSecret, nodeKey: Uint8Array, c: LegContext, htlcAmountMsat: number, curve?: Curve,
): Result<{ r: Uint8Array; amountMsat: Msat }, LegRefusal> {
  const box = fromWire(secret)
  if (box.ciphertext.length !== 40) return err({ reason: 'bad_seal', detail: 'the leg secret must be 40 bytes' })
  const opened = openFrom(box, nodeKey, LEG_INFO, legAssociated(c), curve)
  if (!opened.ok) return err({ reason: 'bad_seal', detail: `the leg secret does not open: ${opened.error.detail}` })
  const plain = opened.value
  const sealed = new DataView(plain.buffer, plain.byteOffset + 32, 8).getBigUint64(0)
  if (sealed < 1n || sealed > BigInt(Number.MAX_SAFE_INTEGER)) {
    return err({ reason: 'bad_amount', detail: `the sealed amount ${sealed} msat is not a positive safe integer` })
  }
  const amountMsat = Number(sealed) as Msat
  if (htlcAmountMsat < amountMsat) {
    return err({ reason: 'amount_short', detail: `the HTLC carries ${htlcAmountMsat} msat, the payer sealed ${amountMsat} msat` })
  }
  return ok({ r: plain.slice(0, 32), amountMsat })
}

/** The release of x to one recipient, bound to the split and that recipient's leg. */
export function sealRelease (
  x: Uint8Array, recipient: Uint8Array, e: Uint8Array, splitId: string, paymentHash: string, curve?: Curve,
): PushSecret {
  if (x.length !== 32) throw new RangeError('sealRelease: x must be 32 bytes')
  return toWire(sealTo(x, recipient, e, RELEASE_INFO, concat(hexToBytes(splitId), hexToBytes(paymentHash)), curve))
}

/** The recipient's side of a release: its leg's preimage, or why the release is not one for its leg. */
export function openRelease (
  secret: PushSecret, nodeKey: Uint8Array, splitId: string, paymentHash: string, r: Uint8Array, curve?: Curve,
): Result<string, { reason: 'bad_release'; detail: string }> {
  const box = fromWire(secret)
  if (box.ciphertext.length !== 32) return err({ reason: 'bad_release', detail: 'the released secret must be 32 bytes' })
  const opened = openFrom(box, nodeKey, RELEASE_INFO, concat(hexToBytes(splitId), hexToBytes(paymentHash)), curve)
  if (!opened.ok) return err({ reason: 'bad_release', detail: `the release does not open: ${opened.error.detail}` })
  const preimage = legPreimage(opened.value, r)
  if (!equalBytes(sha256(hexToBytes(preimage)), hexToBytes(paymentHash))) {
    return err({ reason: 'bad_release', detail: 'the released secret does not give this leg\'s preimage' })
  }
  return ok(preimage)
}
