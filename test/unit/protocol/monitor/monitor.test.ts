// The chain monitor's decisions (BOLT #5), on a simulated chain, for channels built by the real state
// machine: what is broadcast when, what is reported when, and how a reorg undoes it.
import t from 'tap'
import {
  buildLocal, fundingDepth, monitorStep, parseMonitorState, type MonitorAction, type MonitorTx,
} from '../../../../protocol/monitor/index.ts'
import { parseTx } from '../../../../protocol/tx/index.ts'
import type { Txid } from '../../../../protocol/types.ts'
import { KeyedPair, type Side } from '../../../../scripts/lib/keyed-pair.ts'
import {
  SimChain, kinds, monitorTx, type Watcher, SIM_DEPTH, SIM_SWEEP, SIM_TO_SELF_DELAY, simFunding, watchSide,
} from '../../../fixtures/monitor-sim.ts'

const FUNDING_TX = simFunding('funding', 1_000_000)
const FUNDING_TXID = FUNDING_TX.txid as Txid

async function channel (): Promise<KeyedPair> {
  const p = await KeyedPair.open({ height: 100, toSelfDelay: SIM_TO_SELF_DELAY, fund: () => ({ txid: FUNDING_TXID, outputIndex: 0 }) })
  p.ready()
  return p
}
const broadcasts = (w: Watcher, reason?: string) => w.wants.filter(b => reason === undefined || b.reason === reason)
const of = (w: Watcher, kind: MonitorAction['kind']) => w.actions.filter(a => a.kind === kind)
/** The signed commitment `s` holds now (what it would broadcast). */
const commitmentOf = (s: Side): MonitorTx => monitorTx(buildLocal(
  s.state.setup, s.mkeys,
  s.monitor.filter(u => u.kind === 'local_commitment').map(u => ({
    number: u.number, perCommitmentPoint: u.perCommitmentPoint, spec: u.spec, signature: u.signature, htlcSignatures: u.htlcSignatures,
  })).at(-1)!,
).signedTx)
const sumOut = (hex: string): number => parseTx(hex).outputs.reduce((n, o) => n + o.valueSat, 0)

t.test('funding depth is reported as it changes and goes back to 0 when the funding block is reorged out', async t => {
  const p = await channel()
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  sim.mine([FUNDING_TX])
  t.same(of(a, 'funding_depth').at(-1), { kind: 'funding_depth', depth: 1 })
  sim.mine()
  t.equal(fundingDepth(a.state), 2)
  sim.reorg(); sim.reorg()
  t.same(of(a, 'funding_depth').at(-1), { kind: 'funding_depth', depth: 0 })
  t.equal(a.state.fundingHeight, 0)
})

t.test('force close broadcasts our latest commitment; do_not_broadcast never does', async t => {
  const p = await channel()
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  sim.mine([FUNDING_TX])
  const acts = sim.feed(a, { kind: 'force_close', reason: 'operator' })
  t.same(kinds(acts), ['persist', 'force_closing', 'broadcast:commitment'], 'persist first, then the decision and its broadcast')
  t.equal(broadcasts(a, 'commitment').length, 1)
  t.equal(broadcasts(a, 'commitment')[0]!.txid, commitmentOf(p.a).txid, 'the latest local commitment')
  sim.mine()
  t.equal(broadcasts(a).length, 0, 'nothing left to broadcast once it confirmed (no outputs of ours are ripe)')

  const p2 = await channel()
  const sim2 = new SimChain(100)
  const b = watchSide(sim2, p2.b, [...p2.b.monitor, { seq: 1000, kind: 'do_not_broadcast', theirCurrentPoint: '02' + '00'.repeat(32) }])
  sim2.mine([FUNDING_TX])
  sim2.feed(b, { kind: 'force_close', reason: 'operator' })
  t.equal(broadcasts(b).length, 0, 'a party that lost state never broadcasts its commitment')
})

t.test('a stale update (seq already applied) is ignored with a warning', async t => {
  const p = await channel()
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  const before = a.state
  const acts = sim.feed(a, { kind: 'update', update: p.a.monitor[0]! })
  t.same(kinds(acts), ['warning'])
  t.equal(a.state.lastSeq, before.lastSeq)
})

/** A channel with an HTLC each way: A offers `aToB` (cltv 130), B offers `bToA` (cltv 140). */
async function withHtlcs (): Promise<{
  p: KeyedPair; aToB: { id: number; hash: string; preimage: string }; bToA: { id: number; hash: string; preimage: string }
}> {
  const p = await channel()
  const aToB = p.add(p.a, 50_000_000, 130)
  const bToA = p.add(p.b, 30_000_000, 140)
  p.settle()
  return { p, aToB, bToA }
}

