// Persist before send, for a splice (DESIGN.md rule 2): the durable writes of each step, listed in
// protocol/channel/step.ts, are asserted here with their monitor updates; with the store stalled at
// each step nothing that depends on the write leaves (commitment_signed, tx_signatures, the broadcast,
// splice_locked) until it completes, and then the same messages leave in the same order; with the
// store failing at each step (the host dies with the write unfinished) the splice completes or is
// forgotten on both sides, and the channel goes on.
import t from 'tap'
import { Pair, type Party } from '../fixtures/harness.ts'
import { finish } from '../fixtures/flow.ts'
import { SpliceHosts, coin, lastSplice, spliceIn, spliceOut, stepOnce, steps } from '../fixtures/splice.ts'
import type { PeerMessage } from '../../../../../protocol/wire/index.ts'

const GATED = new Set(['commitment_signed', 'tx_signatures', 'splice_locked', 'revoke_and_ack', 'start_batch'])

type Setup = (p: Pair, h: SpliceHosts) => void
const spliceOutByA: Setup = (p, h) => { h.request(p.a, spliceOut(250_000)) }
const spliceInByA: Setup = (p, h) => { h.request(p.a, spliceIn(900_000, coin(81, 1_000_000))) }

function fresh (setup: Setup, serialize = false): { p: Pair; h: SpliceHosts } {
  const p = new Pair({ seed: 51 })
  p.serialize = serialize
  p.open()
  const h = new SpliceHosts(p)
  setup(p, h)
  return { p, h }
}

/** Each action's label, its writes (party: monitor kinds of each write), what each party sent. */
function reference (setup: Setup) {
  const { p, h } = fresh(setup)
  const out: Array<{ label: string; writes: Record<'A' | 'B', string[][]>; sent: Record<'A' | 'B', PeerMessage[]> }> = []
  for (;;) {
    const m = { A: p.a.monitor.length, B: p.b.monitor.length }
    const w = { A: p.a.writesDone, B: p.b.writesDone }
    const s = { A: p.a.sent.length, B: p.b.sent.length }
    const persisted: Record<'A' | 'B', string[][]> = { A: [], B: [] }
    const label = stepOnce(h)
    if (label === undefined) return { p, h, out }
    for (const [x, k] of [[p.a, 'A'], [p.b, 'B']] as const) {
      const n = x.writesDone - w[k]
      if (n > 0) persisted[k] = [x.monitor.slice(m[k]).map(u => u.kind)]
      if (n > 1) persisted[k].push(['(more than one write)'])
    }
    out.push({ label, writes: persisted, sent: { A: p.a.sent.slice(s.A), B: p.b.sent.slice(s.B) } })
  }
}

t.test('splice-out: durable writes per step (step.ts table), with their monitor updates', t => {
  const { p, h, out } = reference(spliceOutByA)
  const table = out.map(o => [o.label, o.writes.A, o.writes.B])
  t.same(table, [
    ['B receives stfu', [], []],
    ['A receives stfu', [], []],
    ['B receives splice_init', [], []],
    ['host', [], []],
    ['A receives splice_ack', [], []],
    ['B receives tx_add_input', [], []],
    ['A receives tx_complete', [], []],
    ['B receives tx_add_output', [], []],
    ['A receives tx_complete', [], []],
    ['B receives tx_add_output', [], []],
    // A answers B's tx_complete with its own: the transaction is complete; stored before A's
    // tx_complete and commitment_signed leave.
    ['A receives tx_complete', [['splice_candidate']], []],
    ['B receives tx_complete', [], [['splice_candidate']]],
    ['A receives commitment_signed', [['splice_local_commitment']], []],
    // B signs first (A holds the old funding): its tx_signatures leave with this write.
    ['B receives commitment_signed', [], [['splice_local_commitment']]],
    ['A receives tx_signatures', [['splice_signed']], []],
    ['B receives tx_signatures', [], [['splice_signed']]],
  ])
  const txid = lastSplice(p.a)!
  const writes = (x: Party, f: () => void): string[] => {
    const n = x.monitor.length; const w = x.writesDone; f();
    return x.writesDone - w === 1 ? x.monitor.slice(n).map(u => u.kind) : [`${x.writesDone - w} writes`]
  }
  t.same(writes(p.a, () => h.confirm(txid, 6, [p.a])), [], 'depth reached → splice_locked: 1 write (no monitor update)')
  t.same(writes(p.b, () => p.deliver(p.b)), [], 'recv splice_locked (ours not sent yet): 1 write')
  t.same(
    writes(p.b, () => h.confirm(txid, 6, [p.b])), ['splice_locked'],
    'depth reached, the peer\'s already in: 1 write, the promotion rides on it',
  )
  t.same(writes(p.a, () => p.deliver(p.a)), ['splice_locked'], 'recv splice_locked, ours sent: 1 write with the promotion')
  t.end()
})

