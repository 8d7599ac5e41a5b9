// BOLT #2 "Interactive Transaction Construction" between two sides in memory: the turn-based exchange
// ends with consecutive tx_complete, both sides build the same transaction (inputs and outputs sorted
// by serial id), and each side pays the fee of what it added (the initiator also the common fields and,
// for a splice, the shared input and output).
import t from 'tap'
import {
  buildTx, checkComplete, paidFeeSat, requiredFeeSat, serialIds, hasParity, startNegotiation,
} from '../../../../protocol/interactive-tx/index.ts'
import { P2WPKH_OUT, asNonInitiator, coin, entropy, negotiate, none, spliceParams, NEW_FUNDING_SCRIPT, FUNDING_TXID } from './fixtures.ts'

t.test('splice-out by the initiator alone: shared input, new funding output, payout; the payout and the fee come from its balance', t => {
  // A's weight: common fields 42 + shared input 164 + 220 (2-of-2 witness) + new funding output
  // (8 + 1 + 34) × 4 = 172 + P2WPKH payout (8 + 1 + 22) × 4 = 124 → 722; at 2,000 sat/kw: 1,444 sat.
  const fee = 1_444
  const params = spliceParams({ initiator: -(100_000 + fee), nonInitiator: 0 })
  const x = negotiate(
    params, { a: { inputs: [], outputs: [{ script: P2WPKH_OUT, sats: 100_000 as never }], entropy: entropy('a1') }, b: none('b1') },
  )
  t.same(
    x.messages.map(m => m.type),
    ['tx_add_input', 'tx_complete', 'tx_add_output', 'tx_complete', 'tx_add_output', 'tx_complete', 'tx_complete'],
  )
  t.ok(x.a.done && x.b.done, 'both sides saw consecutive tx_complete')
  const ta = buildTx(x.a)
  const tb = buildTx(x.b)
  t.equal(ta.txid, tb.txid, 'both build the same transaction')
  t.equal(ta.tx.inputs.length, 1)
  t.same(ta.tx.inputs[0], { txid: FUNDING_TXID, vout: 1, sequence: 0xfffffffd, scriptSig: new Uint8Array(0), witness: [] })
  t.same(ta.tx.outputs.map(o => o.valueSat).sort(), [100_000, 1_000_000 - 101_444].sort())
  t.equal(ta.tx.outputs[ta.sharedOutputIndex]!.valueSat, 898_556, 'the new funding output is the capacity less the payout and the fee')
  t.same([ta.feeSat.local, ta.feeSat.remote, ta.feeSat.total], [1_444, 0, 1_444])
  t.same([tb.feeSat.local, tb.feeSat.remote], [0, 1_444], 'B sees the same fees from its side')
  t.equal(requiredFeeSat(x.a, 'local'), fee, 'the required fee is the weight arithmetic above')
  t.end()
})

