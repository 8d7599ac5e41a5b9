// Hash functions BOLT #3 uses, from @noble/hashes (pure JS, audited).
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { ripemd160 as nobleRipemd160 } from '@noble/hashes/legacy.js'

export const sha256 = (data: Uint8Array): Uint8Array => nobleSha256(data)
export const ripemd160 = (data: Uint8Array): Uint8Array => nobleRipemd160(data)
/** RIPEMD160(SHA256(x)), Bitcoin's HASH160. */
export const hash160 = (data: Uint8Array): Uint8Array => nobleRipemd160(nobleSha256(data))

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

/** `n` as 8 bytes, big-endian: how the hashed encodings here (split statements, audit anchors) write a
 *  number. `n` must be a safe non-negative integer. */
export function u64be (n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`u64be: ${n} is not a safe non-negative integer`)
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/** Lexicographic byte comparison (BIP 69 and the funding-key order). */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}
