// The Merkle tree over a tick's items (DESIGN.md "Streams"). Leaves are item.ts's leafHash; an inner
// node is SHA256(0x01 ‖ left ‖ right). A level with an odd number of nodes carries its last node up
// unchanged (it is never paired with itself, so two item lists never share a root by duplicating the
// last item: the weakness of Bitcoin's transaction tree). The count of items is committed beside the
// root (the tick's reference, tick.ts), and a proof is checked against it: the path's shape follows
// from (index, count), so a proof can never place an item at another index or in a shorter tree.
//
// A tick's tree is built as flat levels (TickTree: each level one buffer, 32 bytes a node) with
// sha256Into, so tens of thousands of items cost no allocation per node; merkleLevels is the same tree
// as arrays of nodes.
import { sha256 } from '../crypto/hash.ts'
import { sha256Into } from '../crypto/sha256-into.ts'
import { bytesToHex } from '../types.ts'
import { NODE_PREFIX } from './item.ts'

/** A tree whose levels are flat: `levels[0]` holds the `count` leaves (32 bytes each), the last level
 *  the root alone. */
export interface TickTree { count: number; levels: Uint8Array[] }

/** One level up from `level` (`n` nodes): pairs hashed, an odd last node carried up. */
function levelAbove (level: Uint8Array, n: number): Uint8Array {
  const up = new Uint8Array(((n + 1) >> 1) * 32)
  const buf = new Uint8Array(65)
  buf[0] = NODE_PREFIX
  let j = 0
  for (let i = 0; i + 1 < n; i += 2, j++) {
    const from = i * 32
    for (let k = 0; k < 64; k++) buf[1 + k] = level[from + k]!
    sha256Into(buf, 0, 65, up, j * 32)
  }
  if (n % 2 === 1) up.set(level.subarray((n - 1) * 32, n * 32), j * 32)
  return up
}

/** The tree over `count` leaves laid end to end in `leaves` (32 bytes each; item.ts leafHashes). */
export function tickTree (leaves: Uint8Array, count: number): TickTree {
  if (count < 1) throw new RangeError('tickTree: a tree needs at least one leaf')
  if (leaves.length !== count * 32) throw new RangeError(`tickTree: ${leaves.length} bytes are not ${count} leaves`)
  const levels = [leaves]
  for (let n = count; n > 1; n = (n + 1) >> 1) levels.push(levelAbove(levels[levels.length - 1]!, n))
  return { count, levels }
}

export const tickTreeRoot = (tree: TickTree): Uint8Array => tree.levels[tree.levels.length - 1]!.subarray(0, 32)

/** The siblings on the path from leaf `index` to the root, bottom up (as merkleProof). */
export function tickTreeProof (tree: TickTree, index: number): Uint8Array[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= tree.count) throw new RangeError(
    `tickTreeProof: index ${index} is not in 0..${tree.count - 1}`
  )
  const proof: Uint8Array[] = []
  let i = index
  let n = tree.count
  for (let l = 0; l < tree.levels.length - 1; l++) {
    const sibling = i ^ 1
    if (sibling < n) proof.push(tree.levels[l]!.subarray(sibling * 32, sibling * 32 + 32))
    i >>= 1
    n = (n + 1) >> 1
  }
  return proof
}

/** Every level of `tree` as one hex string (64 characters a node), for tickTreeProofHex: the receipts
 *  of a whole tick then cost one conversion per node, not one per node of every proof. */
export const tickTreeHex = (tree: TickTree): string[] => tree.levels.map(bytesToHex)

/** tickTreeProof in hex, read from tickTreeHex's levels. */
export function tickTreeProofHex (tree: TickTree, hexLevels: readonly string[], index: number): string[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= tree.count) throw new RangeError(
    `tickTreeProofHex: index ${index} is not in 0..${tree.count - 1}`
  )
  const proof: string[] = []
  let i = index
  let n = tree.count
  for (let l = 0; l < hexLevels.length - 1; l++) {
    const sibling = i ^ 1
    if (sibling < n) proof.push(hexLevels[l]!.slice(sibling * 64, sibling * 64 + 64))
    i >>= 1
    n = (n + 1) >> 1
  }
  return proof
}

/** Every level of the tree, leaves first, root last (a one-element level). Empty input: no tree. */
export function merkleLevels (leaves: readonly Uint8Array[]): Uint8Array[][] {
  if (leaves.length === 0) throw new RangeError('merkleLevels: a tree needs at least one leaf')
  const flat = new Uint8Array(leaves.length * 32)
  leaves.forEach((l, i) => { flat.set(l, i * 32) })
  return tickTree(flat, leaves.length).levels.map(level =>
    Array.from({ length: level.length / 32 }, (_, i) => level.slice(i * 32, i * 32 + 32)))
}

export const merkleRoot = (leaves: readonly Uint8Array[]): Uint8Array => {
  const levels = merkleLevels(leaves)
  return levels[levels.length - 1]![0]!
}

export const nodeHash = (left: Uint8Array, right: Uint8Array): Uint8Array => {
  const buf = new Uint8Array(65)
  buf[0] = NODE_PREFIX
  buf.set(left, 1)
  buf.set(right, 33)
  return sha256(buf)
}

/** The siblings on the path from leaf `index` to the root, bottom up (a carried-up node has none). */
export function merkleProof (levels: readonly Uint8Array[][], index: number): Uint8Array[] {
  const count = levels[0]!.length
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) throw new RangeError(
    `merkleProof: index ${index} is not in 0..${count - 1}`
  )
  const proof: Uint8Array[] = []
  let i = index
  for (let l = 0; l < levels.length - 1; l++) {
    const level = levels[l]!
    const sibling = i ^ 1
    if (sibling < level.length) proof.push(level[sibling]!)
    i >>= 1
  }
  return proof
}

/** The root that `leaf` at `index` of a `count`-leaf tree gives with `proof`; undefined when the proof
 *  has the wrong length for that place (too short, too long, or index not below count). */
export function rootFromProof (leaf: Uint8Array, index: number, count: number, proof: readonly Uint8Array[]): Uint8Array | undefined {
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index) || index < 0 || index >= count) return undefined
  let node = leaf
  let i = index
  let n = count
  let used = 0
  while (n > 1) {
    const sibling = i ^ 1
    if (sibling < n) {
      const s = proof[used++]
      if (s === undefined || s.length !== 32) return undefined
      node = (i & 1) === 0 ? nodeHash(node, s) : nodeHash(s, node)
    }
    i >>= 1
    n = (n + 1) >> 1
  }
  return used === proof.length ? node : undefined
}
