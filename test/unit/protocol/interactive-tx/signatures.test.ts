// BOLT #2 "The `tx_signatures` Message": who signs first, and the receiver's checks on the witnesses.
import t from 'tap'
import { buildTx, checkWitnesses, signedInputs, weSignFirst, withWitnesses } from '../../../../protocol/interactive-tx/index.ts'
import { parseTx, txid as txidOf } from '../../../../protocol/tx/serialize.ts'
import { hexToBytes, type NodeId } from '../../../../protocol/types.ts'
import { P2WPKH_OUT, coin, entropy, negotiate, none, signCoin, spliceParams } from './fixtures.ts'

const LOW = '02' + '11'.repeat(32) as NodeId
const HIGH = '03' + '11'.repeat(32) as NodeId

t.test('the side with the lower total input value signs first; the shared input counts for the initiator', t => {
  const a = coin(21, 300_000)
  const b = coin(22, 150_000)
  const x = negotiate(spliceParams({ initiator: 200_000, nonInitiator: 100_000 }), {
    a: { inputs: [a.input], outputs: [{ script: P2WPKH_OUT, sats: 98_012 as never }], entropy: entropy('a1') },
    b: { inputs: [b.input], outputs: [{ script: P2WPKH_OUT, sats: 49_208 as never }], entropy: entropy('b1') },
  })
  // A: 1,000,000 (shared) + 300,000; B: 150,000.
  t.equal(weSignFirst(x.a, { local: LOW, remote: HIGH }), false, 'A, the initiator, holds the shared input: it signs second')
  t.equal(weSignFirst(x.b, { local: HIGH, remote: LOW }), true, 'B signs first whatever its node id')
  t.end()
})

t.test('equal contributions: the lower node id signs first', t => {
  const x = negotiate(
    spliceParams({ initiator: -10_000, nonInitiator: 0 }),
    { a: { inputs: [], outputs: [{ script: P2WPKH_OUT, sats: 8_000 as never }], entropy: entropy('a2') }, b: none('b2') },
  )
  // Judged on a negotiation where both totals are equal (no shared input, no inputs).
  const even = { ...x.a, inputs: [] }
  t.equal(weSignFirst(even, { local: LOW, remote: HIGH }), true)
  t.equal(weSignFirst(even, { local: HIGH, remote: LOW }), false)
  t.end()
})

t.test('witnesses: one per input the sender added, in serial id order, non-empty, SIGHASH_ALL, valid', t => {
  const a = coin(23, 100_000)
  const a2 = coin(24, 100_000)
  const b = coin(25, 150_000)
  const x = negotiate(spliceParams({ initiator: 150_000, nonInitiator: 100_000 }), {
    a: { inputs: [a.input, a2.input], outputs: [{ script: P2WPKH_OUT, sats: 47_000 as never }], entropy: entropy('a3') },
    b: { inputs: [b.input], outputs: [{ script: P2WPKH_OUT, sats: 49_000 as never }], entropy: entropy('b3') },
  })
  const built = buildTx(x.b)
  const theirs = signedInputs(x.b, 'remote')
  t.equal(theirs.length, 2, 'A signs its two wallet inputs; the shared input is signed apart')
  const coinOf = (txid: string) => [a, a2].find(c => txidOf(parseTx(c.input.prevtx)) === txid)!
  const witnesses = theirs.map(({ index, input }) => signCoin(built.tx, index, coinOf(input.txid)))
  t.equal(checkWitnesses(x.b, built, 'remote', built.txid, witnesses), undefined, 'valid witnesses pass')
  const cases: Array<[string, string, string[][]]> = [
    ['the txid of another transaction', 'ab'.repeat(32), witnesses],
    ['one witness too few', built.txid, witnesses.slice(1)],
    ['an empty witness', built.txid, [witnesses[0]!, []]],
    ['swapped (not in serial id order)', built.txid, [witnesses[1]!, witnesses[0]!]],
    ['SIGHASH_SINGLE instead of SIGHASH_ALL', built.txid, [[witnesses[0]![0]!.slice(0, -2) + '03', witnesses[0]![1]!], witnesses[1]!]],
    ['a key that is not the spent output\'s', built.txid, [[witnesses[0]![0]!, '02' + '55'.repeat(32)], witnesses[1]!]],
    ['three items for a P2WPKH input', built.txid, [[...witnesses[0]!, '00'], witnesses[1]!]],
  ]
  for (const [name, txid, w] of cases) t.match(checkWitnesses(x.b, built, 'remote', txid, w), { reason: 'tx_signatures_invalid' }, name)
  const signed = withWitnesses(built.tx, new Map(theirs.map(({ index }, k) => [index, witnesses[k]!.map(hexToBytes)])))
  t.same(signed.inputs.filter(i => i.witness.length > 0).length, 2, 'the witnesses land on A\'s inputs')
  t.end()
})
