// Signing and verifying inputs: BIP 143 sighash, low-S ECDSA (via the Curve), DER + sighash byte in
// witnesses. Signatures cross the wire as 64-byte compact values (BOLT #2 `signature`).
import { compactToDer, derToCompact } from '../crypto/der.ts'
import { getCurve, type Curve } from '../crypto/index.ts'
import { compareBytes, concatBytes } from '../crypto/hash.ts'
import { SIGHASH_ALL, witnessV0Sighash, withWitness } from './serialize.ts'
import type { FundingOutput, Tx } from './types.ts'

/** A signature as it sits in a witness: DER followed by the sighash type byte. */
export function witnessSig (sig64: Uint8Array, hashType: number): Uint8Array {
  return concatBytes(compactToDer(sig64), Uint8Array.of(hashType))
}

/** Parses a witness signature (DER ‖ sighash byte) into compact form and its sighash type. */
export function parseWitnessSig (sig: Uint8Array): { sig64: Uint8Array, hashType: number } | undefined {
  if (sig.length < 9) return undefined
  const sig64 = derToCompact(sig.subarray(0, sig.length - 1))
  return sig64 === undefined ? undefined : { sig64, hashType: sig[sig.length - 1]! }
}

/** Signs input `index` of `tx`, which spends a P2WSH/P2WPKH output with this script code and value. */
export function signInput (
  tx: Tx, index: number, scriptCode: Uint8Array, valueSat: number, privkey: Uint8Array, hashType = SIGHASH_ALL, curve?: Curve,
): Uint8Array {
  return getCurve(curve).sign(witnessV0Sighash(tx, index, scriptCode, valueSat, hashType), privkey)
}

export function verifyInput (
  tx: Tx, index: number, scriptCode: Uint8Array, valueSat: number, sig64: Uint8Array, pubkey: Uint8Array, hashType = SIGHASH_ALL,
  curve?: Curve,
): boolean {
  return getCurve(curve).verify(sig64, witnessV0Sighash(tx, index, scriptCode, valueSat, hashType), pubkey)
}

/**
 * Our signature on a tx whose only input spends the funding output (commitment or closing tx):
 * BIP 143, SIGHASH_ALL, over the 2-of-2 witness script and the funding amount.
 */
export function signFundingSpend (tx: Tx, funding: FundingOutput, fundingPrivkey: Uint8Array, curve?: Curve): Uint8Array {
  return signInput(tx, 0, funding.witnessScript, funding.amountSat, fundingPrivkey, SIGHASH_ALL, curve)
}

/** Checks the peer's `signature` (commitment_signed / closing_signed) on a funding spend. */
export function verifyFundingSpend (
  tx: Tx, funding: FundingOutput, sig64: Uint8Array, signerFundingPubkey: Uint8Array, curve?: Curve,
): boolean {
  return verifyInput(tx, 0, funding.witnessScript, funding.amountSat, sig64, signerFundingPubkey, SIGHASH_ALL, curve)
}

/**
 * The broadcastable funding spend. BOLT #3: witness "0 <signature_for_pubkey1> <signature_for_pubkey2>"
 * with pubkey1 the lexicographically lesser funding key, then the witness script.
 */
export function finalizeFundingSpend (
  tx: Tx, funding: FundingOutput,
  a: { pubkey: Uint8Array, sig64: Uint8Array }, b: { pubkey: Uint8Array, sig64: Uint8Array },
): Tx {
  const [first, second] = compareBytes(a.pubkey, b.pubkey) <= 0 ? [a, b] : [b, a]
  return withWitness(tx, 0, [
    new Uint8Array(0),
    witnessSig(first.sig64, SIGHASH_ALL),
    witnessSig(second.sig64, SIGHASH_ALL),
    funding.witnessScript,
  ])
}
