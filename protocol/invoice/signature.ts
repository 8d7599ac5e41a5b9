// The invoice signature: a compact, recoverable ECDSA signature over sha256(hrp ‖ data), where the
// data words before the signature are packed into bytes with zero padding. Invoices are not on the
// hot path, so this uses noble (pure JS, runs in a browser) rather than the WASM curve.
import * as secp from '@noble/secp256k1'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '../types.ts'
import { getCurve } from '../crypto/index.ts'
import { ok } from '../result.ts'
import { fail, type InvoiceResult } from './errors.ts'
import { convertBits } from './words.ts'

// noble's synchronous API needs its hashes supplied once (same functions whoever sets them).
secp.hashes.sha256 ??= sha256
secp.hashes.hmacSha256 ??= (key, msg) => hmac(sha256, key, msg)

/** 520 bits: 64-byte r ‖ s and a 1-byte recovery id (BOLT #11 "Data Part"). */
export const SIGNATURE_WORDS = 104

// BOLT #11 (writer): "MUST set `signature` to a valid compact ECDSA signature over secp256k1 of the
// SHA-256 hash of: the human-readable part (as UTF-8 bytes) concatenated with the data part
// (excluding the signature), with 0 bits appended to pad to a byte boundary."
export function signingData (hrp: string, dataWords: readonly number[]): Uint8Array {
  const hrpBytes = new TextEncoder().encode(hrp)
  const data = convertBits(dataWords, 5, 8, true)!
  const out = new Uint8Array(hrpBytes.length + data.length)
  out.set(hrpBytes)
  out.set(data, hrpBytes.length)
  return out
}
export const signingHash = (hrp: string, dataWords: readonly number[]): Uint8Array => sha256(signingData(hrp, dataWords))

export interface InvoiceSignature {
  /** 64-byte r ‖ s, hex. */
  readonly rsHex: string
  readonly recoveryId: number
}

/** Sign with RFC 6979 deterministic nonces and low S (the spec examples are signed this way). */
export function sign (hash: Uint8Array, secretKey: Uint8Array): { bytes: Uint8Array; sig: InvoiceSignature } {
  const rec = secp.sign(hash, secretKey, { prehash: false, format: 'recovered' }) // recid ‖ r ‖ s
  const bytes = new Uint8Array(65)
  bytes.set(rec.subarray(1), 0)
  bytes[64] = rec[0]!
  return { bytes, sig: { rsHex: bytesToHex(rec.subarray(1)), recoveryId: rec[0]! } }
}

/** r ‖ s ‖ recid → the signature, or an error if the recovery id is out of range. */
export function parseSignature (bytes: Uint8Array): InvoiceResult<InvoiceSignature> {
  if (bytes.length !== 65) return fail('bad_signature', 'signature', `${bytes.length} bytes, not 65`)
  const recoveryId = bytes[64]!
  if (recoveryId > 3) return fail('bad_signature', 'signature', `recovery id ${recoveryId} is not 0-3`)
  return ok({ rsHex: bytesToHex(bytes.subarray(0, 64)), recoveryId })
}

function rsBytes (sig: InvoiceSignature): Uint8Array {
  const b = new Uint8Array(64)
  for (let i = 0; i < 64; i++) b[i] = parseInt(sig.rsHex.slice(2 * i, 2 * i + 2), 16)
  return b
}

// BOLT #11 (reader): "if a valid `n` field is provided: MUST use the `n` field to validate the
// signature instead of performing public-key recovery. If the signature is not compliant with the
// low-S standard rule: MUST fail the payment. otherwise: MUST perform ECDSA public-key recovery and
// accept both high-S and low-S signatures."
export function verifyWithNodeId (hash: Uint8Array, sig: InvoiceSignature, nodeId: Uint8Array): InvoiceResult<void> {
  const rs = rsBytes(sig)
  try {
    if (secp.Signature.fromBytes(rs, 'compact').hasHighS()) {
      return fail('high_s_with_n', 'signature', 'an `n` field is present and s is in the upper half of the order')
    }
    if (secp.verify(rs, hash, nodeId, { prehash: false, lowS: true, format: 'compact' })) return ok(undefined)
  } catch (e) {
    return fail('bad_signature', 'signature', `unreadable signature or key: ${(e as Error).message}`)
  }
  return fail('bad_signature', 'signature', 'does not verify against the `n` node id')
}

/**
 * The key that produced `sig`, recovered exactly as libsecp256k1's secp256k1_ecdsa_recover does: the
 * transmitted recovery id picks R, and a high S is accepted as it is (not normalised first).
 */
export function recoverNodeId (hash: Uint8Array, sig: InvoiceSignature): InvoiceResult<Uint8Array> {
  // The host's curve, if it can recover (tiny-secp256k1's WASM libsecp256k1: the same algorithm).
  const fast = getCurve().recover
  if (fast !== undefined) {
    const pub = fast(rsBytes(sig), hash, sig.recoveryId)
    return pub !== undefined ? ok(pub) : fail('bad_signature', 'signature', 'public-key recovery fails')
  }
  const rec = new Uint8Array(65)
  rec[0] = sig.recoveryId
  rec.set(rsBytes(sig), 1)
  try {
    return ok(secp.recoverPublicKey(rec, hash, { prehash: false }))
  } catch (e) {
    return fail('bad_signature', 'signature', `public-key recovery fails: ${(e as Error).message}`)
  }
}