t.test('our commitment: to_local after to_self_delay, HTLC-success with the preimage, HTLC-timeout at expiry, second stage after its delay, failure reported only at depth', async t => {
  const { p, aToB, bToA } = await withHtlcs()
  p.fulfill(p.a, bToA.id) // A learns the preimage (stored: a monitor update), the fulfill never reaches B
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  sim.mine([FUNDING_TX])
  sim.feed(a, { kind: 'force_close', reason: 'test' })
  sim.mine()
  const C = sim.height
  t.ok(sim.confirmed(commitmentOf(p.a).txid), 'commitment confirmed')
  t.same(broadcasts(a).map(b => b.reason), ['htlc_success'], 'HTLC-success at once: we hold the preimage')
  sim.mine()
  const success = a.state.seen.find(x => x.stage === 1)!
  t.ok(success, 'HTLC-success confirmed')
  t.same(
    of(a, 'htlc_resolved').map(x => x.kind === 'htlc_resolved' && [x.htlc.offerer, x.outcome]), [['remote', 'fulfilled']],
    'the received HTLC is fulfilled on-chain; nothing failed yet',
  )
  const offeredOutcomes = () => of(a, 'htlc_resolved').filter(x => x.kind === 'htlc_resolved' && x.htlc.offerer === 'local')
  while (sim.height < C + SIM_TO_SELF_DELAY - 2) {
    sim.mine(); t.notOk(broadcasts(a).some(b => b.reason === 'to_local'), `no to_local sweep at ${sim.height}`)
  }
  sim.mine()
  t.ok(broadcasts(a).some(b => b.reason === 'to_local'), 'to_local sweep at C + to_self_delay − 1')
  while (sim.height < 129) { sim.mine(); t.notOk(broadcasts(a).some(b => b.reason === 'htlc_timeout'), `no HTLC-timeout at ${sim.height}`) }
  sim.mine()
  t.equal(sim.height, 130)
  t.ok(broadcasts(a).some(b => b.reason === 'htlc_timeout'), 'HTLC-timeout at cltv_expiry')
  sim.mine()
  const timeoutHeight = sim.height
  t.same(offeredOutcomes(), [], 'the timeout is not reported before depth')
  while (sim.height < timeoutHeight + SIM_DEPTH - 2) { sim.mine(); t.same(offeredOutcomes(), [], `not at ${sim.height}`) }
  sim.mine()
  const failed = offeredOutcomes()
  t.equal(failed.length, 1)
  t.match(
    failed[0], { kind: 'htlc_resolved', outcome: 'failed', htlc: { offerer: 'local', id: aToB.id } }, 'our offered HTLC failed, at depth',
  )
  while (sim.height < timeoutHeight + SIM_TO_SELF_DELAY + 2) sim.mine()
  t.equal(a.state.seen.filter(x => x.stage === 2).length, 2, 'both second-stage outputs swept')
  while (!a.state.closed && sim.height < 300) sim.mine()
  t.ok(a.state.closed, 'closed once every output is resolved at depth')
  // Every satoshi of A's balance, its HTLC and the received HTLC, minus fees, reached A's sweep script.
  const swept = sim.blocks.flatMap(b => b.txs).flatMap(x => x.outputs).filter(o => o.script === SIM_SWEEP.A).reduce(
    (n, o) => n + o.valueSat, 0,
  )
  const spec = p.a.state.localCommit!.spec
  const expected = Math.floor(spec.toLocalMsat / 1000) + 50_000 + 30_000
  t.ok(swept < expected && swept > expected - 10_000, `swept ${swept} of ${expected} (fees below 10k sat)`)
})

t.test('the peer claims our offered HTLC with the preimage on our commitment: preimage learned and HTLC fulfilled at once', async t => {
  const { p, aToB } = await withHtlcs()
  p.fulfill(p.b, aToB.id) // B stores the preimage; the fulfill never reaches A
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  const b = watchSide(sim, p.b)
  sim.mine([FUNDING_TX])
  sim.feed(a, { kind: 'force_close', reason: 'test' })
  sim.mine()
  t.ok(broadcasts(b).some(x => x.reason === 'remote_htlc_success'), 'B claims the HTLC on A\'s commitment with the preimage')
  t.ok(broadcasts(b).some(x => x.reason === 'to_remote'), 'B sweeps its to_remote at once')
  sim.mine()
  t.same(of(a, 'preimage_learned'), [{ kind: 'preimage_learned', paymentHash: aToB.hash, preimage: aToB.preimage }])
  t.match(of(a, 'htlc_resolved'), [{ outcome: 'fulfilled', preimage: aToB.preimage, htlc: { id: aToB.id, offerer: 'local' } }])
})

