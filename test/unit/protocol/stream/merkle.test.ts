// The Merkle tree of a stream tick (protocol/stream/merkle.ts, item.ts): every item's proof leads to
// the root, and no proof leads there for another item, index or count. Property tests with fast-check.
import t from 'tap'
import fc from 'fast-check'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  leafHash, leafHashes, merkleLevels, merkleProof, merkleRoot, nodeHash, rootFromProof, tickTree, tickTreeHex, tickTreeProof,
  tickTreeProofHex, tickTreeRoot, type StreamItem,
} from '../../../../protocol/stream/index.ts'
import { bytesToHex } from '../../../../protocol/types.ts'

const plain = fc.string({ unit: fc.constantFrom(...'abcXYZ019 -_:.#'.split('')), minLength: 1, maxLength: 64 })
const item = fc.record({
  id: plain, amountMsat: fc.integer({ min: 1, max: 10_000_000 }), memo: fc.string({ maxLength: 8 }).map(s => s.replace(/[^a-z]/g, '')),
})
const items = fc.array(item, { minLength: 1, maxLength: 300 })
const hex = (b: Uint8Array): string => bytesToHex(b)

t.test('a leaf is SHA256(0x00 ‖ len ‖ id ‖ amount (8 bytes BE) ‖ len ‖ memo)', async t => {
  const it: StreamItem = { id: 'ab', amountMsat: 2 ** 40 + 5, memo: 'm' }
  const expect = Uint8Array.from([0, 2, 97, 98, 0, 0, 1, 0, 0, 0, 0, 5, 1, 109])
  t.equal(hex(leafHash(it)), hex(sha256(expect)))
  t.not(hex(leafHash({ ...it, amountMsat: 5 })), hex(leafHash(it)), 'the high half of the amount counts')
  t.not(hex(leafHash({ id: 'a', amountMsat: 1, memo: 'b' })), hex(leafHash({ id: 'ab', amountMsat: 1, memo: '' })),
    'lengths separate id from memo')
})

t.test('one leaf is its own root; an odd last node is carried up, never paired with itself', async t => {
  const [a, b, c] = ['a', 'b', 'c'].map(id => leafHash({ id, amountMsat: 1, memo: '' })) as [Uint8Array, Uint8Array, Uint8Array]
  t.equal(hex(merkleRoot([a])), hex(a))
  t.equal(hex(merkleRoot([a, b, c])), hex(nodeHash(nodeHash(a, b), c)))
  t.not(hex(merkleRoot([a, b, c])), hex(merkleRoot([a, b, c, c])), 'duplicating the last item gives another root')
  t.throws(() => merkleRoot([]), RangeError)
})

t.test('property: every item\'s proof leads to the root', async t => {
  fc.assert(fc.property(items, list => {
    const levels = merkleLevels(list.map(leafHash))
    const root = hex(levels[levels.length - 1]![0]!)
    return list.every((it, i) => {
      const r = rootFromProof(leafHash(it), i, list.length, merkleProof(levels, i))
      return r !== undefined && hex(r) === root
    })
  }), { numRuns: 200 })
  t.pass('checked')
})

t.test('property: a proof does not lead to the root for another item, index or count', async t => {
  fc.assert(fc.property(items, fc.nat(), fc.integer({ min: 1, max: 10_000_000 }), (list, pick, other) => {
    const i = pick % list.length
    const levels = merkleLevels(list.map(leafHash))
    const root = hex(levels[levels.length - 1]![0]!)
    const proof = merkleProof(levels, i)
    const it = list[i]!
    const changed = leafHash({ ...it, amountMsat: it.amountMsat === other ? other + 1 : other })
    const same = (r: Uint8Array | undefined): boolean => r !== undefined && hex(r) === root
    if (same(rootFromProof(changed, i, list.length, proof))) return false
    if (list.length > 1) {
      const j = (i + 1) % list.length
      if (hex(leafHash(list[j]!)) !== hex(leafHash(it)) && same(rootFromProof(leafHash(it), j, list.length, proof))) return false
    }
    if (proof.length > 0 && same(rootFromProof(leafHash(it), i, list.length, proof.slice(1)))) return false
    return !same(rootFromProof(leafHash(it), i, list.length, [...proof, new Uint8Array(32)]))
  }), { numRuns: 200 })
  t.pass('checked')
})

