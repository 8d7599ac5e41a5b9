// What the chain did with a force-closed channel, as accounting rows (protocol/accounting/onchain.ts),
// on a simulated chain for a channel built by the real state machine (test/fixtures/monitor-sim.ts):
// A offers an HTLC that times out, B offers one A claims with the preimage; A force-closes. A's own
// monitor and B's give A the same two htlc_onchain rows; A's sweep rows' fees are what its wallet did
// not receive of the outputs, to the satoshi; B's monitor sees A's claims as the peer's.
import t from 'tap'
import { htlcMoves, sweepMoves } from '../../../../protocol/accounting/onchain.ts'
import type { Txid } from '../../../../protocol/types.ts'
import { KeyedPair } from '../../../../scripts/lib/keyed-pair.ts'
import { SimChain, type Watcher, SIM_SWEEP, SIM_TO_SELF_DELAY, simFunding, watchSide } from '../../../fixtures/monitor-sim.ts'

const FUNDING_TX = simFunding('funding', 1_000_000)
const FUNDING_TXID = FUNDING_TX.txid as Txid
const A_TO_B_MSAT = 50_000_123
const B_TO_A_MSAT = 30_000_456


async function forceClosed (): Promise<{ p: KeyedPair; sim: SimChain; a: Watcher; b: Watcher; bToAHash: string; aToBHash: string }> {
  const p = await KeyedPair.open({ height: 100, toSelfDelay: SIM_TO_SELF_DELAY, fund: () => ({ txid: FUNDING_TXID, outputIndex: 0 }) })
  p.ready()
  const aToB = p.add(p.a, A_TO_B_MSAT, 130)
  const bToA = p.add(p.b, B_TO_A_MSAT, 140)
  p.settle()
  p.fulfill(p.a, bToA.id) // A stores the preimage; the fulfil never reaches B
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  const b = watchSide(sim, p.b)
  sim.mine([FUNDING_TX])
  sim.feed(a, { kind: 'force_close', reason: 'test' })
  sim.mine()
  return { p, sim, a, b, bToAHash: bToA.hash, aToBHash: aToB.hash }
}

t.test('htlc_onchain: the HTLC A claimed at once, the one that timed out only at depth; the same rows from B\'s monitor', async t => {
  const { p, sim, a, b, bToAHash, aToBHash } = await forceClosed()
  const id = p.a.state.channelId
  const claimed = { kind: 'htlc_onchain', ref: id, paymentHash: bToAHash, amountMsat: -B_TO_A_MSAT, onchainSat: 30_000, feeMsat: 456 }
  const timedOut = { kind: 'htlc_onchain', ref: id, paymentHash: aToBHash, amountMsat: -A_TO_B_MSAT, onchainSat: 50_000, feeMsat: 123 }
  sim.mine()
  t.same(htlcMoves(a.state, p.a.mkeys, 'local'), [claimed], 'the received HTLC A claimed with the preimage: a row at once')
  t.same(htlcMoves(a.state, p.a.mkeys, 'remote'), [], 'B gets no row: it offered the claimed one, and A\'s has not timed out yet')
  while (sim.height < 135) sim.mine()
  const sort = (m: Array<{ paymentHash: string }>): string[] => m.map(x => x.paymentHash).sort()
  t.same(sort(htlcMoves(a.state, p.a.mkeys, 'local')), sort([claimed, timedOut]), 'the offered HTLC timed out at depth: its row too')
  t.same(htlcMoves(a.state, p.a.mkeys, 'local').find(m => m.paymentHash === aToBHash), timedOut, '... its amount, output and msat')
  t.same(sort(htlcMoves(b.state, p.b.mkeys, 'remote')), sort([claimed, timedOut]), 'B\'s monitor gives A the same two rows')
  t.same(htlcMoves(b.state, p.b.mkeys, 'local'), [], '... and B none')
})

t.test('sweep: once every output is resolved, A\'s claims with their fees; what reached A\'s wallet to the satoshi', async t => {
  const { sim, a, b } = await forceClosed()
  t.same(sweepMoves(a.state, 'local'), [], 'nothing before the monitor resolved every output')
  while (!a.state.closed && sim.height < 300) sim.mine()
  t.ok(a.state.closed, 'A\'s monitor resolved everything')
  const sweeps = sweepMoves(a.state, 'local')
  t.equal(sweeps.length, 5, 'HTLC-success, HTLC-timeout, the sweep of each one\'s output, to_local')
  for (const s of sweeps) t.ok(s.kind === 'sweep' && s.amountMsat === 0 && s.feeMsat > 0, `${s.ref}: amount 0, fee ${s.feeMsat}`)
  const wallet = sim.blocks.flatMap(x => x.txs).flatMap(x => x.outputs).filter(o => o.script === SIM_SWEEP.A).reduce(
    (n, o) => n + o.valueSat, 0,
  )
  t.equal(sweeps.reduce((n, s) => n + s.onchainSat, 0), wallet, 'their onchain_sat is what A\'s wallet received')
  const commitment = a.state.seen.find(x => x.stage === 0)!
  const spentByA = new Set(
    a.state.seen.filter(x => sweeps.some(s => s.ref === x.txid)).flatMap(x => x.inputs).map(i => `${i.txid}:${i.vout}`)
  )
  const outputsOfA = commitment.outputs.filter((_, vout) => spentByA.has(`${commitment.txid}:${vout}`)).reduce((n, o) => n + o.valueSat, 0)
  t.equal(outputsOfA - sweeps.reduce((n, s) => n + s.feeMsat / 1000, 0), wallet, 'the outputs A claimed less the fees: the wallet, exactly')
  const walletB = sim.blocks.flatMap(x => x.txs).flatMap(x => x.outputs).filter(o => o.script === SIM_SWEEP.B).reduce(
    (n, o) => n + o.valueSat, 0,
  )
  const ofB = sweepMoves(a.state, 'remote')
  t.same(ofB.map(s => s.onchainSat), [walletB], 'A\'s monitor sees one claim of B: its to_remote, to B\'s wallet')
  while (!b.state.closed && sim.height < 300) sim.mine()
  t.same(sweepMoves(b.state, 'local'), ofB, 'B\'s own monitor has the same row for it')
  const seenByB = sweepMoves(b.state, 'remote').map(s => s.ref)
  t.ok(seenByB.length > 0 && seenByB.every(r => sweeps.some(s => s.ref === r)), 'B\'s monitor sees claims of A (those before it closed)')
})
