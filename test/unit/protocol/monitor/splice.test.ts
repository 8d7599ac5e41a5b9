// The chain monitor across splice candidates (BOLT #2 "Channel Splicing", BOLT #5), on a simulated
// chain, for channels spliced by the real state machine: the splice transaction is not a close; a
// commitment of the old funding or of any candidate, current or revoked, is handled; a reorg of the
// splice before or after splice_locked leaves the channel enforced on the output that is really there.
import t from 'tap'
import {
  monitorStep, parseMonitorState, type MonitorAction, type MonitorTx,
} from '../../../../protocol/monitor/index.ts'
import { parseTx } from '../../../../protocol/tx/index.ts'
import type { Txid } from '../../../../protocol/types.ts'
import { KeyedPair, type Side } from '../../../../scripts/lib/keyed-pair.ts'
import {
  SimChain, monitorTx, type Watcher, SIM_DEPTH, SIM_SWEEP, SIM_TO_SELF_DELAY, simFunding, watchSide,
} from '../../../fixtures/monitor-sim.ts'
import { confirmSplice, heldOn as held, spliceOut, spliceTxHex } from '../../../fixtures/keyed-splice.ts'

const CAPACITY = 1_000_000
const FUNDING_TX = simFunding('funding', CAPACITY)
const FUNDING_TXID = FUNDING_TX.txid as Txid
const PAYOUT = '0014' + '5a'.repeat(20)
/** Hands the watcher the side's updates it has not applied yet. */
function catchUp (sim: SimChain, w: Watcher, s: Side): void {
  for (const u of s.monitor) if (u.seq > w.state.lastSeq) sim.feed(w, { kind: 'update', update: u })
}
const broadcasts = (w: Watcher, reason?: string) => w.wants.filter(b => reason === undefined || b.reason === reason)
const of = (w: Watcher, kind: MonitorAction['kind']) => w.actions.filter(a => a.kind === kind)
/** The commitment `s` holds now on the funding output of tx `fundingTxid`. */
const heldOn = (s: Side, fundingTxid: string): MonitorTx => monitorTx(held(s, fundingTxid))
const splicedTx = (s: Side, txid: Txid): MonitorTx => monitorTx(parseTx(spliceTxHex(s, txid)))

async function channel (seed: number): Promise<KeyedPair> {
  const p = await KeyedPair.open({
    seed, height: 100, toSelfDelay: SIM_TO_SELF_DELAY, capacitySat: CAPACITY, fund: () => ({ txid: FUNDING_TXID, outputIndex: 0 }),
  })
  p.ready()
  return p
}
const splice = (p: KeyedPair, amountSat: number, feeratePerKw: number, rbf = false): Txid =>
  spliceOut(p, p.a, { amountSat, script: PAYOUT, feeratePerKw, locktime: 100, rbf })

/** A pays B `msat`, settled on both sides. */
function pay (p: KeyedPair, msat: number): void {
  const h = p.add(p.a, msat, 200)
  p.settle(); p.fulfill(p.b, h.id); p.settle()
}

t.test('the splice transaction spending the funding output is not a close: the candidate\'s output is watched, and at splice_locked it is the funding', async t => {
  const p = await channel(201)
  const txid = splice(p, 100_000, 2500)
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  const b = watchSide(sim, p.b)
  sim.mine([FUNDING_TX], { mempool: false })
  t.same(broadcasts(a).map(x => [x.reason, x.txid]), [['splice', txid]], 'the signed splice is broadcast until it confirms')
  const vout = p.a.state.splice!.candidates[0]!.outputIndex
  t.ok(of(a, 'watch').some(x => x.kind === 'watch' && x.outpoint === `${txid}:${vout}`), 'the candidate\'s output is watched')
  sim.mine()
  t.ok(sim.confirmed(txid), 'the splice confirmed')
  t.same(broadcasts(a), [], 'nothing to broadcast once it confirmed')
  for (let i = 0; i < SIM_DEPTH + 2; i++) sim.mine()
  for (const w of [a, b]) {
    t.same(of(w, 'closed'), [], `${w.name}: not closed`)
    t.same(of(w, 'force_closing'), [], `${w.name}: no force close`)
    t.same(w.state.seen, [], `${w.name}: no close recorded`)
    t.equal(w.state.splice?.candidates[0]?.height, 102, `${w.name}: the splice's confirmation is recorded`)
  }
  confirmSplice(p, txid)
  catchUp(sim, a, p.a); catchUp(sim, b, p.b)
  t.equal(a.state.setup!.funding!.txid, txid, 'splice_locked: the candidate is the funding output')
  t.equal(a.state.setup!.capacitySat, p.a.state.setup.capacitySat)
  t.equal(a.state.fundingHeight, 102, 'its confirmation height')
  t.equal(a.state.splice, undefined, 'the old funding output is forgotten: its splice is depth deep')
  t.equal(a.state.local!.spec.toLocalMsat, p.a.state.localCommit!.spec.toLocalMsat, 'our commitment moved to the new funding')
  t.equal(a.state.local!.signature, p.a.state.localCommit!.signature, 'with the peer\'s signature for it')
})