t.test('an inner node cannot be presented as an item (domain-separated leaves and nodes)', async t => {
  const list = ['a', 'b', 'c', 'd'].map(id => leafHash({ id, amountMsat: 1, memo: '' }))
  const levels = merkleLevels(list)
  const inner = levels[1]![0]!
  // The inner node at level 1 would be "leaf 0 of a 2-leaf tree" without separation: its proof is the other inner node.
  const r = rootFromProof(inner, 0, 2, [levels[1]![1]!])
  t.equal(hex(r!), hex(levels[2]![0]!), 'as a node, it hashes to the root')
  t.not(hex(leafHash({ id: 'x', amountMsat: 1, memo: '' })), hex(inner), 'but no item\'s leaf is that node: leaves carry 0x00, nodes 0x01')
})

t.test('bad indexes and counts give no root', async t => {
  const l = leafHash({ id: 'a', amountMsat: 1, memo: '' })
  t.equal(rootFromProof(l, 1, 1, []), undefined)
  t.equal(rootFromProof(l, -1, 2, [l]), undefined)
  t.equal(rootFromProof(l, 0, 0, []), undefined)
  t.equal(rootFromProof(l, 0, 2, [new Uint8Array(31)]), undefined)
  t.throws(() => merkleProof(merkleLevels([l]), 1), RangeError)
})

/** The tree as the design states it, with noble's sha256 and nothing shared with merkle.ts. */
function referenceLevels (leaves: Uint8Array[]): Uint8Array[][] {
  const levels = [leaves]
  while (levels[levels.length - 1]!.length > 1) {
    const level = levels[levels.length - 1]!
    const up: Uint8Array[] = []
    for (let i = 0; i + 1 < level.length; i += 2) up.push(sha256(Uint8Array.from([1, ...level[i]!, ...level[i + 1]!])))
    if (level.length % 2 === 1) up.push(level[level.length - 1]!)
    levels.push(up)
  }
  return levels
}

t.test('property: the flat tree (leafHashes, tickTree) has the reference tree\'s leaves, root and proofs', async t => {
  fc.assert(fc.property(items, list => {
    const wire = list.map(it => [it.id, it.amountMsat, it.memo] as [string, number, string])
    const flat = leafHashes(wire)
    const leaves = list.map(it => sha256(Uint8Array.from([0, it.id.length, ...Buffer.from(it.id), ...u64(it.amountMsat),
      it.memo.length, ...Buffer.from(it.memo)])))
    if (list.some((_, i) => hex(flat.subarray(i * 32, i * 32 + 32)) !== hex(leaves[i]!))) return false
    const ref = referenceLevels(leaves)
    const tree = tickTree(flat, list.length)
    if (hex(tickTreeRoot(tree)) !== hex(ref[ref.length - 1]![0]!)) return false
    return list.every((_, i) => {
      const want = merkleProofOf(ref, i).map(hex).join()
      return tickTreeProof(tree, i).map(hex).join() === want && merkleProof(merkleLevels(leaves), i).map(hex).join() === want &&
        tickTreeProofHex(tree, tickTreeHex(tree), i).join() === want
    })
  }), { numRuns: 200 })
  t.throws(() => tickTree(new Uint8Array(0), 0), RangeError)
  t.throws(() => tickTree(new Uint8Array(64), 1), RangeError, 'the bytes must be count leaves')
  t.throws(() => tickTreeProof(tickTree(new Uint8Array(64), 2), 2), RangeError)
})

function u64 (n: number): number[] {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, BigInt(n))
  return [...b]
}

function merkleProofOf (levels: Uint8Array[][], index: number): Uint8Array[] {
  const proof: Uint8Array[] = []
  let i = index
  for (let l = 0; l < levels.length - 1; l++) {
    if ((i ^ 1) < levels[l]!.length) proof.push(levels[l]![i ^ 1]!)
    i >>= 1
  }
  return proof
}
