// A push payment's secret: a payment without an invoice, where the payer picks the preimage and hands
// it to the payee inside the HTLC's metadata (DESIGN.md "Push payments"). It is encrypted to the
// payee's node key, so the hub that forwards the HTLC cannot read it: the hub learns the preimage only
// from the payee's fulfil, as with an invoice, and so can never claim the payer's HTLC without paying
// the payee.
//
// The construction (ECIES on secp256k1 with SHA-256 only, encrypt-then-MAC):
//
//   e  the payer's ephemeral secret, fresh for each payment (from the caller: protocol/ has no
//      randomness); E = e·G travels with the ciphertext
//   S  = SHA256(e·P), P the payee's node key (compressed point; BOLT #8's ECDH); the payee computes
//      the same point as p·E
//   HKDF-SHA256(ikm = S, salt = E ‖ P, info = HKDF_INFO) → 72 bytes: a 40-byte key stream ‖ a 32-byte
//      MAC key. S is new with every e, so the stream is used once.
//   ciphertext = (preimage ‖ amount_msat as 8 bytes big-endian) XOR key stream
//   tag = HMAC-SHA256(MAC key, E ‖ ciphertext ‖ payment_hash ‖ UTF-8 of the reference)
//
// The tag binds the ciphertext to this HTLC's payment hash and to the platform's reference (which
// travels in clear beside it), so the hub can neither move the secret to another HTLC nor change what
// the payment says it was for. The sealed amount is what the payer meant the payee to receive: the
// payee refuses an HTLC that carries less.
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { getCurve, type Curve } from '../crypto/index.ts'
import { concatBytes as concat, equalBytes } from '../crypto/hash.ts'
import { err, ok, type Result } from '../result.ts'
import { bytesToHex, hexToBytes, type Msat } from '../types.ts'

/** What is encrypted: the 32-byte preimage and the 8-byte amount. */
export const PUSH_PLAINTEXT_BYTES = 40
const KEY_STREAM_AND_MAC_KEY_BYTES = PUSH_PLAINTEXT_BYTES + 32
/** Domain separation: a key derived here is never a key of another protocol. */
const HKDF_INFO = new TextEncoder().encode('micropayout-hub push secret v1')

/** The sealed secret as it travels in update_add_htlc's metadata (protocol/wire `pushSecret`). */
export interface PushSecret {
  /** E, compressed, hex. */
  ephemeral_point: string
  /** 40 bytes, hex. */
  ciphertext: string
  /** 32 bytes, hex. */
  tag: string
}

export interface SealInput {
  preimage: Uint8Array
  /** What the payee is to receive. */
  amountMsat: number
  /** The payee's node id (33-byte compressed key). */
  payee: Uint8Array
  /** The platform's reference, sent in clear beside the secret ('' for none). */
  reference: string
  /** 32 random bytes, a valid secp256k1 secret (the caller's randomness). */
  ephemeralSecret: Uint8Array
}

const encoder = new TextEncoder()

function derive (shared: Uint8Array, ephemeral: Uint8Array, payee: Uint8Array): { stream: Uint8Array; macKey: Uint8Array } {
  const okm = hkdf(sha256, shared, concat(ephemeral, payee), HKDF_INFO, KEY_STREAM_AND_MAC_KEY_BYTES)
  return { stream: okm.subarray(0, PUSH_PLAINTEXT_BYTES), macKey: okm.subarray(PUSH_PLAINTEXT_BYTES) }
}

function tagOf (macKey: Uint8Array, ephemeral: Uint8Array, ciphertext: Uint8Array, paymentHash: Uint8Array, reference: string): Uint8Array {
  return hmac(sha256, macKey, concat(ephemeral, ciphertext, paymentHash, encoder.encode(reference)))
}

const xor = (a: Uint8Array, b: Uint8Array): Uint8Array => a.map((x, i) => x ^ b[i]!)

function amountBytes (amountMsat: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(amountMsat))
  return out
}

/**
 * Seals `preimage` and `amountMsat` to the payee's node key. Returns the payment hash to lock the
 * HTLC to and the secret for its metadata. Throws on a programmer error (a bad key, preimage or
 * amount: the SDK checks its arguments before).
 */