t.test('force close during an unconfirmed splice: the splice and our commitment on it, then ours on the current funding; once the splice confirms, only its commitment', async t => {
  const p = await channel(202)
  const txid = splice(p, 100_000, 2500)
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  sim.mine([FUNDING_TX], { mempool: false })
  sim.feed(a, { kind: 'force_close', reason: 'test' })
  t.same(
    broadcasts(a).map(x => [x.reason, x.txid]),
    [['splice', txid], ['commitment', heldOn(p.a, txid).txid], ['commitment', heldOn(p.a, FUNDING_TXID).txid]],
    'the splice, our commitment on it (its child), our commitment on the current funding (if the splice never confirms)',
  )
  sim.clearMempool()
  sim.mine([splicedTx(p.a, txid)], { mempool: false })
  t.same(broadcasts(a).map(x => [x.reason, x.txid]), [['commitment', heldOn(p.a, txid).txid]], 'the splice confirmed: its commitment only')
  sim.mine()
  t.ok(sim.confirmed(heldOn(p.a, txid).txid), 'which confirms')
  t.match(a.state.seen, [{ txid: heldOn(p.a, txid).txid, stage: 0 }], 'recorded as the close')
})

/** A channel with an HTLC each way, spliced, a payment while the splice is unconfirmed, and an RBF.
 *  A learns the preimage of B's HTLC (not yet told to B); B never learns A's. */
async function splicedWithHtlcs (seed: number) {
  const p = await channel(seed)
  const aToB = p.add(p.a, 50_000_000, 130)
  const bToA = p.add(p.b, 30_000_000, 140)
  p.settle()
  const first = splice(p, 100_000, 2500)
  pay(p, 20_000_000)
  const rbf = splice(p, 100_000, 3000, true)
  pay(p, 10_000_000)
  return { p, aToB, bToA, first, rbf }
}

/** Where each output of `C` ended: the sweep script its chain of spends reached, by output. */
function owners (sim: SimChain, C: MonitorTx): Array<{ valueSat: number; owner: string | undefined }> {
  const txs = sim.blocks.flatMap(b => b.txs)
  const ownerOf = (txid: string, vout: number): string | undefined => {
    const spender = txs.find(x => x.inputs.some(i => i.txid === txid && i.vout === vout))
    if (spender === undefined) return undefined
    const paid = spender.outputs.find(o => o.script === SIM_SWEEP.A || o.script === SIM_SWEEP.B)
    return paid !== undefined ? (paid.script === SIM_SWEEP.A ? 'A' : 'B') : ownerOf(spender.txid, 0)
  }
  return C.outputs.map((o, vout) => ({ valueSat: o.valueSat, owner: ownerOf(C.txid, vout) }))
}

