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

function derive (
  shared: Uint8Array, ephemeral: Uint8Array, payee: Uint8Array, info: Uint8Array, length: number,
): { stream: Uint8Array; macKey: Uint8Array } {
  const okm = hkdf(sha256, shared, concat(ephemeral, payee), info, length + 32)
  return { stream: okm.subarray(0, length), macKey: okm.subarray(length) }
}

/** The longest plaintext sealTo seals (the key stream is one HKDF output: at most 255 · 32 bytes). */
export const MAX_SEALED_BYTES = 64

/** A plaintext sealed to a node key, bound to `associated` (protocol/push/secret.ts's construction). */
export interface Sealed { ephemeral: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array }

/**
 * The construction above for any plaintext of at most MAX_SEALED_BYTES: sealed to `recipient` with
 * the ephemeral secret `e`, under the domain `info` (each use has its own, so a ciphertext of one use
 * never opens as another's), its tag binding `associated` (data that travels in clear beside it).
 * Throws on a programmer error (a bad key or length).
 */
export function sealTo (
  plaintext: Uint8Array, recipient: Uint8Array, e: Uint8Array, info: Uint8Array, associated: Uint8Array, curve?: Curve,
): Sealed {
  const c = getCurve(curve)
  if (plaintext.length < 1 || plaintext.length > MAX_SEALED_BYTES) throw new RangeError(
    `sealTo: the plaintext must be 1-${MAX_SEALED_BYTES} bytes`
  )
  if (!c.isPubkey(recipient)) throw new RangeError('sealTo: the recipient (payee) must be a compressed secp256k1 point')
  if (!c.isPrivkey(e)) throw new RangeError('sealTo: the ephemeral secret must be a valid secp256k1 secret key')
  const ephemeral = c.pubkey(e)
  const { stream, macKey } = derive(sha256(c.pointMul(recipient, e)), ephemeral, recipient, info, plaintext.length)
  const ciphertext = xor(plaintext, stream)
  return { ephemeral, ciphertext, tag: hmac(sha256, macKey, concat(ephemeral, ciphertext, associated)) }
}

/** Why a sealed value does not open. */
export type OpenRefusal =
  | { reason: 'bad_point'; detail: string } // E is not a point on the curve
  | { reason: 'bad_tag'; detail: string }   // not sealed to our key, or changed on the way (ciphertext or associated data)

/** The recipient's side of sealTo: the plaintext, or why it does not open with `nodeKey`. */
export function openFrom (
  s: Sealed, nodeKey: Uint8Array, info: Uint8Array, associated: Uint8Array, curve?: Curve,
): Result<Uint8Array, OpenRefusal> {
  const c = getCurve(curve)
  if (!c.isPubkey(s.ephemeral)) return err({ reason: 'bad_point', detail: 'the ephemeral_point is not a point on secp256k1' })
  if (s.ciphertext.length < 1 || s.ciphertext.length > MAX_SEALED_BYTES) {
    return err({ reason: 'bad_tag', detail: `the ciphertext must be 1-${MAX_SEALED_BYTES} bytes` })
  }
  const { stream, macKey } = derive(sha256(c.pointMul(s.ephemeral, nodeKey)), s.ephemeral, c.pubkey(nodeKey), info, s.ciphertext.length)
  if (!equalBytes(hmac(sha256, macKey, concat(s.ephemeral, s.ciphertext, associated)), s.tag)) {
    return err({ reason: 'bad_tag', detail: 'not sealed to our key for this associated data' })
  }
  return ok(xor(s.ciphertext, stream))
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
  if (i.preimage.length !== 32) throw new RangeError('sealPushSecret: the preimage must be 32 bytes')
  if (!Number.isSafeInteger(i.amountMsat) || i.amountMsat < 1) throw new RangeError(
    'sealPushSecret: amountMsat must be a positive safe integer'
  )
  const paymentHash = sha256(i.preimage)
  const s = sealTo(
    concat(i.preimage, amountBytes(i.amountMsat)), i.payee, i.ephemeralSecret, HKDF_INFO, concat(paymentHash, encoder.encode(i.reference)),
    curve,
  )
  return { paymentHash: bytesToHex(paymentHash), secret: toWire(s) }
}

/** A sealed value as it travels (hex fields). */
export const toWire = (s: Sealed): PushSecret => ({
  ephemeral_point: bytesToHex(s.ephemeral), ciphertext: bytesToHex(s.ciphertext), tag: bytesToHex(s.tag),
})
export const fromWire = (w: PushSecret): Sealed => ({
  ephemeral: hexToBytes(w.ephemeral_point), ciphertext: hexToBytes(w.ciphertext), tag: hexToBytes(w.tag),
})

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
  const box = fromWire(i.secret)
  const paymentHash = hexToBytes(i.paymentHash)
  if (box.ciphertext.length !== PUSH_PLAINTEXT_BYTES) {
    return err({ reason: 'bad_tag', detail: 'the push secret was not sealed to our key for this payment hash and reference' })
  }
  const opened = openFrom(box, i.nodeKey, HKDF_INFO, concat(paymentHash, encoder.encode(i.reference)), curve)
  if (!opened.ok) {
    return err(opened.error.reason === 'bad_point'
      ? { reason: 'bad_point', detail: 'the push secret\'s ephemeral_point is not a point on secp256k1' }
      : { reason: 'bad_tag', detail: 'the push secret was not sealed to our key for this payment hash and reference' })
  }
  const plain = opened.value
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