export function sealPushSecret (i: SealInput, curve?: Curve): { paymentHash: string; secret: PushSecret } {
  const c = getCurve(curve)
  if (i.preimage.length !== 32) throw new RangeError('sealPushSecret: the preimage must be 32 bytes')
  if (!Number.isSafeInteger(i.amountMsat) || i.amountMsat < 1) throw new RangeError(
    'sealPushSecret: amountMsat must be a positive safe integer'
  )
  if (!c.isPubkey(i.payee)) throw new RangeError('sealPushSecret: the payee must be a compressed secp256k1 point')
  if (!c.isPrivkey(i.ephemeralSecret)) throw new RangeError('sealPushSecret: the ephemeral secret must be a valid secp256k1 secret key')
  const ephemeral = c.pubkey(i.ephemeralSecret)
  const shared = sha256(c.pointMul(i.payee, i.ephemeralSecret))
  const { stream, macKey } = derive(shared, ephemeral, i.payee)
  const ciphertext = xor(concat(i.preimage, amountBytes(i.amountMsat)), stream)
  const paymentHash = sha256(i.preimage)
  return {
    paymentHash: bytesToHex(paymentHash),
    secret: {
      ephemeral_point: bytesToHex(ephemeral), ciphertext: bytesToHex(ciphertext),
      tag: bytesToHex(tagOf(macKey, ephemeral, ciphertext, paymentHash, i.reference)),
    },
  }
}

/** Why a payee refuses a push payment's HTLC. Every one fails the HTLC back (nothing is claimed). */
export type PushRefusal =
  | { reason: 'bad_point'; detail: string }     // E is not a point on the curve
  | { reason: 'bad_tag'; detail: string }       // not sealed to our key, or changed on the way (secret, hash or reference)
  | { reason: 'wrong_preimage'; detail: string } // it decrypts, but its preimage does not hash to the HTLC's payment hash
  | { reason: 'bad_amount'; detail: string }    // the sealed amount is not a positive safe integer
  | { reason: 'amount_short'; detail: string }  // the HTLC carries less than the payer sealed

export interface OpenInput {
  secret: PushSecret
  /** Our node key. */
  nodeKey: Uint8Array
  /** The HTLC's payment hash, amount and the reference in its metadata ('' for none). */
  paymentHash: string
  htlcAmountMsat: number
  reference: string
}

/**
 * The payee's side: decrypts the secret of an HTLC addressed to us and checks it against the HTLC.
 * Returns the preimage to fulfil with and the amount the payer sealed, or why the HTLC must be failed.
 */
export function openPushSecret (i: OpenInput, curve?: Curve): Result<{ preimage: string; amountMsat: Msat }, PushRefusal> {
  const c = getCurve(curve)
  const ephemeral = hexToBytes(i.secret.ephemeral_point)
  if (!c.isPubkey(ephemeral)) return err({ reason: 'bad_point', detail: 'the push secret\'s ephemeral_point is not a point on secp256k1' })
  const payee = c.pubkey(i.nodeKey)
  const shared = sha256(c.pointMul(ephemeral, i.nodeKey))
  const { stream, macKey } = derive(shared, ephemeral, payee)
  const ciphertext = hexToBytes(i.secret.ciphertext)
  const paymentHash = hexToBytes(i.paymentHash)
  if (ciphertext.length !== PUSH_PLAINTEXT_BYTES ||
    !equalBytes(tagOf(macKey, ephemeral, ciphertext, paymentHash, i.reference), hexToBytes(i.secret.tag))) {
    return err({ reason: 'bad_tag', detail: 'the push secret was not sealed to our key for this payment hash and reference' })
  }
  const plain = xor(ciphertext, stream)
  const preimage = plain.subarray(0, 32)
  if (!equalBytes(sha256(preimage), paymentHash)) return err({
    reason: 'wrong_preimage', detail: 'the sealed preimage does not hash to the HTLC\'s payment hash',
  })
  const sealed = new DataView(plain.buffer, plain.byteOffset + 32, 8).getBigUint64(0)
  if (sealed < 1n || sealed > BigInt(Number.MAX_SAFE_INTEGER)) return err({
    reason: 'bad_amount', detail: `the sealed amount ${sealed} msat is not a positive safe integer`,
  })
  const amountMsat = Number(sealed) as Msat
  if (i.htlcAmountMsat < amountMsat) {
    return err({ reason: 'amount_short', detail: `the HTLC carries ${i.htlcAmountMsat} msat, the payer sealed ${amountMsat} msat` })
  }
  return ok({ preimage: bytesToHex(preimage), amountMsat })
}
