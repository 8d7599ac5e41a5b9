// The two signed statements of a split (DESIGN.md "Splits"), BIP-340 signatures by node keys:
//
//   leg locked   by recipient i: "my leg of split s, index i, payment hash h, amount a, with the secret
//                whose sha256 is c, from payer P, is irrevocably committed in my channel". The payer
//                releases only once it holds a valid one for every leg.
//   abort        by the payer: "split s of payer P is abandoned". A recipient fails a locked leg before
//                the release deadline only on this; the hub cannot forge it.
//
// Each digest is sha256(tag ‖ fixed-length fields ‖ ...), the tags distinct constants, so a statement
// of one kind can never be read as the other, and none as an authentication signature
// (protocol/auth/signature.ts has its own tags).
import { sha256 } from '@noble/hashes/sha2.js'
import { getCurve, type Curve } from '../crypto/index.ts'
import { concatBytes as concat, u64be } from '../crypto/hash.ts'
import { bytesToHex, hexToBytes } from '../types.ts'

const LEG_LOCKED_TAG = new TextEncoder().encode('micropayout-hub/split/v1/leg-locked')
const ABORT_TAG = new TextEncoder().encode('micropayout-hub/split/v1/abort')

export interface LegLocked {
  splitId: string
  index: number
  paymentHash: string
  amountMsat: number
  /** sha256(r_i) of the secret the recipient opened (secrets.ts rCommitment). */
  rHash: string
  payer: string
  recipient: string
}


export const legLockedDigest = (l: LegLocked): Uint8Array => sha256(concat(
  LEG_LOCKED_TAG, hexToBytes(l.splitId), new Uint8Array([l.index >> 8 & 0xff, l.index & 0xff]), hexToBytes(l.paymentHash),
  u64be(l.amountMsat), hexToBytes(l.rHash), hexToBytes(l.payer), hexToBytes(l.recipient),
))

export const abortDigest = (splitId: string, payer: string): Uint8Array => sha256(concat(ABORT_TAG, hexToBytes(splitId), hexToBytes(payer)))

/** Signs a digest with a node key (`auxRand`: 32 bytes of the caller's randomness, BIP-340). */
export function signDigest (digest: Uint8Array, nodeKey: Uint8Array, auxRand: Uint8Array, curve?: Curve): string {
  return bytesToHex(getCurve(curve).schnorrSign(digest, nodeKey, auxRand))
}

/** True when `signature` is `nodeId`'s over `digest` (the node id's x coordinate is its BIP-340 key). */
export function verifyDigest (digest: Uint8Array, signature: string, nodeId: string, curve?: Curve): boolean {
  const sig = hexToBytes(signature)
  const key = hexToBytes(nodeId)
  if (sig.length !== 64 || key.length !== 33) return false
  return getCurve(curve).schnorrVerify(sig, digest, key.subarray(1))
}
