// A candidate whose transaction can never confirm (an input other than the funding output spent
// elsewhere: protocol/channel/splice/double-spent.ts): marked at the spend's first confirmation, dropped
// when the host says it is final (splice_dropped to the monitor), and a side that dropped it first
// does not fail the channel of a side that only marked it: that side drops it on the commitment_signed
// without it. A side that never saw the spend still fails the channel (BOLT #2: "If
// `commitment_signed` is missing for a funding transaction: MUST send an `error` and fail the channel").
import t from 'tap'
import { Pair } from '../fixtures/harness.ts'
import { finish } from '../fixtures/flow.ts'
import { SpliceHosts, spliceOut } from '../fixtures/splice.ts'
import type { Party } from '../fixtures/harness.ts'
import type { Txid } from '../../../../../protocol/types.ts'

const SPENDER = 'ee'.repeat(32) as Txid
const INPUT = `${'dd'.repeat(32)}:0`

function spliced (seed: number): { p: Pair; txid: Txid } {
  const p = new Pair({ seed })
  p.open()
  const h = new SpliceHosts(p)
  h.request(p.a, spliceOut(100_000))
  h.drive()
  t.equal(p.a.state.splice!.candidates.length, 1)
  return { p, txid: p.a.state.splice!.candidates[0]!.txid }
}

const spent = (p: Pair, who: Party, txid: Txid, final: boolean): void => {
  p.run(who, { kind: 'chain', event: { type: 'splice_double_spent', txid, input: INPUT, spentBy: SPENDER, final } })
}

t.test('marked at the first confirmation of the spend, dropped when final; payments go on the old funding', t => {
  const { p, txid } = spliced(151)
  const capacity = p.a.state.setup.capacitySat
  spent(p, p.a, txid, false)
  t.same(p.a.state.splice!.candidates[0]!.spentElsewhere, { input: INPUT, spentBy: SPENDER }, 'marked, not dropped')
  spent(p, p.b, txid, false)
  spent(p, p.a, txid, true)
  t.same(p.a.state.splice!.candidates, [], 'dropped at the final report')
  t.match(p.a.events.at(-1), { type: 'splice_double_spent', txid, reason: new RegExp(`${INPUT} is spent by ${SPENDER}`) })
  t.match(p.a.monitor.at(-1), { kind: 'splice_dropped', txid }, 'the monitor stops watching it')
  t.same(p.a.state.splice!.dropped, [{ txid, input: INPUT, spentBy: SPENDER }], 'remembered as dropped, for the accounting reversal')
  // B still has it (marked): A's lone commitment_signed makes B drop it, not fail.
  const h = p.add(p.a, 20_000_000)
  t.ok(h.ok)
  p.settle(); p.fulfill(p.b, h.id); finish(p)
  t.same(p.b.state.splice!.candidates, [], 'B dropped it on A\'s commitment_signed without it')
  t.same(p.b.state.splice!.dropped, [{ txid, input: INPUT, spentBy: SPENDER }], 'B remembers it as dropped too')
  t.equal(p.b.state.phase, 'normal')
  t.equal(p.a.state.setup.capacitySat, capacity, 'the old funding')
  t.same(p.check(), [])
  t.end()
})

t.test('a side that never saw the spend still fails the channel on a commitment_signed without the candidate', t => {
  const { p, txid } = spliced(152)
  spent(p, p.a, txid, true)
  const h = p.add(p.a, 20_000_000)
  t.ok(h.ok)
  p.settle()
  t.not(p.b.state.phase, 'normal', 'B failed the channel')
  t.ok(p.b.sent.some(m => m.type === 'error' && /splice|commitment_signed/.test((m as { data: string }).data)), 'with an error')
  t.end()
})
