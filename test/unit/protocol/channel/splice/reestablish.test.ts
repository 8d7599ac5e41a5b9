// Reestablish at each step of a splice (bolt02/splicing-test.md "Disconnection with ..."): the link
// drops after every single action of the flow — each message delivered, each host answer — and the
// channel reconnects. A splice not yet signed by both is forgotten on both sides (tx_abort when one
// side had stored it); one whose commitment_signed was stored resumes with next_funding and completes.
// Either way both sides agree, nothing fails, and the channel pays and (once confirmed) locks.
import t, { type Test } from 'tap'
import { Pair } from '../fixtures/harness.ts'
import { finish } from '../fixtures/flow.ts'
import { SpliceHosts, coin, spliceIn, spliceOut, steps, stepOnce } from '../fixtures/splice.ts'

type Setup = (p: Pair, h: SpliceHosts) => void
const SCENARIOS: Array<[string, Setup]> = [
  ['A splices out, B takes no part', (_p, h) => { h.request(h.p.a, spliceOut(250_000)) }],
  [
    'A splices in, B splices in too',
    (p, h) => { h.respond.set(p.b, spliceIn(400_000, coin(72, 600_000), false)); h.request(p.a, spliceIn(1_000_000, coin(71, 1_500_000))) },
  ],
]

const failed = (p: Pair): string | undefined => {
  for (const x of [p.a, p.b]) {
    const f = x.events.find(e => e.type === 'channel_failed')
    if (f?.type === 'channel_failed') return `${x.name}: ${f.error.reason}: ${f.error.detail}`
  }
  return undefined
}

/** After the outage: both sides hold the same candidates (or none), the channel works and locks. */
function outcome (t: Test, p: Pair, h: SpliceHosts, label: string): void {
  h.drive()
  t.equal(failed(p), undefined, `${label}: no channel failed`)
  const ca = p.a.state.splice?.candidates.map(c => c.txid) ?? []
  const cb = p.b.state.splice?.candidates.map(c => c.txid) ?? []
  t.same(ca, cb, `${label}: both sides agree on the pending splice (${ca.length})`)
  t.notOk(p.a.state.splice?.session ?? p.b.state.splice?.session, `${label}: no negotiation left over`)
  const pay = p.add(p.a, 2_000_000)
  t.ok(pay.ok, `${label}: a payment can be added`)
  p.settle(); p.fulfill(p.b, pay.id); finish(p)
  t.same(p.check(), [], `${label}: commitments agree`)
  if (ca.length > 0) {
    h.confirm(ca[0]!)
    p.flush()
    t.equal(p.a.state.setup.funding!.txid, ca[0], `${label}: the splice locks`)
    t.equal(p.b.state.setup.funding!.txid, ca[0])
  }
  const total = p.a.state.localCommit!.spec.toLocalMsat + p.b.state.localCommit!.spec.toLocalMsat
  t.equal(total, p.a.state.setup.capacitySat * 1000, `${label}: balances add up to the capacity`)
}

for (const [name, setup] of SCENARIOS) {
  const ref = new Pair({ seed: 41 })
  ref.open()
  const rh = new SpliceHosts(ref)
  setup(ref, rh)
  const flow = steps(rh)

  t.test(`${name}: disconnect after each of the ${flow.length} steps`, t => {
    for (let i = 0; i <= flow.length; i++) {
      const p = new Pair({ seed: 41 })
      p.open()
      const h = new SpliceHosts(p)
      setup(p, h)
      for (let k = 0; k < i; k++) stepOnce(h)
      p.disconnect()
      p.reconnect()
      outcome(t, p, h, `after ${i} (${flow[i - 1] ?? 'start'})`)
    }
    t.end()
  })

  t.test(`${name}: each host restarts from its store after each step`, t => {
    for (let i = 0; i <= flow.length; i++) {
      for (const who of ['A', 'B'] as const) {
        const p = new Pair({ seed: 41 })
        p.serialize = true
        p.open()
        const h = new SpliceHosts(p)
        setup(p, h)
        for (let k = 0; k < i; k++) stepOnce(h)
        p.crash(who === 'A' ? p.a : p.b)
        p.reconnect()
        outcome(t, p, h, `${who} restarts after ${i} (${flow[i - 1] ?? 'start'})`)
      }
    }
    t.end()
  })
}
