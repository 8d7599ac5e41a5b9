// The disconnection flows of bolt02/splicing-test.md, message by message: what each side puts in
// channel_reestablish (next_funding with its retransmit_flags, my_current_funding_locked) and what it
// resends. A splices out; B takes no part and, holding no input, sends tx_signatures first.
import t from 'tap'
import { Pair } from '../fixtures/harness.ts'
import { finish } from '../fixtures/flow.ts'
import { SpliceHosts, lastSplice, spliceOut, stepOnce } from '../fixtures/splice.ts'
import type { ChannelReestablish, PeerMessage } from '../../../../../protocol/wire/index.ts'

function at (label: string, nth = 1) {
  const p = new Pair({ seed: 111 })
  p.open()
  const h = new SpliceHosts(p)
  h.request(p.a, spliceOut(120_000))
  let seen = 0
  for (let i = 0; i < 100; i++) {
    const l = stepOnce(h)
    if (l === undefined) throw new Error(`no step ${label}`)
    if (l === label && ++seen === nth) return { p, h }
  }
  throw new Error('at: not found')
}

/** Reconnects; returns each side's channel_reestablish and what each sent after it. */
function reconnect (p: Pair) {
  p.disconnect()
  const na = p.a.sent.length
  const nb = p.b.sent.length
  p.reconnect()
  p.flush()
  const after = (xs: PeerMessage[]) => ({ re: xs[0] as ChannelReestablish, rest: xs.slice(1).map(m => m.type) })
  return { a: after(p.a.sent.slice(na)), b: after(p.b.sent.slice(nb)) }
}

const candidate = (p: Pair, x: 'a' | 'b') => p[x].state.splice?.session?.signing?.candidate.txid

t.test('one side sent commitment_signed: it asks for the peer\'s (next_funding, bit 0); the peer never stored the splice: tx_abort, forgotten', t => {
  const { p } = at('A receives tx_complete', 3) // A completes, stores, sends tx_complete + commitment_signed
  const txid = candidate(p, 'a')!
  t.ok(txid)
  t.equal(p.b.state.splice?.session?.stage, 'constructing', 'B has not seen the last tx_complete')
  const r = reconnect(p)
  t.same(r.a.re.next_funding, { next_funding_txid: txid, retransmit_flags: 1 })
  t.equal(r.b.re.next_funding, undefined)
  t.same(r.b.rest, ['tx_abort'], 'B: "MUST send tx_abort to let the sending node know that they can forget this funding transaction"')
  t.same(r.a.rest, ['tx_abort'], 'A echoes it')
  t.equal(p.a.state.splice?.session, undefined, 'A forgot the splice')
  t.equal(p.a.monitor.at(-1)!.kind, 'splice_dropped')
  t.end()
})

t.test('both sent commitment_signed, neither received: both resend it, then tx_signatures in order', t => {
  const { p } = at('B receives tx_complete')
  const txid = candidate(p, 'a')!
  t.equal(candidate(p, 'b'), txid)
  const r = reconnect(p)
  t.same(r.a.re.next_funding, { next_funding_txid: txid, retransmit_flags: 1 })
  t.same(r.b.re.next_funding, { next_funding_txid: txid, retransmit_flags: 1 })
  t.same(r.b.rest, ['commitment_signed', 'tx_signatures'], 'B resends commitment_signed, and signs first once it has A\'s')
  t.same(r.a.rest, ['commitment_signed', 'tx_signatures'], 'A resends commitment_signed, then answers B\'s tx_signatures')
  t.equal(lastSplice(p.a), txid)
  t.equal(lastSplice(p.b), txid)
  t.end()
})

t.test('one side sent tx_signatures, lost: both hold each other\'s commitment_signed (bit 0 clear); it is resent', t => {
  const { p } = at('B receives commitment_signed')
  const txid = candidate(p, 'a')!
  t.equal(p.toA.at(-1)!.type, 'tx_signatures', 'B\'s tx_signatures are in flight')
  const r = reconnect(p)
  t.same(r.a.re.next_funding, { next_funding_txid: txid, retransmit_flags: 0 })
  t.same(r.b.re.next_funding, { next_funding_txid: txid, retransmit_flags: 0 })
  t.same(r.b.rest, ['tx_signatures'])
  t.same(r.a.rest, ['tx_signatures'])
  t.equal(lastSplice(p.a), txid)
  t.equal(lastSplice(p.b), txid)
  t.end()
})

t.test('both sent tx_signatures, one lost: the side that has both sends no next_funding and resends its own', t => {
  const { p } = at('A receives tx_signatures')
  const txid = lastSplice(p.a)!
  t.equal(p.a.state.splice!.candidates[0]!.txid, txid, 'A completed the splice')
  const r = reconnect(p)
  t.equal(r.a.re.next_funding, undefined)
  t.same(r.b.re.next_funding, { next_funding_txid: txid, retransmit_flags: 0 })
  t.same(
    r.a.rest, ['tx_signatures'], 'A: "if it has already received tx_signatures for that funding transaction: MUST send its tx_signatures"',
  )
  t.same(r.b.rest, [])
  t.equal(lastSplice(p.b), txid)
  t.end()
})

