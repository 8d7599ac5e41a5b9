// Chaos for the chain monitor (pure, simulated chain): for many seeds, the peer force-closes at a
// random time while blocks are mined, reorged out (up to depth − 1 deep, sometimes dropping the
// mempool so only our rebroadcasts bring claims back) and the monitor is restarted from its JSON at
// random points. Whatever happens: every decision is reported exactly once, no HTLC is failed while
// the tx deciding it is less than `depth` deep, and in the end every output is claimed and the
// monitor closes with the exact amount (minus the fees of its own claims).
import t from 'tap'
import { sha256 } from '../../../protocol/crypto/hash.ts'
import { buildLocal, parseMonitorState, type MonitorAction, type MonitorTx } from '../../../protocol/monitor/index.ts'
import { p2wpkh } from '../../../protocol/tx/index.ts'
import { bytesToHex, hexToBytes, type Txid } from '../../../protocol/types.ts'
import { KeyedPair, type Side } from '../../../scripts/lib/keyed-pair.ts'
import { SimChain, monitorTx, type Watcher } from '../../fixtures/monitor-sim.ts'

const DEPTH = 3
const SEEDS = 12
const FUNDING_TXID = bytesToHex(sha256(new TextEncoder().encode('chaos-funding'))) as Txid
const FUNDING_TX: MonitorTx = { txid: FUNDING_TXID, locktime: 0, inputs: [], outputs: [] }
const SWEEP_A = '0014' + 'aa'.repeat(20)

function rng (seed: number): { int: (n: number) => number; chance: (p: number) => boolean } {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  return { int: n => Math.floor(next() * n), chance: p => next() < p }
}

const held = (s: Side): MonitorTx => {
  const u = s.monitor.filter(x => x.kind === 'local_commitment').at(-1)!
  if (u.kind !== 'local_commitment') throw new Error('x')
  return monitorTx(buildLocal(
    s.state.setup, s.mkeys,
    { number: u.number, perCommitmentPoint: u.perCommitmentPoint, spec: u.spec, signature: u.signature, htlcSignatures: u.htlcSignatures },
  ).signedTx)
}

t.test(`chaos: ${SEEDS} seeds of reorgs, dropped mempools and restarts while the peer force-closes`, async t => {
  const p = await KeyedPair.open({ seed: 5, height: 100, toSelfDelay: 10, fund: () => ({ txid: FUNDING_TXID, outputIndex: 0 }) })
  p.ready()
  const out = p.add(p.a, 40_000_000, 125)   // A offers; B never learns the preimage: A times it out
  const inc = p.add(p.b, 30_000_000, 150)   // B offers; A knows the preimage: A claims it
  p.settle()
  p.fulfill(p.a, inc.id); p.toB.length = 0
  const theirs = held(p.b)
  const htlcVout = theirs.outputs.findIndex(o => o.valueSat === 40_000)
  const toRemoteScript = bytesToHex(p2wpkh(hexToBytes(p.a.keys.paymentBasepoint)))

  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = rng(seed)
    const sim = new SimChain(100)
    const a: Watcher = sim.watch('A', p.a.state.channelId, p.a.mkeys, p.a.monitor, { sweepScript: SWEEP_A, depth: DEPTH })
    const reports: Array<{ a: MonitorAction; height: number }> = []
    let seenActions = 0
    const collect = (): void => {
      for (
        const x of a.actions.slice(seenActions)
      ) if (x.kind === 'htlc_resolved' || x.kind === 'preimage_learned' || x.kind === 'closed') reports.push({ a: x, height: sim.height })
      seenActions = a.actions.length
    }
    sim.mine([FUNDING_TX])
    const closeAt = 101 + r.int(15)
    let steps = 0
    while (!a.state.closed && steps++ < 400) {
      if (sim.height === closeAt && !sim.confirmed(theirs.txid)) sim.submit(theirs, 'B')
      const roll = r.int(10)
      if (roll === 0 && sim.blocks.length > 2 && steps < 250) {
        const n = 1 + r.int(DEPTH - 1)
        for (let i = 0; i < n && sim.blocks.length > 2; i++) sim.reorg()
        if (r.chance(0.5)) sim.clearMempool()
      } else if (roll === 1) {
        const parsed = parseMonitorState(JSON.parse(JSON.stringify(a.state)))
        if (!parsed.ok) throw new Error(parsed.error)
        a.state = parsed.value
        sim.feed(a, { kind: 'tick' })
      } else {
        sim.mine()
      }
      const before = reports.length
      collect()
      // No HTLC failed while the tx that decided it (the spend of its output) is less than `depth` deep.
      for (const x of reports.slice(before)) {
        if (x.a.kind !== 'htlc_resolved' || x.a.outcome !== 'failed') continue
        const decider = a.state.seen.find(s => s.inputs.some(i => i.txid === theirs.txid && i.vout === htlcVout))
        if (decider === undefined || sim.height - decider.height + 1 < DEPTH) t.fail(
          `seed ${seed}: failure reported before its timeout was ${DEPTH} deep`
        )
      }
    }
    if (!a.state.closed) { t.fail(`seed ${seed}: not closed after ${steps} steps`); continue }
    const keys = reports.map(
      x => x.a.kind === 'htlc_resolved'
        ? `htlc:${x.a.htlc.offerer}:${x.a.htlc.id}:${x.a.outcome}`
        : x.a.kind === 'preimage_learned' ? `pre:${x.a.paymentHash}` : 'closed'
    )
    t.same(keys.filter((k, i) => keys.indexOf(k) !== i), [], `seed ${seed}: every decision reported once`)
    t.ok(
      keys.includes(`htlc:local:${out.id}:failed`) && keys.includes(`htlc:remote:${inc.id}:fulfilled`) && keys.includes('closed'),
      `seed ${seed}: offered HTLC failed, received HTLC fulfilled, closed`,
    )
    // Exact amount: to_remote + the offered HTLC (timed out) + the received HTLC (claimed), minus our claims' fees.
    const txs = sim.blocks.flatMap(b => b.txs)
    const ours = txs.filter(x => x.outputs.some(o => o.script === SWEEP_A))
    const valueOf = (txid: string, vout: number): number => txs.find(x => x.txid === txid)!.outputs[vout]!.valueSat
    const received = ours.reduce((n, x) => n + x.outputs.reduce((m, o) => m + (o.script === SWEEP_A ? o.valueSat : 0), 0), 0)
    const fees = ours.reduce(
      (n, x) => n + x.inputs.reduce((m, i) => m + valueOf(i.txid, i.vout), 0) - x.outputs.reduce((m, o) => m + o.valueSat, 0), 0,
    )
    const toRemote = theirs.outputs.find(o => o.script === toRemoteScript)!
    const expected = toRemote.valueSat + 40_000 + 30_000
    t.equal(received + fees, expected, `seed ${seed}: ${received} + fees ${fees} = ${expected}`)
  }
})
