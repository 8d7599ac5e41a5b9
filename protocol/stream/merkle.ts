// The Merkle tree over a tick's items (DESIGN.md "Streams"). Leaves are item.ts's leafHash; an inner
// node is SHA256(0x01 ‖ left ‖ right). A level with an odd number of nodes carries its last node up
// unchanged (it is never paired with itself, so two item lists never share a root by duplicating the
// last item: the weakness of Bitcoin's transaction tree). The count of items is committed beside the
// root (the tick's reference, tick.ts), and a proof is checked against it: the path's shape follows
// from (index, count), so a proof can never place an item at another index or in a shorter tree.
import { sha256 } from '../crypto/hash.ts'
import { NODE_PREFIX } from './item.ts'

/** Every level of the tree, leaves first, root last (a one-element level). Empty input: no tree. */
export function merkleLevels (leaves: readonly Uint8Array[]): Uint8Array[][] {
  if (leaves.length === 0) throw new RangeError('merkleLevels: a tree needs at least one leaf')
  const levels: Uint8Array[][] = [leaves.slice()]
  const buf = new Uint8Array(65)
  buf[0] = NODE_PREFIX
  while (levels[levels.length - 1]!.length > 1) {
    const level = levels[levels.length - 1]!
    const next: Uint8Array[] = []
    for (let i = 0; i + 1 < level.length; i += 2) {
      buf.set(level[i]!, 1)
      buf.set(level[i + 1]!, 33)
      next.push(sha256(buf))
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]!)
    levels.push(next)
  }
  return levels
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
