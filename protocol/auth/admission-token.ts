// The admission token: a client's signed claim, carried in the query of its WebSocket upgrade request,
// that it is a given node id. The hub decides whom to admit before the upgrade, before any handshake
// message, so this is the only thing it can know of a client then. A hub keeps handshake slots for
// the node ids it has channels with, apart from the slots anyone may take (hub/transport/admission.ts):
// a flood of sockets from strangers fills theirs, never these. The token is what lets a client into
// the kept slots without a round trip, and it cannot be made without the node key.
//
// What is signed: sha256(tag ‖ hub_id ‖ node_id ‖ time), time in ms since the Unix epoch as 8 bytes
// big-endian. The hub id binds the token to one hub. The time bounds how long a token is good for
// (the hub's admissionTokenMaxAgeMs) and orders a node's tokens: the hub takes a node's token only if
// its time is later than the last it took, so a token is good once, and the hub remembers one number
// per node id, not every token.
//
// A token proves nothing beyond the slot: the handshake (handshake.ts) still proves the key over a
// fresh challenge, and must prove the same node id.
//
// The curve is protocol/crypto's (see signature.ts).
import { sha256 } from '@noble/hashes/sha2.js'
import { z } from 'zod'
import { getCurve } from '../crypto/index.ts'
import type { NodeId } from '../types.ts'
import { bytesToHex, hexToBytes } from '../types.ts'
import { NODE_ID_BYTES, SIGNATURE_BYTES, isValidNodeId } from './signature.ts'
import { err, ok, type Result } from '../result.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Distinct from the handshake's tags, so a token can never stand in for a handshake signature. */
export const ADMISSION_TAG = utf8('micropayout-hub/auth/v1/admission-token')

/** The query parameters of the upgrade request that carry a token. */
export const ADMISSION_PARAMS = { nodeId: 'admission_node_id', time: 'admission_time', signature: 'admission_sig' } as const

export interface AdmissionToken {
  nodeId: NodeId
  /** ms since the Unix epoch, by the signer's clock. */
  timeMs: number
  /** BIP-340 signature, 64 bytes hex. */
  signature: string
}

/** The digest a token signs. */
export function admissionDigest (hubId: NodeId, nodeId: NodeId, timeMs: number): Uint8Array {
  if (!Number.isSafeInteger(timeMs) || timeMs < 0) throw new RangeError('admissionDigest: timeMs must be a non-negative safe integer')
  const hub = hexToBytes(hubId)
  const node = hexToBytes(nodeId)
  if (hub.length !== NODE_ID_BYTES || node.length !== NODE_ID_BYTES) throw new RangeError('admissionDigest: node ids must be 33 bytes')
  const buf = new Uint8Array(ADMISSION_TAG.length + 2 * NODE_ID_BYTES + 8)
  buf.set(ADMISSION_TAG, 0)
  buf.set(hub, ADMISSION_TAG.length)
  buf.set(node, ADMISSION_TAG.length + NODE_ID_BYTES)
  new DataView(buf.buffer).setBigUint64(ADMISSION_TAG.length + 2 * NODE_ID_BYTES, BigInt(timeMs))
  return sha256(buf)
}

/** Signs a token for `hubId` at `timeMs`. `auxRand` is 32 fresh random bytes (BIP-340). */
export function signAdmissionToken (hubId: NodeId, secretKey: Uint8Array, timeMs: number, auxRand: Uint8Array): AdmissionToken {
  const nodeId = bytesToHex(getCurve().pubkey(secretKey)) as NodeId
  const signature = bytesToHex(getCurve().schnorrSign(admissionDigest(hubId, nodeId, timeMs), secretKey, auxRand))
  return { nodeId, timeMs, signature }
}

/** True when `token` was signed by its node id for `hubId`. Never throws. */
export function verifyAdmissionToken (token: AdmissionToken, hubId: NodeId): boolean {
  if (!isValidNodeId(token.nodeId) || !isValidNodeId(hubId)) return false
  if (!/^[0-9a-f]*$/.test(token.signature) || token.signature.length !== 2 * SIGNATURE_BYTES) return false
  return getCurve().schnorrVerify(
    hexToBytes(token.signature), admissionDigest(hubId, token.nodeId, token.timeMs), hexToBytes(token.nodeId).subarray(1),
  )
}

/** The token as query parameters, to append to the hub's URL. */
export function admissionQuery (token: AdmissionToken): Record<string, string> {
  return {
    [ADMISSION_PARAMS.nodeId]: token.nodeId, [ADMISSION_PARAMS.time]: String(token.timeMs), [ADMISSION_PARAMS.signature]: token.signature,
  }
}

const tokenSchema = z.strictObject({
  [ADMISSION_PARAMS.nodeId]: z.string().regex(/^0[23][0-9a-f]{64}$/, { error: 'must be a 33-byte compressed key, lowercase hex' }),
  [ADMISSION_PARAMS.time]: z.string().regex(/^[0-9]{1,15}$/, { error: 'must be ms since the Unix epoch, in decimal' }),
  [ADMISSION_PARAMS.signature]: z.string().regex(/^[0-9a-f]{128}$/, { error: 'must be a 64-byte signature, lowercase hex' }),
})

/**
 * Reads a token from an upgrade request's query parameters. No token parameter at all: `none` (the
 * client did not send one). Some, malformed or incomplete: an error naming the parameter. Other
 * parameters are not the token's business and are ignored.
 */
export function parseAdmissionQuery (params: ReadonlyMap<string, string> | URLSearchParams): Result<AdmissionToken | undefined, string> {
  const names = Object.values(ADMISSION_PARAMS)
  const present = Object.fromEntries(names.flatMap(n => { const v = params.get(n); return v === null || v === undefined ? [] : [[n, v]] }))
  if (Object.keys(present).length === 0) return ok(undefined)
  const r = tokenSchema.safeParse(present)
  if (!r.success) return err(r.error.issues.map(i => `${i.path.join('.') || 'admission'}: ${i.message}`).join('; '))
  return ok({
    nodeId: r.data[ADMISSION_PARAMS.nodeId] as NodeId, timeMs: Number(r.data[ADMISSION_PARAMS.time]),
    signature: r.data[ADMISSION_PARAMS.signature] as string,
  })
}