t.test('both sent tx_signatures, one lost, with a payment after: tx_signatures first, then the update and its batch', t => {
  const { p } = at('A receives tx_signatures')
  const pay = p.add(p.a, 1_000_000)
  p.sign(p.a)
  t.same(p.toB.map(m => m.type), ['tx_signatures', 'update_add_htlc', 'start_batch', 'commitment_signed', 'commitment_signed'])
  const r = reconnect(p)
  t.same(r.a.rest, ['tx_signatures', 'update_add_htlc', 'start_batch', 'commitment_signed', 'commitment_signed'])
  t.same(p.check(), [])
  p.settle(); p.fulfill(p.b, pay.id); finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('concurrent splice_locked across disconnections: my_current_funding_locked locks on reconnection', t => {
  const p = new Pair({ seed: 112 })
  p.open()
  const h = new SpliceHosts(p)
  h.request(p.a, spliceOut(120_000))
  h.drive()
  const tx2 = lastSplice(p.a)!
  const tx1 = p.a.state.setup.funding!.txid
  h.confirm(tx2, 6, [p.a]) // A's splice_locked ...
  const r1 = reconnect(p) // ... is lost
  t.same(r1.a.re.my_current_funding_locked, { my_current_funding_locked_txid: tx2, retransmit_flags: 0 })
  t.same(r1.b.re.my_current_funding_locked, { my_current_funding_locked_txid: tx1, retransmit_flags: 0 })
  t.equal(p.b.state.splice!.remoteLocked, tx2, 'B took A\'s my_current_funding_locked as its splice_locked')
  h.confirm(tx2, 6, [p.b]) // B locks too: its splice_locked ...
  t.equal(p.b.state.setup.funding!.txid, tx2, 'B has both: tx2 is its funding')
  const r2 = reconnect(p) // ... is lost
  t.same(r2.b.re.my_current_funding_locked, { my_current_funding_locked_txid: tx2, retransmit_flags: 0 })
  t.equal(p.a.state.setup.funding!.txid, tx2, 'A locks from B\'s my_current_funding_locked')
  const pay = p.add(p.a, 1_000_000)
  const n = p.a.sent.length
  p.sign(p.a)
  t.same(
    p.a.sent.slice(n).map(m => m.type), ['commitment_signed'],
    '"Alice doesn\'t need to send commit_sig for funding_tx1 since funding_tx2 was locked"',
  )
  p.settle(); p.fulfill(p.b, pay.id); finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('a splice reaching its depth while channel_reestablish is in flight is announced once it is in', t => {
  const p = new Pair({ seed: 113 })
  p.open()
  const h = new SpliceHosts(p)
  h.request(p.a, spliceOut(120_000))
  h.drive()
  const tx2 = lastSplice(p.a)!
  p.disconnect()
  p.reconnect() // both channel_reestablish sent (my_current_funding_locked: the old funding), none delivered
  h.confirm(tx2, 6, [p.b]) // B's splice reaches its depth now: B may send nothing before A's channel_reestablish
  t.notOk(p.toA.some(m => m.type === 'splice_locked'), 'nothing but channel_reestablish before the peer\'s')
  h.confirm(tx2, 6, [p.a])
  p.flush()
  t.equal(p.a.state.setup.funding!.txid, tx2, 'A got B\'s splice_locked after the reestablish: both locked')
  t.equal(p.b.state.setup.funding!.txid, tx2)
  const pay = p.add(p.a, 1_000_000)
  p.settle(); p.fulfill(p.b, pay.id); finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('a lock completed by the peer\'s channel_reestablish is announced before anything is resent', t => {
  const p = new Pair({ seed: 114 })
  p.open()
  const h = new SpliceHosts(p)
  h.request(p.a, spliceOut(120_000))
  h.drive()
  const tx2 = lastSplice(p.a)!
  p.disconnect()
  h.confirm(tx2, 6, [p.a]) // while disconnected: A's channel_reestablish will carry it
  p.reconnect()
  h.confirm(tx2, 6, [p.b]) // after B's channel_reestablish left (carrying the old funding)
  p.flush()
  t.equal(p.b.state.setup.funding!.txid, tx2, 'B locked on A\'s my_current_funding_locked')
  t.equal(p.a.state.setup.funding!.txid, tx2, 'and A on B\'s splice_locked, sent right after the reestablish')
  const pay = p.add(p.b, 1_000_000)
  const n = p.b.sent.length
  p.sign(p.b)
  t.same(p.b.sent.slice(n).map(m => m.type), ['commitment_signed'])
  p.settle(); p.fulfill(p.a, pay.id); finish(p)
  t.same(p.check(), [], 'A takes B\'s lone commitment_signed: nothing failed')
  t.end()
})

t.test('a splice the peer locked while we were still signing it: its my_current_funding_locked counts once we complete it', t => {
  const { p, h } = at('A receives tx_signatures') // A completed; its tx_signatures to B are in flight
  const tx2 = lastSplice(p.a)!
  p.disconnect() // … and lost
  h.confirm(tx2, 6, [p.a]) // A's splice reaches its depth while disconnected: its channel_reestablish carries it
  const r = reconnect(p)
  t.same(r.a.re.my_current_funding_locked, { my_current_funding_locked_txid: tx2, retransmit_flags: 0 })
  t.same(r.b.re.next_funding, { next_funding_txid: tx2, retransmit_flags: 0 }, 'B was still signing it')
  t.equal(lastSplice(p.b), tx2, 'B completed it with A\'s resent tx_signatures')
  h.confirm(tx2, 6, [p.b])
  p.flush()
  t.equal(p.b.state.setup.funding!.txid, tx2, 'B locked: A\'s my_current_funding_locked was its splice_locked')
  t.equal(p.a.state.setup.funding!.txid, tx2, 'A locked on B\'s splice_locked')
  const pay = p.add(p.a, 1_000_000)
  p.settle(); p.fulfill(p.b, pay.id); finish(p)
  t.same(p.check(), [], 'A\'s lone commitment_signed is B\'s too: nothing failed')
  t.end()
})