t.test('splice-in by both: each side its input and change; inputs and outputs sorted by serial id; each pays its own weight', t => {
  const a = coin(1, 300_000)
  const b = coin(2, 150_000)
  // A: 42 + 384 + 172 + P2WPKH input (164 + 108) 272 + change 124 = 994 → 1,988 sat.
  // B: input 272 + change 124 = 396 → 792 sat.
  const params = spliceParams({ initiator: 200_000, nonInitiator: 100_000 })
  const x = negotiate(params, {
    a: { inputs: [a.input], outputs: [{ script: P2WPKH_OUT, sats: (300_000 - 200_000 - 1_988) as never }], entropy: entropy('a2') },
    b: {
      inputs: [b.input], outputs: [{ script: '0014' + '44'.repeat(20), sats: (150_000 - 100_000 - 792) as never }], entropy: entropy('b2'),
    },
  })
  t.same(x.messages.map(m => m.type), [
    'tx_add_input', 'tx_add_input', 'tx_add_input', 'tx_add_output', 'tx_add_output', 'tx_complete', 'tx_add_output', 'tx_complete',
    'tx_complete',
  ])
  const built = buildTx(x.a)
  t.equal(built.txid, buildTx(x.b).txid)
  const serials = <T extends { serialId: number }>(xs: T[]): T[] => [...xs].sort((p, q) => p.serialId - q.serialId)
  t.same(built.tx.inputs.map(i => `${i.txid}:${i.vout}`), serials(x.a.inputs).map(i => `${i.txid}:${i.vout}`), 'inputs in serial id order')
  t.same(built.tx.outputs.map(o => o.valueSat), serials(x.a.outputs).map(o => o.sats), 'outputs in serial id order')
  t.equal(built.tx.outputs[built.sharedOutputIndex]!.valueSat, 1_300_000)
  t.same([built.feeSat.local, built.feeSat.remote, built.feeSat.total], [1_988, 792, 2_780])
  const totalIn = 1_000_000 + 300_000 + 150_000
  const totalOut = built.tx.outputs.reduce((n, o) => n + o.valueSat, 0)
  t.equal(totalIn - totalOut, 2_780, 'the transaction pays exactly the two shares')
  t.ok(
    x.a.inputs.every(i => hasParity(i.serialId, i.by === 'local' ? 'initiator' : 'non_initiator')),
    'even ids from the initiator, odd from the other',
  )
  t.end()
})

t.test('serial ids: from the host\'s entropy, distinct, of the role\'s parity, and the same for the same entropy', t => {
  const ids = serialIds(entropy('ab'), 'non_initiator', 50)
  t.equal(new Set(ids).size, 50)
  t.ok(ids.every(i => i % 2 === 1 && Number.isSafeInteger(i)))
  t.same(serialIds(entropy('ab'), 'non_initiator', 50), ids)
  t.notSame(serialIds(entropy('ac'), 'non_initiator', 50), ids)
  t.ok(serialIds(entropy('ab'), 'initiator', 10).every(i => i % 2 === 0))
  t.end()
})

t.test('our own contribution is refused before anything is sent when it cannot pay its share', t => {
  const c = coin(3, 100_000)
  const params = spliceParams({ initiator: 0, nonInitiator: 50_000 })
  // B adds 50,000 to the channel from a 100,000 coin but keeps 49,900 as change: 100 sat for 792 due.
  const r = startNegotiation(
    asNonInitiator(params), { inputs: [c.input], outputs: [{ script: P2WPKH_OUT, sats: 49_900 as never }], entropy: entropy('b3') },
  )
  t.match(r, { ok: false, error: { reason: 'insufficient_funds', action: 'ignore' } })
  const legacy = startNegotiation(params, { inputs: [{ ...c.input, sequence: 0xfffffffe }], outputs: [], entropy: entropy('a3') })
  t.match(legacy, { ok: false, error: { reason: 'tx_bad_sequence' } })
  const dust = startNegotiation(params, { inputs: [], outputs: [{ script: P2WPKH_OUT, sats: 100 as never }], entropy: entropy('a3') })
  t.match(dust, { ok: false, error: { reason: 'tx_output_dust' } })
  t.end()
})

t.test('the complete transaction is checked by both sides: shared output amount, one funding output, fees', t => {
  const params = spliceParams({ initiator: -50_000, nonInitiator: 0 })
  const x = negotiate(
    params, { a: { inputs: [], outputs: [{ script: P2WPKH_OUT, sats: 48_000 as never }], entropy: entropy('a4') }, b: none('b4') },
  )
  t.equal(checkComplete(x.b), undefined)
  t.equal(paidFeeSat(x.b, 'remote'), 2_000, 'A pays 50,000 − 48,000 out of its balance')
  // The same exchange judged against parameters where A's contribution is smaller than it took.
  const other = { ...x.b, params: {
    ...x.b.params, contributionSat: { local: 0, remote: -49_000 }, sharedOutput: { script: NEW_FUNDING_SCRIPT, valueSat: 951_000 as never },
  } }
  t.match(checkComplete(other), { reason: 'splice_funding_output_invalid' }, 'a funding output of another amount than the agreed capacity')
  t.end()
})
