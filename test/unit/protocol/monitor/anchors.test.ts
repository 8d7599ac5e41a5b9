// The monitor on `anchors` channels (pure, simulated chain): claims from the peer's commitment (CSV 1
// on to_remote and HTLC outputs) and the penalty tx. Our own anchors HTLC txs pay no fee (BOLT #3) and
// need wallet inputs to confirm: not built by the monitor yet (see host/monitor/index.ts).
import t from 'tap'
import { sha256 } from '../../../../protocol/crypto/hash.ts'
import { buildLocal, type MonitorTx } from '../../../../protocol/monitor/index.ts'
import { parseTx } from '../../../../protocol/tx/index.ts'
import { bytesToHex, type Txid } from '../../../../protocol/types.ts'
import { KeyedPair, type Side } from '../../../../scripts/lib/keyed-pair.ts'
import { SimChain, monitorTx, type Watcher } from '../../../fixtures/monitor-sim.ts'

const FUNDING_TXID = bytesToHex(sha256(new TextEncoder().encode('anchors-funding'))) as Txid
const FUNDING_TX: MonitorTx = { txid: FUNDING_TXID, locktime: 0, inputs: [], outputs: [] }
const SWEEP = { A: '0014' + 'aa'.repeat(20), B: '0014' + 'bb'.repeat(20) }
const watch = (sim: SimChain, s: Side, updates = s.monitor): Watcher => sim.watch(
  s.name, s.state.channelId, s.mkeys, updates, { sweepScript: SWEEP[s.name], depth: 3 },
)
const held = (s: Side): MonitorTx => {
  const u = s.monitor.filter(x => x.kind === 'local_commitment').at(-1)!
  if (u.kind !== 'local_commitment') throw new Error('x')
  return monitorTx(buildLocal(
    s.state.setup, s.mkeys,
    { number: u.number, perCommitmentPoint: u.perCommitmentPoint, spec: u.spec, signature: u.signature, htlcSignatures: u.htlcSignatures },
  ).signedTx)
}

async function pair (): Promise<{
  p: KeyedPair; aToB: { id: number; hash: string; preimage: string }; bToA: { id: number; hash: string; preimage: string }
}> {
  const p = await KeyedPair.open({
    seed: 9, height: 100, channelType: 'anchors', toSelfDelay: 20, fund: () => ({ txid: FUNDING_TXID, outputIndex: 0 }),
  })
  p.ready()
  const aToB = p.add(p.a, 50_000_000, 130)
  const bToA = p.add(p.b, 30_000_000, 140)
  p.settle()
  return { p, aToB, bToA }
}

t.test('anchors: their commitment: to_remote and HTLC claims with nSequence 1', async t => {
  const { p, bToA } = await pair()
  p.fulfill(p.a, bToA.id)
  const sim = new SimChain(100)
  const a = watch(sim, p.a)
  sim.mine([FUNDING_TX])
  sim.mine([held(p.b)], { mempool: false })
  const reasons = a.wants.map(w => w.reason).sort()
  t.same(reasons, ['remote_htlc_success', 'to_remote'])
  for (const w of a.wants) t.ok(parseTx(w.hex).inputs.every(i => i.sequence === 1), `${w.reason}: CSV 1 (BOLT #3 anchors)`)
})

t.test('anchors: a revoked commitment: one penalty tx over every output but the anchors', async t => {
  const { p, aToB, bToA } = await pair()
  const old = held(p.b)
  p.fulfill(p.b, aToB.id); p.fulfill(p.a, bToA.id); p.settle()
  const sim = new SimChain(100)
  const a = watch(sim, p.a)
  sim.mine([FUNDING_TX])
  sim.mine([old], { mempool: false })
  const j = a.wants.filter(w => w.reason === 'penalty')
  t.equal(j.length, 1)
  const anchors = old.outputs.filter(o => o.valueSat === 330).length
  t.equal(anchors, 2, 'two anchors on the commitment')
  t.equal(parseTx(j[0]!.hex).inputs.length, old.outputs.length - anchors, 'every output but the 330-sat anchors')
})
