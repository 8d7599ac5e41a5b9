// The Merkle tree over audit entries (protocol/audit/merkle.ts): RFC 6962's tree, checked against an
// independent bottom-up construction (an odd last node is carried up unchanged, never duplicated);
// every audit path of every leaf verifies, and any change to the leaf, its index, the tree size, a
// sibling or the root makes it fail.
import t from 'tap'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '../../../../protocol/types.ts'
import { merkleLeaf, merklePath, merkleRoot, verifyMerklePath } from '../../../../protocol/audit/merkle.ts'

const h = (i: number): string => bytesToHex(sha256(new TextEncoder().encode(`entry ${i}`)))
const hashes = (n: number): string[] => Array.from({ length: n }, (_, i) => h(i))
const flip = (hex: string): string => (hex[0] === '0' ? '1' : '0') + hex.slice(1)

/** Bottom-up: pair neighbours level by level, carrying an odd last node up as it is. */
function bottomUp (leaves: string[]): string {
  let level = leaves.map(x => merkleLeaf(x))
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 === level.length) { next.push(level[i]!); continue }
      next.push(sha256(new Uint8Array([0x01, ...level[i]!, ...level[i + 1]!])))
    }
    level = next
  }
  return bytesToHex(level[0]!)
}

t.test('the root is RFC 6962\'s for every size from 1 to 70', async t => {
  for (let n = 1; n <= 70; n++) t.equal(merkleRoot(hashes(n)), bottomUp(hashes(n)), `${n} leaves`)
  t.equal(merkleRoot([h(0)]), bytesToHex(sha256(new Uint8Array([0x00, ...hexToBytes(h(0))]))), 'one leaf: sha256(0x00 ‖ entry hash)')
  t.throws(() => merkleRoot([]), RangeError)
})

t.test('no two lists of leaves share a root: a duplicated last leaf gives another root', async t => {
  const three = hashes(3)
  t.not(merkleRoot(three), merkleRoot([...three, three[2]!]))
  t.not(merkleRoot(hashes(2)), merkleRoot([h(1), h(0)]), 'order matters')
})

t.test('every path of every leaf verifies, for every size from 1 to 40', async t => {
  for (let n = 1; n <= 40; n++) {
    const leaves = hashes(n)
    const root = merkleRoot(leaves)
    for (let i = 0; i < n; i++) {
      const path = merklePath(leaves, i)
      if (!verifyMerklePath(leaves[i]!, i, n, path, root)) t.fail(`leaf ${i} of ${n}`)
      t.ok(path.length <= Math.ceil(Math.log2(n)), `path of leaf ${i} of ${n} is at most log2 n long`)
    }
  }
})

t.test('a changed leaf, index, size, sibling or root fails', async t => {
  const n = 13
  const leaves = hashes(n)
  const root = merkleRoot(leaves)
  for (const i of [0, 5, 11, 12]) {
    const path = merklePath(leaves, i)
    t.notOk(verifyMerklePath(flip(leaves[i]!), i, n, path, root), `leaf ${i} changed`)
    t.notOk(verifyMerklePath(leaves[i]!, (i + 1) % n, n, path, root), `leaf ${i} at another index`)
    for (let k = 0; k < path.length; k++) {
      const bad = [...path]
      bad[k] = flip(bad[k]!)
      t.notOk(verifyMerklePath(leaves[i]!, i, n, bad, root), `leaf ${i}: sibling ${k} changed`)
    }
    t.notOk(verifyMerklePath(leaves[i]!, i, n, path.slice(1), root), `leaf ${i}: a sibling missing`)
    t.notOk(verifyMerklePath(leaves[i]!, i, n, [...path, h(99)], root), `leaf ${i}: a sibling too many`)
    t.notOk(verifyMerklePath(leaves[i]!, i, n, path, flip(root)), `leaf ${i}: another root`)
  }
  // The size only steers left and right, so it fails where it changes the path's shape (the anchor's
  // commitment binds the range, hence the size, protocol/audit/anchor.ts).
  t.notOk(verifyMerklePath(leaves[12]!, 12, 16, merklePath(leaves, 12), root), 'the last leaf in a larger tree')
  t.notOk(verifyMerklePath(leaves[8]!, 8, 9, merklePath(leaves, 8), root), 'a leaf in a smaller tree')
  t.notOk(verifyMerklePath(leaves[0]!, -1, n, [], root), 'negative index')
  t.notOk(verifyMerklePath(leaves[0]!, n, n, [], root), 'index past the end')
})

t.test('an inner node does not pass for a leaf (the 0x00/0x01 prefixes)', async t => {
  const leaves = hashes(4)
  const root = merkleRoot(leaves)
  const inner = bytesToHex(sha256(new Uint8Array([0x01, ...merkleLeaf(leaves[0]!), ...merkleLeaf(leaves[1]!)])))
  t.notOk(verifyMerklePath(inner, 0, 2, [merklePath(leaves, 2).at(-1)!], root))
})
