// The on-chain commitment to the audit log (DESIGN.md "Audit anchoring and receipts").
//
// An anchor covers the entries [from, to) written since the anchor it builds on, and commits
//   commitment = sha256(ANCHOR_TAG ‖ prev commitment ‖ Merkle root of the entries' hashes ‖ u64 from ‖ u64 to)
// with 32 zero bytes as the commitment before the first anchor. The transaction carries it in one
// OP_RETURN output: OP_RETURN <ANCHOR_MAGIC ‖ commitment> (36 bytes of data, standard null data).
// Every field has a fixed length after a constant tag, so the bytes determine the parts.
import { sha256 } from '@noble/hashes/sha2.js'
import { u64be } from '../crypto/hash.ts'
import { bytesToHex, hexToBytes } from '../types.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

export const ANCHOR_TAG = utf8('micropayout-hub/audit/v1/anchor')
/** The first bytes of an anchor's OP_RETURN data: tells an anchor from other null data. */
export const ANCHOR_MAGIC = utf8('MPA1')
export const GENESIS_COMMITMENT = '00'.repeat(32)

const OP_RETURN = 0x6a
const DATA_BYTES = ANCHOR_MAGIC.length + 32

/** What one anchor commits: the range of entries and their root, after the previous commitment. */
export interface AnchorClaim {
  readonly prev_commitment: string
  readonly root: string
  /** First entry covered. */
  readonly from: number
  /** One past the last entry covered (from < to). */
  readonly to: number
}


export function anchorCommitment (c: AnchorClaim): string {
  if (c.to <= c.from) throw new RangeError(`anchor: empty range ${c.from}..${c.to}`)
  const buf = new Uint8Array(ANCHOR_TAG.length + 32 + 32 + 16)
  buf.set(ANCHOR_TAG, 0)
  buf.set(hexToBytes(c.prev_commitment), ANCHOR_TAG.length)
  buf.set(hexToBytes(c.root), ANCHOR_TAG.length + 32)
  buf.set(u64be(c.from), ANCHOR_TAG.length + 64)
  buf.set(u64be(c.to), ANCHOR_TAG.length + 72)
  return bytesToHex(sha256(buf))
}

/** The output script (hex) carrying a commitment: OP_RETURN, one push of 36 bytes. */
export function anchorScript (commitment: string): string {
  const data = new Uint8Array(DATA_BYTES)
  data.set(ANCHOR_MAGIC, 0)
  data.set(hexToBytes(commitment), ANCHOR_MAGIC.length)
  return bytesToHex(new Uint8Array([OP_RETURN, DATA_BYTES, ...data]))
}

/** The commitment an output script carries, or null when it is not an anchor. */
export function commitmentOfScript (scriptHex: string): string | null {
  if (!/^[0-9a-f]*$/.test(scriptHex) || scriptHex.length !== 2 * (2 + DATA_BYTES)) return null
  const s = hexToBytes(scriptHex)
  if (s[0] !== OP_RETURN || s[1] !== DATA_BYTES) return null
  for (let i = 0; i < ANCHOR_MAGIC.length; i++) if (s[2 + i] !== ANCHOR_MAGIC[i]) return null
  return bytesToHex(s.subarray(2 + ANCHOR_MAGIC.length))
}
