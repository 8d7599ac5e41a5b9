// The one elliptic-curve interface every BOLT #3 computation goes through. Two implementations exist
// (noble.ts: pure JS, runs anywhere; tiny.ts: WASM, ~2x faster signing and ~9x faster verifying), and
// the vectors are checked against both. protocol/ never picks one by itself beyond a pure-JS default:
// the host calls `setDefaultCurve(tinyCurve)` once at startup (hub/main.ts) if it wants the fast one,
// and every function that does curve math also takes an optional trailing `curve` argument (tests use
// it to run the same code on both backends).
//
// Conventions: private keys and scalars are 32 bytes big-endian; public keys are 33-byte compressed
// points; ECDSA signatures are 64-byte compact (r ‖ s), always low-S, nonces by RFC 6979 with no
// extra entropy (so BOLT #3 vectors are reproducible byte for byte).

/** secp256k1 group order. */
export const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

export interface Curve {
  /** A short name for logs and benchmarks: 'noble' or 'tiny'. */
  readonly name: string
  /** priv·G, compressed (33 bytes). Throws on an invalid private key (programmer error). */
  pubkey (priv: Uint8Array): Uint8Array
  /** Is `pub` a valid compressed point on the curve? */
  isPubkey (pub: Uint8Array): boolean
  /** Is `priv` in [1, n-1]? */
  isPrivkey (priv: Uint8Array): boolean
  /** a + b (both compressed points), compressed. Throws if the result is the point at infinity. */
  pointAdd (a: Uint8Array, b: Uint8Array): Uint8Array
  /** point · scalar (scalar 32 bytes, in [1, n-1]), compressed. */
  pointMul (point: Uint8Array, scalar: Uint8Array): Uint8Array
  /** point + tweak·G, compressed (the BOLT #3 `basepoint + SHA256(...)·G` step). */
  pointAddTweak (point: Uint8Array, tweak: Uint8Array): Uint8Array
  /** (a + b) mod n, 32 bytes. */
  privAdd (a: Uint8Array, b: Uint8Array): Uint8Array
  /** (a · b) mod n, 32 bytes. */
  privMul (a: Uint8Array, b: Uint8Array): Uint8Array
  /** ECDSA over a 32-byte hash (no further hashing): 64-byte compact, low-S, RFC 6979. */
  sign (hash32: Uint8Array, priv: Uint8Array): Uint8Array
  /** Verifies a 64-byte compact ECDSA signature over a 32-byte hash. High-S signatures are rejected. */
  verify (sig64: Uint8Array, hash32: Uint8Array, pub: Uint8Array): boolean
  /** BIP-340 Schnorr signature over a 32-byte message; `auxRand` (32 bytes) is supplied by the caller. */
  schnorrSign (msg32: Uint8Array, priv: Uint8Array, auxRand: Uint8Array): Uint8Array
  /** BIP-340 verification; `xOnlyPub` is 32 bytes. */
  schnorrVerify (sig64: Uint8Array, msg32: Uint8Array, xOnlyPub: Uint8Array): boolean
  /** The 32-byte x-only public key of `priv` (BIP-340). */
  xOnlyPubkey (priv: Uint8Array): Uint8Array
  /** ECDSA public-key recovery (BOLT #11 invoices without `n`): the compressed key that made
   *  `sig64` (r ‖ s; a high S accepted, as libsecp256k1's ecdsa_recover does) over `hash32` with
   *  `recoveryId` (0-3); undefined if there is none. Optional: without it, callers use noble. */
  recover? (sig64: Uint8Array, hash32: Uint8Array, recoveryId: number): Uint8Array | undefined
}

let defaultCurve: Curve | undefined

/** Sets the curve used when a function is called without an explicit `curve`. Call once at startup. */
export function setDefaultCurve (curve: Curve): void { defaultCurve = curve }

/** The curve set by `setDefaultCurve`, or the given fallback (noble, see index.ts). */
export function currentCurve (fallback: () => Curve): Curve {
  if (defaultCurve === undefined) defaultCurve = fallback()
  return defaultCurve
}

export function bytesToBigInt (b: Uint8Array): bigint {
  let n = 0n
  for (const x of b) n = (n << 8n) | BigInt(x)
  return n
}
export function bigIntTo32Bytes (n: bigint): Uint8Array {
  if (n < 0n || n >= 1n << 256n) throw new RangeError('bigIntTo32Bytes: out of range')
  const out = new Uint8Array(32)
  for (let i = 31; i >= 0; i--) { out[i] = Number(n & 0xffn); n >>= 8n }
  return out
}
/** (a · b) mod n with bigints: neither backend's API offers scalar multiplication of two secrets. */
export function scalarMulModN (a: Uint8Array, b: Uint8Array): Uint8Array {
  const r = (bytesToBigInt(a) * bytesToBigInt(b)) % CURVE_ORDER
  if (r === 0n) throw new RangeError('scalarMulModN: result is zero')
  return bigIntTo32Bytes(r)
}
