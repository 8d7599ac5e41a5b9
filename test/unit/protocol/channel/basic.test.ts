// Open a channel between two in-memory parties and move an HTLC through the whole dance both ways.
import t from 'tap'
import { Pair, kinds } from './fixtures/harness.ts'

t.test('open: both reach normal, acceptor stores before funding_signed, opener before broadcasting', t => {
  const p = new Pair({ seed: 7 })
  p.open()
  t.equal(p.a.state.phase, 'normal')
  t.equal(p.b.state.phase, 'normal')
  t.equal(p.a.broadcasts.length, 1, 'opener broadcast the funding tx once')
  t.same(p.check(), [])
  t.equal(p.a.state.channelId, p.b.state.channelId)
  t.end()
})

t.test('one HTLC A→B: add, sign, revoke, sign back, fulfill, settle; balances move by the amount', t => {
  const p = new Pair({ seed: 8 })
  p.open()
  const before = p.a.state.localCommit!.spec.toLocalMsat
  const h = p.add(p.a, 5_000_000)
  t.ok(h.ok)
  p.settle()
  t.same(p.check(), [])
  t.same(p.settleable(p.b), [h.id], 'B may settle the HTLC once irrevocably committed')
  t.ok(p.b.events.some(e => e.type === 'htlc_received'), 'B was told the HTLC is committed')
  p.fulfill(p.b, h.id)
  p.settle()
  t.same(p.check(), [])
  t.equal(p.a.state.localCommit!.spec.toLocalMsat, before - 5_000_000)
  t.equal(p.a.state.localCommit!.spec.htlcs.length, 0)
  t.ok(p.a.events.some(e => e.type === 'htlc_fulfilled'), 'A learned the preimage')
  t.end()
})

t.test('effects of receiving commitment_signed: persist, then revoke_and_ack once the write is acknowledged', t => {
  const p = new Pair({ seed: 9 })
  p.open()
  p.add(p.a, 5_000_000)
  p.sign(p.a)
  p.deliver(p.b) // update_add_htlc
  p.b.stalled = true
  const effects = p.run(p.b, { kind: 'peer', msg: p.toB.shift()! })
  t.same(kinds(effects), ['persist'])
  t.equal(p.toA.length, 0, 'no revoke_and_ack before the write')
  const released = p.run(p.b, { kind: 'persisted', writeId: p.b.queued[0]!.writeId })
  t.same(kinds(released), ['send:revoke_and_ack'])
  t.end()
})
