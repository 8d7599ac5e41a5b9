// Per-commitment key derivation (BOLT #3 "Key Derivation") and the obscured commitment number.
import { concatBytes, sha256 } from '../crypto/hash.ts'
import { getCurve, type Curve } from '../crypto/index.ts'

/**
 * BOLT #3: "pubkey = basepoint + SHA256(per_commitment_point || basepoint) * G". Used for
 * localpubkey, local/remote_htlcpubkey and local/remote_delayedpubkey.
 */
export function derivePubkey (basepoint: Uint8Array, perCommitmentPoint: Uint8Array, curve?: Curve): Uint8Array {
  return getCurve(curve).pointAddTweak(basepoint, sha256(concatBytes(perCommitmentPoint, basepoint)))
}

/** BOLT #3: "privkey = basepoint_secret + SHA256(per_commitment_point || basepoint)". */
export function derivePrivkey (basepointSecret: Uint8Array, perCommitmentPoint: Uint8Array, curve?: Curve): Uint8Array {
  const c = getCurve(curve)
  const basepoint = c.pubkey(basepointSecret)
  return c.privAdd(basepointSecret, sha256(concatBytes(perCommitmentPoint, basepoint)))
}

/**
 * BOLT #3: "revocationpubkey = revocation_basepoint * SHA256(revocation_basepoint || per_commitment_point)
 * + per_commitment_point * SHA256(per_commitment_point || revocation_basepoint)".
 */
export function deriveRevocationPubkey (revocationBasepoint: Uint8Array, perCommitmentPoint: Uint8Array, curve?: Curve): Uint8Array {
  const c = getCurve(curve)
  const a = c.pointMul(revocationBasepoint, sha256(concatBytes(revocationBasepoint, perCommitmentPoint)))
  const b = c.pointMul(perCommitmentPoint, sha256(concatBytes(perCommitmentPoint, revocationBasepoint)))
  return c.pointAdd(a, b)
}

/**
 * BOLT #3: "revocationprivkey = revocation_basepoint_secret * SHA256(revocation_basepoint ||
 * per_commitment_point) + per_commitment_secret * SHA256(per_commitment_point || revocation_basepoint)".
 * Computable only once the peer revealed `per_commitment_secret`, i.e. revoked that commitment.
 */
export function deriveRevocationPrivkey (
  revocationBasepointSecret: Uint8Array, perCommitmentSecret: Uint8Array, curve?: Curve,
): Uint8Array {
  const c = getCurve(curve)
  const revocationBasepoint = c.pubkey(revocationBasepointSecret)
  const perCommitmentPoint = c.pubkey(perCommitmentSecret)
  const a = c.privMul(revocationBasepointSecret, sha256(concatBytes(revocationBasepoint, perCommitmentPoint)))
  const b = c.privMul(perCommitmentSecret, sha256(concatBytes(perCommitmentPoint, revocationBasepoint)))
  return c.privAdd(a, b)
}

/**
 * BOLT #3: "The 48-bit commitment number is obscured by XOR with the lower 48 bits of:
 * SHA256(payment_basepoint from open_channel || payment_basepoint from accept_channel)".
 * Returns the factor as a number (< 2^48, a safe integer).
 */
export function obscuringFactor (openerPaymentBasepoint: Uint8Array, accepterPaymentBasepoint: Uint8Array): number {
  const h = sha256(concatBytes(openerPaymentBasepoint, accepterPaymentBasepoint))
  let n = 0
  for (let i = 26; i < 32; i++) n = n * 256 + h[i]!
  return n
}

/** 48-bit XOR on plain numbers (JS `^` is 32-bit only). */
export function xor48 (a: number, b: number): number {
  const hi = (Math.floor(a / 2 ** 24) ^ Math.floor(b / 2 ** 24)) >>> 0
  const lo = ((a % 2 ** 24) ^ (b % 2 ** 24)) >>> 0
  return hi * 2 ** 24 + lo
}

/** The commitment number XOR the obscuring factor: what the commitment's locktime/sequence encode. */
export function obscuredCommitmentNumber (
  commitmentNumber: number, openerPaymentBasepoint: Uint8Array, accepterPaymentBasepoint: Uint8Array,
): number {
  if (!Number.isSafeInteger(commitmentNumber) || commitmentNumber < 0 || commitmentNumber >= 2 ** 48) {
    throw new RangeError(`obscuredCommitmentNumber: bad commitment number ${commitmentNumber}`)
  }
  return xor48(commitmentNumber, obscuringFactor(openerPaymentBasepoint, accepterPaymentBasepoint))
}
