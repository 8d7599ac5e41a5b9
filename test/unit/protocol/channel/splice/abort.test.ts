// tx_abort at each step of a splice: either host cancels (`splice_abort`) after every action of the
// flow. Until the transaction is complete the splice ends on both sides — tx_abort and its echo, no
// candidate, quiescence over, held updates sent, the channel pays again; from tx_complete on, the
// command is refused and the splice is signed through (both sides stored it). A peer's tx_abort after
// we sent tx_signatures fails the channel (receiver-rules.test.ts).
import t from 'tap'
import { Pair } from '../fixtures/harness.ts'
import { finish } from '../fixtures/flow.ts'
import { SpliceHosts, coin, spliceIn, spliceOut, stepOnce, steps } from '../fixtures/splice.ts'

type Setup = (p: Pair, h: SpliceHosts) => void
const SCENARIOS: Array<[string, Setup]> = [
  ['A splices out', (p, h) => { h.request(p.a, spliceOut(150_000)) }],
  [
    'A splices in, B too',
    (p, h) => { h.respond.set(p.b, spliceIn(300_000, coin(94, 400_000), false)); h.request(p.a, spliceIn(600_000, coin(93, 900_000))) },
  ],
]

for (const [name, setup] of SCENARIOS) {
  const ref = new Pair({ seed: 95 })
  ref.open()
  const rh = new SpliceHosts(ref)
  setup(ref, rh)
  const flow = steps(rh)

  t.test(`${name}: each host cancels after each of the ${flow.length} steps`, t => {
    for (let i = 0; i <= flow.length; i++) {
      for (const who of ['A', 'B'] as const) {
        const p = new Pair({ seed: 95 })
        p.open()
        const h = new SpliceHosts(p)
        setup(p, h)
        for (let k = 0; k < i; k++) stepOnce(h)
        const x = who === 'A' ? p.a : p.b
        const signing = x.state.splice?.session?.stage === 'signing' || (x.state.splice?.candidates.length ?? 0) > 0
        const hadSplice = x.state.splice?.session !== undefined || x.state.splice?.request !== undefined
        const events = x.events.length
        p.run(x, { kind: 'command', cmd: { type: 'splice_abort', reason: 'changed my mind' } })
        const refused = x.events.slice(events).some(e => e.type === 'command_failed')
        const label = `${who} cancels after ${i} (${flow[i - 1] ?? 'start'})`
        if (signing || !hadSplice) t.ok(refused, `${label}: refused (${signing ? 'the splice is being signed' : 'nothing to cancel'})`)
        else t.notOk(refused, `${label}: accepted`)
        h.drive()
        t.notOk(p.a.events.concat(p.b.events).some(e => e.type === 'channel_failed'), `${label}: nothing failed`)
        const ca = p.a.state.splice?.candidates.length ?? 0
        const cb = p.b.state.splice?.candidates.length ?? 0
        t.equal(ca, cb, `${label}: both sides agree`)
        t.equal(ca, signing || !hadSplice ? 1 : 0, `${label}: ${signing || !hadSplice ? 'the splice completes' : 'no splice'}`)
        t.notOk(p.a.state.splice?.session ?? p.b.state.splice?.session, `${label}: no negotiation left`)
        t.equal(p.a.state.splice?.quiescence.sent ?? false, false, `${label}: quiescence over`)
        const pay = p.add(p.b, 1_000_000)
        t.ok(pay.ok, `${label}: the channel pays`)
        p.settle(); p.fulfill(p.a, pay.id); finish(p)
        t.same(p.check(), [], `${label}: commitments agree`)
      }
    }
    t.end()
  })
}
