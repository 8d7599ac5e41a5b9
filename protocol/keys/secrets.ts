// Per-commitment secrets from a seed (BOLT #3 "Per-commitment Secret Requirements").
import { sha256 } from '../crypto/hash.ts'
import { getCurve, type Curve } from '../crypto/index.ts'

/** BOLT #3: "The first secret used: MUST be index 281474976710655, and from there, the index is decremented." */
export const FIRST_COMMITMENT_INDEX = 2 ** 48 - 1

/** The secret index of commitment number `n` (0, 1, 2, ...): 2^48 − 1 − n. */
export function commitmentIndex (commitmentNumber: number): number {
  if (!Number.isSafeInteger(commitmentNumber) || commitmentNumber < 0 || commitmentNumber > FIRST_COMMITMENT_INDEX) {
    throw new RangeError(`commitmentIndex: bad commitment number ${commitmentNumber}`)
  }
  return FIRST_COMMITMENT_INDEX - commitmentNumber
}

/** Is bit `b` (0..47) set in a 48-bit index? (Plain numbers: 2^48 is a safe integer; `&` is only 32-bit.) */
export function bitSet (index: number, b: number): boolean {
  return Math.floor(index / 2 ** b) % 2 === 1
}

// BOLT #3: "flip(B)" alternates the (B mod 8) bit of the (B div 8) byte of the value.
function flip (p: Uint8Array, b: number): void {
  p[b >> 3]! ^= 1 << (b & 7)
}

/**
 * BOLT #3 derive_secret(base, bits, I): "for B in bits - 1 down to 0: if B set in I: flip(B) in P;
 * P = SHA256(P)". With bits = 48 and base = seed it is generate_from_seed.
 */
export function deriveSecret (base: Uint8Array, bits: number, index: number): Uint8Array {
  let p = Uint8Array.from(base)
  for (let b = bits - 1; b >= 0; b--) {
    if (bitSet(index, b)) {
      flip(p, b)
      p = Uint8Array.from(sha256(p))
    }
  }
  return p
}

/** BOLT #3 generate_from_seed(seed, I): the I'th per-commitment secret (I is the index, not the number). */
export function perCommitmentSecret (seed: Uint8Array, index: number): Uint8Array {
  if (seed.length !== 32) throw new TypeError('perCommitmentSecret: seed must be 32 bytes')
  if (!Number.isSafeInteger(index) || index < 0 || index > FIRST_COMMITMENT_INDEX) throw new RangeError(
    `perCommitmentSecret: bad index ${index}`
  )
  return deriveSecret(seed, 48, index)
}

/** BOLT #3: "per_commitment_point = per_commitment_secret * G". */
export function perCommitmentPoint (secret: Uint8Array, curve?: Curve): Uint8Array {
  return getCurve(curve).pubkey(secret)
}