t.test('their commitment: our HTLC timed out after expiry, their HTLC claimed with the preimage, to_remote swept', async t => {
  const { p, aToB, bToA } = await withHtlcs()
  p.fulfill(p.a, bToA.id)
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  const b = watchSide(sim, p.b)
  sim.mine([FUNDING_TX])
  sim.feed(b, { kind: 'force_close', reason: 'test' })
  sim.mine()
  t.same(broadcasts(a).map(x => x.reason).sort(), ['remote_htlc_success', 'to_remote'])
  sim.mine()
  while (sim.height < 129) {
    sim.mine(); t.notOk(broadcasts(a).some(x => x.reason === 'remote_htlc_timeout'), `not before expiry (${sim.height})`)
  }
  sim.mine()
  t.ok(broadcasts(a).some(x => x.reason === 'remote_htlc_timeout'), 'timeout claim at cltv_expiry')
  for (let i = 0; i < SIM_DEPTH; i++) sim.mine()
  t.match(
    of(a, 'htlc_resolved').find(x => x.kind === 'htlc_resolved' && x.htlc.offerer === 'local'),
    { outcome: 'failed', htlc: { id: aToB.id } },
  )
})

t.test('revoked commitment: one penalty tx takes every output; a second-stage tx the cheater publishes is taken too', async t => {
  const { p, aToB, bToA } = await withHtlcs()
  // B's commitment now, and a monitor of B as of now (a stale copy B cheats with).
  const old = commitmentOf(p.b)
  const staleB = [...p.b.monitor, { seq: 10_000, kind: 'preimage' as const, paymentHash: aToB.hash, preimage: aToB.preimage }]
  p.fulfill(p.b, aToB.id); p.fulfill(p.a, bToA.id); p.settle()
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  sim.mine([FUNDING_TX])
  sim.mine([old])
  const j = broadcasts(a, 'penalty')
  t.equal(j.length, 1, 'one penalty tx')
  t.equal(parseTx(j[0]!.hex).inputs.length, old.outputs.length, 'spending every output of the revoked commitment')
  t.equal(broadcasts(a).length, 1, 'nothing else')

  // Again, but the cheater gets its HTLC-success (with the preimage) in first.
  const sim2 = new SimChain(100)
  const a2 = watchSide(sim2, p.a)
  const cheater = watchSide(sim2, p.b, staleB)
  sim2.mine([FUNDING_TX])
  sim2.clearMempool()
  sim2.mine([old], { mempool: false })
  const success = broadcasts(cheater, 'htlc_success')[0]
  t.ok(success !== undefined, 'the cheater publishes its HTLC-success')
  sim2.mine([monitorTx(parseTx(success!.hex))], { mempool: false })
  t.same(of(a2, 'preimage_learned'), [], 'the preimage in the second-stage tx was already held (fulfilled off-chain): not news')
  const j2 = broadcasts(a2, 'penalty')
  t.equal(j2.length, 1)
  const inputs = parseTx(j2[0]!.hex).inputs
  t.equal(inputs.length, old.outputs.length, 'still every output: the HTLC output is replaced by the second-stage output')
  t.ok(inputs.some(i => i.txid === success!.txid && i.vout === 0), 'takes the second-stage output')
  sim2.mine()
  const total = old.outputs.reduce((n, o) => n + o.valueSat, 0)
  const got = sim2.blocks.flatMap(b => b.txs).flatMap(x => x.outputs).filter(o => o.script === SIM_SWEEP.A).reduce(
    (n, o) => n + o.valueSat, 0,
  )
  const successFee = old.outputs.reduce((n, o) => n + o.valueSat, 0) - total // 0: named below
  t.ok(got > total - 10_000 - successFee - 2_000 && got < total, `A takes everything but fees: ${got} of ${total}`)
})

t.test('go on-chain in time: an offered HTLC past expiry + grace, or a fulfilled incoming one near expiry', async t => {
  const { p } = await withHtlcs()
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  sim.mine([FUNDING_TX])
  while (sim.height < 130) { sim.mine(); t.equal(of(a, 'force_closing').length, 0, `not at ${sim.height}`) }
  sim.mine()
  t.match(of(a, 'force_closing'), [{ reason: /offered HTLC 0 expired at 130/ }], 'cltv 130 + grace 1')
  t.ok(broadcasts(a, 'commitment').length === 1)

  const q = await channel()
  const bToA = q.add(q.b, 30_000_000, 140)
  q.settle()
  q.fulfill(q.a, bToA.id)
  const sim2 = new SimChain(100)
  const a2 = watchSide(sim2, q.a)
  sim2.mine([FUNDING_TX])
  while (sim2.height < 133) { sim2.mine(); t.equal(of(a2, 'force_closing').length, 0, `not at ${sim2.height}`) }
  sim2.mine()
  t.match(of(a2, 'force_closing'), [{ reason: /fulfilled HTLC 0 expires at 140/ }], 'cltv 140 − safety 6')
})

