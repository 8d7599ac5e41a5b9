// The signatures of the authentication handshake (DESIGN.md "Authentication"): each side proves its
// node key by a BIP-340 signature over a challenge the other side chose fresh for this connection.
//
// What is signed: sha256(tag ‖ challenge ‖ hub_id ‖ client_id), where
//   - tag differs per direction, so a client's signature can never be presented back as the hub's
//     (reflection) nor the other way round;
//   - challenge (32 bytes) was chosen by the verifier for this connection only, so a signature
//     recorded from an earlier connection proves nothing now (replay);
//   - both node ids (33 bytes each) are bound, so a signature made for one hub cannot be relayed to
//     another hub by a man in the middle, and names the key it claims to be.
// Every field after the tag has a fixed length and the two tags are distinct constants, so the byte
// string determines its parts: there is no way to shift bytes from one field into another.
//
// The curve is protocol/crypto's: pure-JS noble by default, the faster WASM backend if the host chose
// it with setDefaultCurve (hub/main.ts).
import { sha256 } from '@noble/hashes/sha2.js'
import { getCurve } from '../crypto/index.ts'
import type { NodeId } from '../types.ts'
import { bytesToHex, hexToBytes } from '../types.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Signed by the client over the hub's challenge. */
export const CLIENT_AUTH_TAG = utf8('micropayout-hub/auth/v1/client-proves-key')
/** Signed by the hub over the client's challenge. */
export const HUB_AUTH_TAG = utf8('micropayout-hub/auth/v1/hub-proves-key')

export type AuthDirection = 'client' | 'hub'

export const CHALLENGE_BYTES = 32
export const SIGNATURE_BYTES = 64
export const NODE_ID_BYTES = 33

/** The 32-byte digest a side signs to answer `challenge` in the given direction. */
export function authDigest (direction: AuthDirection, challenge: Uint8Array, hubId: NodeId, clientId: NodeId): Uint8Array {
  if (challenge.length !== CHALLENGE_BYTES) throw new RangeError(
    `authDigest: challenge must be ${CHALLENGE_BYTES} bytes (got ${challenge.length})`
  )
  const hub = hexToBytes(hubId)
  const client = hexToBytes(clientId)
  if (hub.length !== NODE_ID_BYTES || client.length !== NODE_ID_BYTES) throw new RangeError('authDigest: node ids must be 33 bytes')
  const tag = direction === 'client' ? CLIENT_AUTH_TAG : HUB_AUTH_TAG
  const buf = new Uint8Array(tag.length + CHALLENGE_BYTES + 2 * NODE_ID_BYTES)
  buf.set(tag, 0)
  buf.set(challenge, tag.length)
  buf.set(hub, tag.length + CHALLENGE_BYTES)
  buf.set(client, tag.length + CHALLENGE_BYTES + NODE_ID_BYTES)
  return sha256(buf)
}

/** True when `nodeId` is a valid 33-byte compressed secp256k1 point (02/03 prefix, x on the curve). */
export function isValidNodeId (nodeId: string): nodeId is NodeId {
  return /^0[23][0-9a-f]{64}$/.test(nodeId) && getCurve().isPubkey(hexToBytes(nodeId))
}

/** The node id (33-byte compressed public key, hex) of a 32-byte secret key. */
export function nodeIdOf (secretKey: Uint8Array): NodeId {
  return bytesToHex(getCurve().pubkey(secretKey)) as NodeId
}

/**
 * BIP-340 signs with the x-only key. A node id is the compressed key (parity byte + x); the signer
 * whose key has odd y signs with the negated secret, which noble does internally. Someone who can
 * sign for 02‖x can therefore also sign for 03‖x: that gives nothing away, since knowing d means
 * knowing n−d, the secret of the other point.
 */
const xOnly = (nodeId: NodeId): Uint8Array => hexToBytes(nodeId).subarray(1)

/** Signs the handshake digest. `auxRand` is 32 fresh random bytes (BIP-340 auxiliary randomness). */
export function signAuth (
  direction: AuthDirection, challenge: Uint8Array, hubId: NodeId, clientId: NodeId,
  secretKey: Uint8Array, auxRand: Uint8Array,
): Uint8Array {
  return getCurve().schnorrSign(authDigest(direction, challenge, hubId, clientId), secretKey, auxRand)
}

/**
 * Checks a handshake signature made by `signer` (one of hubId/clientId, per direction).
 * Malformed signatures or keys verify as false; they never throw.
 */
export function verifyAuth (
  direction: AuthDirection, signature: Uint8Array, challenge: Uint8Array, hubId: NodeId, clientId: NodeId,
): boolean {
  if (signature.length !== SIGNATURE_BYTES || challenge.length !== CHALLENGE_BYTES) return false
  if (!isValidNodeId(hubId) || !isValidNodeId(clientId)) return false
  const signer = direction === 'client' ? clientId : hubId
  return getCurve().schnorrVerify(signature, authDigest(direction, challenge, hubId, clientId), xOnly(signer))
}
