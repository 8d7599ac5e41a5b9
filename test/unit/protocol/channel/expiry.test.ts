// HTLC deadlines (BOLT #2 "`cltv_expiry_delta` Selection"): an offered HTLC past its timeout deadline
// fails the channel (the monitor times it out on-chain); a fulfilled HTLC the peer has not removed by
// the fulfillment deadline fails the channel (the monitor claims it with the preimage); an incoming
// HTLC nobody settled is failed back before its fulfillment deadline.
import t from 'tap'
import { FULFILL_DEADLINE_BLOCKS, OFFERED_HTLC_GRACE_BLOCKS } from '../../../../protocol/limits.ts'
import { Pair } from './fixtures/harness.ts'
import { AMOUNT, finish } from './fixtures/flow.ts'

const block = (p: Pair, height: number): void => {
  p.run(p.a, { kind: 'chain', event: { type: 'block', height } })
  p.run(p.b, { kind: 'chain', event: { type: 'block', height } })
}

t.test('an incoming HTLC nobody settled is failed back before its fulfillment deadline', t => {
  const p = new Pair({ seed: 111 }); p.open()
  const h = p.add(p.a, AMOUNT, 100) // expires at 200
  p.settle()
  block(p, 200 - FULFILL_DEADLINE_BLOCKS - 1)
  t.notOk(p.b.events.some(e => e.type === 'htlc_auto_failed'), 'not yet')
  block(p, 200 - FULFILL_DEADLINE_BLOCKS)
  t.ok(p.b.events.some(e => e.type === 'htlc_auto_failed' && e.id === h.id && e.reason === 'expiry_too_soon'))
  p.settle()
  t.ok(p.a.events.some(e => e.type === 'htlc_failed' && e.id === h.id), 'A sees it failed, off-chain')
  t.same(p.check(), [])
  t.end()
})

t.test('an offered HTLC past its timeout deadline fails the channel', t => {
  const p = new Pair({ seed: 112 }); p.open()
  p.add(p.a, AMOUNT, 100)
  p.settle()
  p.disconnect() // B went silent and never failed it
  p.run(p.a, { kind: 'chain', event: { type: 'block', height: 200 + OFFERED_HTLC_GRACE_BLOCKS - 1 } })
  t.equal(p.a.state.phase, 'normal')
  p.run(p.a, { kind: 'chain', event: { type: 'block', height: 200 + OFFERED_HTLC_GRACE_BLOCKS } })
  t.equal(p.a.state.phase, 'failed')
  const f = p.a.events.find(e => e.type === 'channel_failed')
  t.ok(f?.type === 'channel_failed' && f.error.reason === 'htlc_deadline' && f.broadcastOurCommitment)
  t.end()
})

t.test('a fulfilled HTLC still unresolved at the fulfillment deadline fails the channel', t => {
  const p = new Pair({ seed: 113 }); p.open()
  p.add(p.a, AMOUNT, 100)
  p.settle()
  p.fulfill(p.b, 0)
  p.disconnect() // A never got the fulfill
  p.run(p.b, { kind: 'chain', event: { type: 'block', height: 200 - FULFILL_DEADLINE_BLOCKS } })
  t.equal(p.b.state.phase, 'failed', 'B goes on-chain to claim with the preimage')
  t.ok(p.b.monitor.some(m => m.kind === 'preimage'), 'the preimage is with the monitor')
  t.end()
})

t.test('blocks far from any deadline change nothing', t => {
  const p = new Pair({ seed: 114 }); p.open()
  p.add(p.a, AMOUNT, 500)
  p.settle()
  block(p, 300)
  finish(p)
  t.same(p.check(), [])
  t.end()
})
