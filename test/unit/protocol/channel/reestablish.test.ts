// Scenario 2: disconnect at every point of the dance. For each message (add, commit, revoke, fulfill,
// fail) × (before send, after send, after receive) × direction: reconnect, channel_reestablish,
// retransmit in the right order; no force close; balances agree. Plus the retransmission order of
// revoke_and_ack against commitment_signed, and a disconnect during reestablish itself.
import t from 'tap'
import { Pair } from './fixtures/harness.ts'
import { AMOUNT, FAIL_FLOW, PAYMENT_FLOW, finish, reversed, type Action } from './fixtures/flow.ts'

/** "before send" / "after send" / "after receive" names for cutting before action i. */
function cutName (flow: Action[], i: number): string {
  const prev = flow[i - 1]
  const next = flow[i]
  if (prev === undefined) return `before ${next!.name}`
  if (prev.name.includes('receives')) return `${prev.message} after receive (${prev.name})`
  return `${prev.message} after send (${prev.name})`
}

const flows: Array<[string, Action[]]> = [
  ['A→B payment', PAYMENT_FLOW],
  ['B→A payment', reversed(PAYMENT_FLOW)],
  ['A→B failed payment', FAIL_FLOW],
  ['B→A failed payment', reversed(FAIL_FLOW)],
]

for (const [label, flow] of flows) {
  t.test(`${label}: disconnect at every point, reestablish, finish`, t => {
    for (let i = 0; i <= flow.length; i++) {
      for (const twice of [false, true]) {
        const name = `${cutName(flow, i)}${twice ? ', disconnected again during reestablish' : ''}`
        const p = new Pair({ seed: 21 })
        p.open()
        const startA = p.a.state.localCommit!.spec.toLocalMsat
        for (const a of flow.slice(0, i)) a.run(p)
        p.disconnect()
        p.reconnect()
        if (twice) { p.deliver(p.b); p.disconnect(); p.reconnect() }
        p.flush()
        t.same(p.check(), [], `${name}: in sync after reestablish`)
        t.equal(p.a.state.link, 'up')
        t.equal(p.b.state.link, 'up')
        finish(p)
        const bad = p.check()
        t.same(bad, [], `${name}: no force close, both agree`)
        const moved = Math.abs(p.a.state.localCommit!.spec.toLocalMsat - startA)
        t.ok(moved === 0 || moved === AMOUNT, `${name}: the HTLC resolved once (moved ${moved})`)
        t.equal(p.a.state.localCommit!.spec.htlcs.length + p.b.state.localCommit!.spec.htlcs.length, 0, `${name}: nothing left in flight`)
      }
    }
    t.end()
  })
}

t.test('retransmission keeps the original order: commitment_signed then revoke_and_ack', t => {
  const p = new Pair({ seed: 22 })
  p.open()
  p.add(p.a, AMOUNT)
  p.add(p.b, AMOUNT)
  p.sign(p.b)
  p.deliver(p.a); p.deliver(p.a)        // A receives B's add and commitment_signed: revoke_and_ack
  p.sign(p.a)                           // then A signs its own add: commitment_signed
  // The connection drops before B receives any of A's messages.
  p.disconnect()
  p.reconnect()
  p.deliver(p.b) // B receives A's reestablish
  p.deliver(p.a) // A receives B's reestablish and retransmits
  const sent = p.toB.map(m => m.type)
  const rev = sent.indexOf('revoke_and_ack')
  const com = sent.indexOf('commitment_signed')
  t.ok(rev >= 0 && com >= 0, `A retransmits both (${sent.join(', ')})`)
  t.ok(rev < com, 'revoke_and_ack first: it was sent before the commitment_signed')
  t.ok(sent.indexOf('update_add_htlc') < com, 'the add precedes its commitment_signed')
  finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('retransmission keeps the original order: revoke_and_ack after commitment_signed', t => {
  const p = new Pair({ seed: 23 })
  p.open()
  p.add(p.a, AMOUNT)
  p.add(p.b, AMOUNT)
  p.sign(p.a)                           // A: add, commitment_signed in flight to B
  p.sign(p.b)                           // B: add, commitment_signed in flight to A
  p.deliver(p.a); p.deliver(p.a)        // A receives B's add + commitment_signed → revoke_and_ack (after A's commitment)
  p.disconnect()                        // B received nothing of A's
  p.reconnect()
  p.deliver(p.b)
  p.deliver(p.a)
  const sent = p.toB.filter(m => m.type !== 'channel_reestablish').map(m => m.type)
  t.same(sent, ['update_add_htlc', 'commitment_signed', 'revoke_and_ack'], 'same relative order as first sent')
  finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('reestablish decision: nothing to retransmit when in sync', t => {
  const p = new Pair({ seed: 24 })
  p.open()
  p.add(p.a, AMOUNT)
  p.settle()
  p.disconnect()
  p.reconnect()
  p.flush()
  const ev = p.a.events.filter(e => e.type === 'reestablished')
  t.same(ev.at(-1), { type: 'reestablished', retransmitted: 0 })
  t.end()
})
