// The Merkle tree over a range of audit entries, as RFC 6962 (Certificate Transparency) §2.1 defines
// it: leaf = sha256(0x00 ‖ entry hash), node = sha256(0x01 ‖ left ‖ right), a tree of n leaves split at
// the largest power of two below n. The prefixes keep a leaf from passing for a node (second preimage),
// and the split never duplicates a last node, so no two lists of leaves share a root (Bitcoin's own
// transaction tree duplicates the last node and has that flaw, CVE-2012-2459).
// An inclusion proof is RFC 6962's audit path, checked with RFC 9162 §2.1.3.2's algorithm.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '../types.ts'

const LEAF = 0x00
const NODE = 0x01

export function merkleLeaf (entryHash: string): Uint8Array {
  const buf = new Uint8Array(33)
  buf[0] = LEAF
  buf.set(hexToBytes(entryHash), 1)
  return sha256(buf)
}

function node (left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65)
  buf[0] = NODE
  buf.set(left, 1)
  buf.set(right, 33)
  return sha256(buf)
}

/** The largest power of two strictly below n (n ≥ 2). */
function split (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function rootOf (leaves: readonly Uint8Array[], from: number, to: number): Uint8Array {
  if (to - from === 1) return leaves[from]!
  const k = split(to - from)
  return node(rootOf(leaves, from, from + k), rootOf(leaves, from + k, to))
}

/** The root over these entry hashes, in order (at least one). */
export function merkleRoot (entryHashes: readonly string[]): string {
  if (entryHashes.length === 0) throw new RangeError('merkleRoot: no entries')
  return bytesToHex(rootOf(entryHashes.map(merkleLeaf), 0, entryHashes.length))
}

/** The audit path of leaf `index` among `entryHashes`: sibling hashes, from the leaf up. */
export function merklePath (entryHashes: readonly string[], index: number): string[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= entryHashes.length) {
    throw new RangeError(`merklePath: index ${index} outside 0..${entryHashes.length - 1}`)
  }
  const leaves = entryHashes.map(merkleLeaf)
  const path: string[] = []
  const walk = (from: number, to: number, m: number): void => {
    if (to - from === 1) return
    const k = split(to - from)
    if (m < k) { walk(from, from + k, m); path.push(bytesToHex(rootOf(leaves, from + k, to))) } else {
      walk(from + k, to, m - k); path.push(bytesToHex(rootOf(leaves, from, from + k)))
    }
  }
  walk(0, leaves.length, index)
  return path
}

/** True when `path` proves the entry hash is leaf `index` of a tree of `size` leaves with this root. */
export function verifyMerklePath (entryHash: string, index: number, size: number, path: readonly string[], root: string): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false
  let fn = index
  let sn = size - 1
  let r = merkleLeaf(entryHash)
  for (const p of path) {
    if (sn === 0) return false
    const sibling = hexToBytes(p)
    if (fn % 2 === 1 || fn === sn) {
      r = node(sibling, r)
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2) }
    } else r = node(r, sibling)
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && bytesToHex(r) === root
}