for (const [name, setup] of [['splice-out', spliceOutByA], ['splice-in from a wallet coin', spliceInByA]] as const) {
  const ref = reference(setup)

  t.test(`${name}: store stalled at each step`, t => {
    ref.out.forEach((step, i) => {
      const { p, h } = fresh(setup)
      for (let k = 0; k < i; k++) stepOnce(h)
      const before = { A: p.a.sent.length, B: p.b.sent.length, bA: p.a.broadcasts.length, bB: p.b.broadcasts.length }
      p.a.stalled = true
      p.b.stalled = true
      t.equal(stepOnce(h), step.label)
      for (const [x, k, bk] of [[p.a, 'A', 'bA'], [p.b, 'B', 'bB']] as const) {
        const leaked = x.sent.slice(before[k]).map(m => m.type)
        if (x.queued.length > 0) {
          t.notOk(
            leaked.some(m => GATED.has(m)), `${step.label}: nothing gated leaves ${k} while its write is pending (${leaked.join(',')})`,
          )
          t.equal(x.broadcasts.length, before[bk], `${step.label}: no broadcast by ${k} before its write`)
        }
        p.unstall(x)
        t.same(x.sent.slice(before[k]), step.sent[k], `${step.label}: after the write, ${k} sends what an unstalled run sends`)
      }
    })
    t.end()
  })

  t.test(`${name}: store fails at each step (the host dies with the write unfinished)`, t => {
    ref.out.forEach((step, i) => {
      for (const who of ['A', 'B'] as const) {
        const { p, h } = fresh(setup, true)
        for (let k = 0; k < i; k++) stepOnce(h)
        const x = who === 'A' ? p.a : p.b
        x.stalled = true
        const sent = x.sent.length
        t.equal(stepOnce(h), step.label)
        t.notOk(x.sent.slice(sent).some(m => GATED.has(m.type)), `${step.label}: nothing gated left ${who} before the failed write`)
        p.crash(x)
        p.reconnect()
        h.drive()
        const ca = p.a.state.splice?.candidates.map(c => c.txid) ?? []
        t.same(
          ca, p.b.state.splice?.candidates.map(c => c.txid) ?? [], `${step.label}, ${who} dies: both agree on the splice (${ca.length})`,
        )
        t.notOk(p.a.events.concat(p.b.events).some(e => e.type === 'channel_failed'), `${step.label}, ${who} dies: nothing failed`)
        const pay = p.add(p.a, 1_000_000)
        p.settle(); p.fulfill(p.b, pay.id); finish(p)
        t.same(p.check(), [], `${step.label}, ${who} dies: commitments agree afterwards`)
      }
    })
    t.end()
  })
}

t.test('splice-in: the host\'s witnesses, when they complete our turn, are stored with our tx_signatures', t => {
  const { p, h } = fresh(spliceInByA)
  h.signs = false
  steps(h)
  t.ok(p.a.state.splice?.session?.signing !== undefined, 'A waits for its host\'s witnesses')
  t.ok(p.a.state.splice!.session!.signing!.received, 'B\'s tx_signatures are in (B signs first)')
  h.signs = true
  p.a.stalled = true
  const sent = p.a.sent.length
  h.react()
  t.same(p.a.sent.slice(sent).map(m => m.type), [], 'nothing leaves before the write')
  t.equal(p.a.queued.length, 1)
  t.same(p.a.queued[0]!.monitor.map(u => u.kind), ['splice_signed'])
  p.unstall(p.a)
  t.same(p.a.sent.slice(sent).map(m => m.type), ['tx_signatures'])
  t.equal(p.a.broadcasts.at(-1), lastSplice(p.a))
  t.end()
})