t.test('a commitment of each funding (the old one, the splice, its RBF), by either side, confirms while the splice is unconfirmed: every output is claimed by its owner', async t => {
  const { p, bToA, first, rbf } = await splicedWithHtlcs(203)
  p.fulfill(p.a, bToA.id)
  const cands = p.a.state.splice!.candidates
  t.equal(cands.length, 2, 'two candidates pending')
  for (const [name, funding] of [['the old funding', FUNDING_TXID], ['the splice', first], ['its RBF', rbf]] as const) {
    for (const closer of ['A', 'B'] as const) {
      const sim = new SimChain(100)
      const a = watchSide(sim, p.a)
      const b = watchSide(sim, p.b)
      sim.mine([FUNDING_TX], { mempool: false })
      sim.clearMempool()
      const C = heldOn(closer === 'A' ? p.a : p.b, funding)
      sim.mine([...(funding === FUNDING_TXID ? [] : [splicedTx(p.a, funding as Txid)]), C], { mempool: false })
      const label = `${closer}'s commitment on ${name}`
      t.equal(a.state.seen[0]?.txid, C.txid, `${label}: recorded by A as the close`)
      t.equal(b.state.seen[0]?.txid, C.txid, `${label}: recorded by B as the close`)
      while (!(a.state.closed && b.state.closed) && sim.height < 260) sim.mine()
      t.ok(a.state.closed && b.state.closed, `${label}: both monitors closed (at ${sim.height})`)
      t.match(
        of(a, 'closed'), [{ how: closer === 'A' ? 'local' : 'remote' }], `${label}: A saw a ${closer === 'A' ? 'local' : 'remote'} close`,
      )
      t.match(of(b, 'closed'), [{ how: closer === 'B' ? 'local' : 'remote' }])
      // Balances on this funding: the channel's, moved by the splice's contributions; A opened the
      // channel, so it pays the commitment's fee.
      const cand = cands.find(c => c.txid === funding)
      const capacity = cand?.capacitySat ?? CAPACITY
      const fee = capacity - C.outputs.reduce((n, o) => n + o.valueSat, 0)
      const spec = p.a.state.localCommit!.spec
      const aMain = Math.floor(spec.toLocalMsat / 1000) + (cand?.contributionSat.local ?? 0) - fee
      const bMain = Math.floor(spec.toRemoteMsat / 1000) + (cand?.contributionSat.remote ?? 0)
      const got = owners(sim, C)
      t.same(got.filter(o => o.owner === undefined), [], `${label}: every output is claimed`)
      t.equal(
        got.filter(o => o.owner === 'B').reduce((n, o) => n + o.valueSat, 0), bMain, `${label}: B gets its balance (${bMain}), no HTLC`,
      )
      t.equal(
        got.filter(o => o.owner === 'A').reduce((n, o) => n + o.valueSat, 0), aMain + 50_000 + 30_000,
        `${label}: A gets its balance less the fee (${aMain}), its timed-out HTLC and the one it fulfils`,
      )
    }
  }
})

t.test('a revoked commitment of each funding: one revoke_and_ack revoked them all, each is punished', async t => {
  const p = await channel(204)
  p.add(p.a, 50_000_000, 130)
  p.add(p.b, 30_000_000, 140)
  p.settle()
  const first = splice(p, 100_000, 2500)
  const rbf = splice(p, 100_000, 3000, true)
  const revoked = new Map([FUNDING_TXID, first, rbf].map(f => [f, heldOn(p.b, f)]))
  t.equal(new Set([...revoked.values()].map(x => x.txid)).size, 3, 'three versions of B\'s commitment')
  pay(p, 20_000_000) // B revokes its commitment: one revoke_and_ack for every funding
  for (const [funding, C] of revoked) {
    const sim = new SimChain(100)
    const a = watchSide(sim, p.a)
    sim.mine([FUNDING_TX], { mempool: false })
    sim.clearMempool()
    sim.mine([...(funding === FUNDING_TXID ? [] : [splicedTx(p.a, funding)]), C], { mempool: false })
    const j = broadcasts(a, 'penalty')
    t.equal(j.length, 1, `${funding.slice(0, 8)}: one penalty`)
    const inputs = parseTx(j[0]!.hex).inputs.map(i => `${i.txid}:${i.vout}`)
    t.same(inputs.sort(), C.outputs.map((_, v) => `${C.txid}:${v}`).sort(), 'spending every output of the revoked commitment')
    t.equal(broadcasts(a).length, 1, 'nothing else')
    sim.mine()
    t.equal(
      owners(sim, C).filter(o => o.owner === 'A').reduce((n, o) => n + o.valueSat, 0), C.outputs.reduce((n, o) => n + o.valueSat, 0),
      'A takes every satoshi of it',
    )
  }
})

t.test('a reorg removes the splice before splice_locked: back on the old funding, the splice broadcast again; a commitment of the old funding is handled', async t => {
  const p = await channel(205)
  const txid = splice(p, 100_000, 2500)
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  sim.mine([FUNDING_TX], { mempool: false })
  sim.mine()
  t.ok(sim.confirmed(txid))
  t.equal(a.state.splice!.candidates[0]!.height, 102)
  sim.clearMempool()
  sim.reorg()
  t.equal(a.state.splice!.candidates[0]!.height, 0, 'unconfirmed again')
  t.same(broadcasts(a).map(x => [x.reason, x.txid]), [['splice', txid]], 'the candidate is still valid: broadcast again')
  sim.mine()
  t.ok(sim.confirmed(txid), 'and confirmed again')
  t.equal(a.state.splice!.candidates[0]!.height, 102)
  sim.clearMempool()
  sim.reorg()
  // This time the old funding is spent by B's commitment instead.
  const C = heldOn(p.b, FUNDING_TXID)
  sim.clearMempool()
  sim.mine([C], { mempool: false })
  t.equal(a.state.seen[0]?.txid, C.txid, 'the commitment on the old funding is the close')
  t.same(broadcasts(a).map(x => x.reason), ['to_remote'], 'A claims its output, and no longer broadcasts the splice')
  const fee = CAPACITY - C.outputs.reduce((n, o) => n + o.valueSat, 0)
  const claim = parseTx(broadcasts(a)[0]!.hex)
  t.equal(
    C.outputs[claim.inputs[0]!.vout]!.valueSat, Math.floor(p.a.state.localCommit!.spec.toLocalMsat / 1000) - fee,
    'its balance on the old funding, less the commitment fee',
  )
})