t.test('reorgs: a confirmed commitment reorged out undoes its claims; a claim reorged out is broadcast again; nothing fails before depth', async t => {
  const { p } = await withHtlcs()
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  const b = watchSide(sim, p.b)
  sim.mine([FUNDING_TX])
  sim.feed(b, { kind: 'force_close', reason: 'test' })
  sim.mine()
  const claim = broadcasts(a, 'to_remote')[0]!
  t.ok(claim, 'A claims to_remote on B\'s commitment')
  sim.reorg()
  t.equal(broadcasts(a, 'to_remote').length, 0, 'commitment gone: no claim')
  t.equal(a.state.seen.length, 0)
  sim.mine()
  t.equal(broadcasts(a, 'to_remote')[0]?.txid, claim.txid, 'commitment back: the same claim')
  sim.mine()
  t.ok(sim.confirmed(claim.txid))
  sim.clearMempool()
  sim.reorg() // the claim's block
  t.ok(broadcasts(a, 'to_remote').length === 1, 'the claim is broadcast again')
  for (let i = 0; i < 40; i++) sim.mine()
  t.ok(a.state.closed === false || of(a, 'closed').length === 1)
  t.equal(
    of(a, 'htlc_resolved').filter(x => x.kind === 'htlc_resolved' && x.outcome === 'failed').length, 1,
    'the offered HTLC failed once, after its timeout reached depth',
  )
})

t.test('fee bumps: an unconfirmed claim is replaced at a higher fee rate each block, same inputs', async t => {
  const { p } = await withHtlcs()
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  const b = watchSide(sim, p.b)
  sim.mine([FUNDING_TX])
  sim.feed(b, { kind: 'force_close', reason: 'test' })
  sim.mine()
  const first = broadcasts(a, 'to_remote')[0]!
  sim.clearMempool()
  sim.mine([], { mempool: false })
  const second = broadcasts(a, 'to_remote')[0]!
  t.ok(second.feeratePerKw! > first.feeratePerKw!, `${second.feeratePerKw} > ${first.feeratePerKw}`)
  t.not(second.txid, first.txid)
  t.same(parseTx(second.hex).inputs.map(i => `${i.txid}:${i.vout}`), parseTx(first.hex).inputs.map(i => `${i.txid}:${i.vout}`))
  t.ok(sumOut(second.hex) < sumOut(first.hex), 'pays more fee')
})

t.test('data-loss protection: a party that lost state recovers to_remote from a commitment it never saw', async t => {
  const { p } = await withHtlcs()
  const stale = p.a.monitor.slice(0, 4) // A's backup: funding and the first commitments only
  p.settle()
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a, [...stale, { seq: 999, kind: 'do_not_broadcast', theirCurrentPoint: '02' + '11'.repeat(32) }])
  const b = watchSide(sim, p.b)
  sim.mine([FUNDING_TX])
  sim.feed(a, { kind: 'force_close', reason: 'test' })
  t.equal(broadcasts(a).length, 0, 'never broadcasts')
  sim.feed(b, { kind: 'force_close', reason: 'peer asked' })
  sim.mine()
  t.same(broadcasts(a).map(x => x.reason), ['to_remote'])
  // A's output on B's commitment: A's balance minus the commitment fee (A opened the channel).
  const spec = p.b.state.localCommit!.spec
  const commitFee = 1_000_000 - commitmentOf(p.b).outputs.reduce((n, o) => n + o.valueSat, 0)
  const toRemote = Math.floor(spec.toRemoteMsat / 1000) - commitFee
  const got = sumOut(broadcasts(a)[0]!.hex)
  t.ok(got < toRemote && got > toRemote - 2000, `recovers its balance ${toRemote} minus the sweep fee (got ${got})`)
})

t.test('JSON round trip: a parsed state decides exactly as the original', async t => {
  const { p } = await withHtlcs()
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  const b = watchSide(sim, p.b)
  sim.mine([FUNDING_TX])
  sim.feed(b, { kind: 'force_close', reason: 'test' })
  sim.mine(); sim.mine()
  const json = JSON.parse(JSON.stringify(a.state)) as unknown
  const parsed = parseMonitorState(json)
  t.ok(parsed.ok, parsed.ok ? '' : parsed.error)
  if (!parsed.ok) return
  const x = monitorStep(a.state, { kind: 'tick' }, a.keys)
  const y = monitorStep(parsed.value, { kind: 'tick' }, a.keys)
  t.same(y.actions, x.actions)
  t.same(JSON.parse(JSON.stringify(y.state)), JSON.parse(JSON.stringify(x.state)))
  const bad = parseMonitorState({ ...(json as object), height: -1 })
  t.match(bad, { ok: false, error: /monitor\.height/ })
})
