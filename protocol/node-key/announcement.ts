// The statement a hub signs when its node key changes (DESIGN.md "Node-key rotation"), pure.
//
// What is signed: sha256(tag ‖ kind ‖ seq ‖ old_id ‖ new_id ‖ grace_until_height), kind one byte
// (1 rotate, 2 rollback), seq 8 bytes and the height 4 bytes big-endian, the ids 33 bytes each. Every
// field has a fixed length after a constant tag of its own, so the bytes determine the statement, and
// no signature of the handshake, a receipt or an admission token can stand in for it. Signed twice,
// BIP-340: by `old_id` (the key a client trusts hands over to `new_id`) and by `new_id` (the hub holds
// the key it hands over to: a statement cannot name a key nobody can use).
//
// The curve is protocol/crypto's (see protocol/auth/signature.ts).
import { sha256 } from '@noble/hashes/sha2.js'
import { NODE_ID_BYTES, isValidNodeId } from '../auth/signature.ts'
import { getCurve } from '../crypto/index.ts'
import { concatBytes, u64be } from '../crypto/hash.ts'
import { bytesToHex, hexToBytes, type Height, type NodeId } from '../types.ts'
import type { NodeKeyRotationMessage } from '../wire/index.ts'

export const NODE_KEY_ROTATION_TAG = new TextEncoder().encode('micropayout-hub/node-key/v1/rotation')

export type RotationKind = NodeKeyRotationMessage['kind']

/** What a rotation says, without its signatures. */
export interface RotationStatement {
  kind: RotationKind
  seq: number
  oldId: NodeId
  newId: NodeId
  graceUntilHeight: number
}

const KIND_BYTE: Record<RotationKind, number> = { rotate: 1, rollback: 2 }

/** The digest both keys sign. Throws on a statement no hub could sign (a programmer error). */
export function rotationDigest (s: RotationStatement): Uint8Array {
  const oldId = hexToBytes(s.oldId)
  const newId = hexToBytes(s.newId)
  if (oldId.length !== NODE_ID_BYTES || newId.length !== NODE_ID_BYTES) throw new RangeError('rotationDigest: node ids must be 33 bytes')
  if (!Number.isSafeInteger(s.graceUntilHeight) || s.graceUntilHeight < 0 || s.graceUntilHeight > 0xffff_ffff) {
    throw new RangeError('rotationDigest: graceUntilHeight must be a u32')
  }
  const h = new Uint8Array(4)
  new DataView(h.buffer).setUint32(0, s.graceUntilHeight)
  return sha256(concatBytes(NODE_KEY_ROTATION_TAG, Uint8Array.of(KIND_BYTE[s.kind]), u64be(s.seq), oldId, newId, h))
}

/** The message announcing `s`, signed by both keys. `auxRand`: two sets of 32 fresh random bytes. */
export function signRotation (
  s: RotationStatement, oldSecret: Uint8Array, newSecret: Uint8Array, auxRand: [Uint8Array, Uint8Array],
): NodeKeyRotationMessage {
  const digest = rotationDigest(s)
  return {
    type: 'node_key_rotation', kind: s.kind, seq: s.seq, old_id: s.oldId, new_id: s.newId,
    grace_until_height: s.graceUntilHeight as Height,
    old_signature: bytesToHex(getCurve().schnorrSign(digest, oldSecret, auxRand[0])),
    new_signature: bytesToHex(getCurve().schnorrSign(digest, newSecret, auxRand[1])),
  }
}

export function statementOf (m: NodeKeyRotationMessage): RotationStatement {
  return { kind: m.kind, seq: m.seq, oldId: m.old_id, newId: m.new_id, graceUntilHeight: m.grace_until_height }
}

/** Why an announcement's signatures do not hold. */
export type RotationSignatureFailure = 'invalid_node_id' | 'same_key' | 'bad_old_signature' | 'bad_new_signature'

/** Checks both signatures of a (schema-checked) announcement; undefined when they hold. Never throws. */
export function rotationSignatureFailure (m: NodeKeyRotationMessage): RotationSignatureFailure | undefined {
  if (!isValidNodeId(m.old_id) || !isValidNodeId(m.new_id)) return 'invalid_node_id'
  if (m.old_id === m.new_id) return 'same_key'
  const digest = rotationDigest(statementOf(m))
  const verify = (sig: string, id: NodeId): boolean => getCurve().schnorrVerify(hexToBytes(sig), digest, hexToBytes(id).subarray(1))
  if (!verify(m.old_signature, m.old_id)) return 'bad_old_signature'
  if (!verify(m.new_signature, m.new_id)) return 'bad_new_signature'
  return undefined
}