t.test('after splice_locked, a reorg replaces the splice with a revoked commitment of the old funding: punished', async t => {
  const p = await channel(206)
  p.add(p.b, 30_000_000, 140)
  p.settle()
  const txid = splice(p, 100_000, 2500)
  const revoked = heldOn(p.b, FUNDING_TXID)
  pay(p, 20_000_000)
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  sim.mine([FUNDING_TX], { mempool: false })
  sim.mine()
  t.ok(sim.confirmed(txid))
  confirmSplice(p, txid) // both sent splice_locked (the channel's depth, not the monitor's)
  catchUp(sim, a, p.a)
  t.equal(a.state.setup!.funding!.txid, txid, 'locked: the funding is the splice\'s output')
  t.match(a.state.splice?.spliced, [{ txid: FUNDING_TXID, splicedBy: txid }], 'the old output is kept until the splice is depth deep')
  sim.clearMempool()
  sim.reorg()
  sim.clearMempool()
  sim.mine([revoked], { mempool: false })
  const j = broadcasts(a, 'penalty')
  t.equal(j.length, 1, 'one penalty')
  t.same(
    parseTx(j[0]!.hex).inputs.map(i => `${i.txid}:${i.vout}`).sort(), revoked.outputs.map((_, v) => `${revoked.txid}:${v}`).sort(),
    'spending every output of the revoked commitment, the HTLC too',
  )
  sim.mine()
  t.equal(
    owners(sim, revoked).filter(o => o.owner === 'A').reduce((n, o) => n + o.valueSat, 0),
    revoked.outputs.reduce((n, o) => n + o.valueSat, 0),
  )
})

t.test('splice_dropped forgets a candidate: its output is no longer watched nor its commitment broadcast', async t => {
  const p = await channel(207)
  const first = splice(p, 100_000, 2500)
  const rbf = splice(p, 100_000, 3000, true)
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  sim.mine([FUNDING_TX], { mempool: false })
  t.same(broadcasts(a).map(x => x.txid), [rbf], 'the newest signed candidate is broadcast')
  sim.feed(a, { kind: 'update', update: { seq: a.state.lastSeq + 1, kind: 'splice_dropped', txid: rbf } })
  t.same(a.state.splice!.candidates.map(c => c.txid), [first])
  t.notOk(a.state.watching!.some(o => o.startsWith(rbf)), 'its output is not watched')
  sim.feed(a, { kind: 'force_close', reason: 'test' })
  t.same(broadcasts(a).map(x => x.reason), ['splice', 'commitment', 'commitment'])
  t.notOk(broadcasts(a).some(x => x.txid === rbf), 'the dropped one is not broadcast')
  t.equal(broadcasts(a)[0]!.txid, first)
})

t.test('a monitor with splice candidates survives a JSON round trip and decides the same; a bad candidate is refused naming the field', async t => {
  const { p } = await splicedWithHtlcs(208)
  const sim = new SimChain(100)
  const a = watchSide(sim, p.a)
  sim.mine([FUNDING_TX], { mempool: false })
  sim.feed(a, { kind: 'force_close', reason: 'test' })
  const json = JSON.parse(JSON.stringify(a.state)) as { splice: { candidates: Array<Record<string, unknown>> } }
  const parsed = parseMonitorState(json)
  t.ok(parsed.ok, parsed.ok ? '' : parsed.error)
  if (!parsed.ok) return
  t.equal(parsed.value.splice!.candidates.length, 2)
  const x = monitorStep(a.state, { kind: 'tick' }, a.keys)
  const y = monitorStep(parsed.value, { kind: 'tick' }, a.keys)
  t.same(y.actions, x.actions)
  t.equal(x.actions.filter(z => z.kind === 'broadcast').length, 3)
  const bad = { ...json, splice: { ...json.splice, candidates: [{ ...json.splice.candidates[0], outputIndex: -1 }] } }
  t.match(parseMonitorState(bad), { ok: false, error: /monitor\.splice\.candidates\.0\.outputIndex/ })
})
