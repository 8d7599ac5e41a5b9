// RBF of an unconfirmed splice (BOLT #2 tx_init_rbf / tx_ack_rbf; bolt02/splicing-test.md "Multiple
// splices with concurrent splice_locked"): a replacement at ≥ 25/24 the feerate, both candidates
// signed in every batch (start_batch of 3), whichever confirms is locked, and the receiver's RBF rules.
import t from 'tap'
import { Pair } from '../fixtures/harness.ts'
import { finish } from '../fixtures/flow.ts'
import { FEERATE, SpliceHosts, coin, lastSplice, spliceIn, spliceOut } from '../fixtures/splice.ts'

function spliced (seed: number) {
  const p = new Pair({ seed })
  p.open()
  const h = new SpliceHosts(p)
  const first = spliceOut(200_000)
  h.request(p.a, first)
  h.drive()
  return { p, h, first, tx1: lastSplice(p.a)! }
}

const RBF_FEERATE = Math.floor(FEERATE * 25 / 24) + 10

t.test('RBF: a replacement at a higher feerate; payments sign for both candidates; the replacement locks', t => {
  const { p, h, tx1 } = spliced(101)
  const second = spliceOut(200_000, true, RBF_FEERATE)
  t.ok(h.request(p.a, second, { rbf: true, feeratePerKw: RBF_FEERATE }), 'the RBF command is accepted')
  h.drive()
  const tx2 = lastSplice(p.a)!
  t.not(tx2, tx1)
  t.same(p.a.state.splice!.candidates.map(c => c.txid), [tx1, tx2], 'both candidates pending, oldest first')
  t.same(p.b.state.splice!.candidates.map(c => c.txid), [tx1, tx2])
  const sent = p.a.sent.map(m => m.type)
  t.ok(sent.includes('tx_init_rbf') && p.b.sent.some(m => m.type === 'tx_ack_rbf'), 'tx_init_rbf / tx_ack_rbf')
  t.ok(p.a.state.splice!.candidates[1]!.feeSat > p.a.state.splice!.candidates[0]!.feeSat, 'the replacement pays more fee')
  const pay = p.add(p.a, 2_000_000)
  const n = p.a.sent.length
  p.sign(p.a)
  t.same(
    p.a.sent.slice(n).map(m => m.type), ['start_batch', 'commitment_signed', 'commitment_signed', 'commitment_signed'],
    'a batch of three: the funding and both candidates',
  )
  p.settle(); p.fulfill(p.b, pay.id); finish(p)
  t.same(p.check(), [])
  h.confirm(tx2)
  p.flush()
  t.equal(p.a.state.setup.funding!.txid, tx2)
  t.equal(p.b.state.setup.funding!.txid, tx2)
  t.equal(p.a.state.setup.capacitySat, 10_000_000 + second.contributionSat)
  t.same(p.a.state.splice!.candidates, [], 'the other candidate is dropped')
  t.same(p.check(), [])
  t.end()
})

t.test('RBF: the original splice confirms instead and is the one locked', t => {
  const { p, h, tx1, first } = spliced(102)
  h.request(p.a, spliceOut(200_000, true, RBF_FEERATE), { rbf: true, feeratePerKw: RBF_FEERATE })
  h.drive()
  h.confirm(tx1)
  p.flush()
  t.equal(p.a.state.setup.funding!.txid, tx1)
  t.equal(p.b.state.setup.capacitySat, 10_000_000 + first.contributionSat)
  t.same(p.check(), [])
  t.end()
})

t.test('RBF refused: below 25/24 the feerate (our command, and the peer\'s tx_init_rbf → tx_abort)', t => {
  const { p, h } = spliced(103)
  const low = Math.floor(FEERATE * 25 / 24) - 1
  t.notOk(h.request(p.a, spliceOut(200_000, true, low), { rbf: true, feeratePerKw: low }), 'our command is refused')
  t.match(p.a.events.at(-1), { type: 'command_failed', error: { reason: 'splice_rbf_feerate_too_low' } })
  t.ok(h.request(p.a, spliceOut(200_000, true, RBF_FEERATE), { rbf: true, feeratePerKw: RBF_FEERATE }))
  for (let i = 0; i < 20 && p.toB[0]?.type !== 'tx_init_rbf'; i++) { if (p.toB.length > 0) p.deliver(p.b); else p.deliver(p.a) }
  p.toB[0] = { ...(p.toB[0] as { type: 'tx_init_rbf' } & Record<string, unknown>), feerate: low } as never
  const n = p.b.sent.length
  p.deliver(p.b)
  t.ok(p.b.sent.slice(n).some(m => m.type === 'tx_abort' && m.data.startsWith('splice_rbf_feerate_too_low')), 'B answers tx_abort')
  h.drive()
  t.equal(p.a.state.splice!.candidates.length, 1, 'the first splice is still pending')
  t.same(p.check(), [])
  t.end()
})

t.test('RBF refused: after the sender\'s splice_locked (warning and disconnect); our own command too', t => {
  const { p, h, tx1 } = spliced(104)
  h.confirm(tx1, 6, [p.a])
  t.equal(p.a.sent.at(-1)!.type, 'splice_locked')
  t.notOk(h.request(p.a, spliceOut(200_000, true, RBF_FEERATE), { rbf: true, feeratePerKw: RBF_FEERATE }), 'A sent splice_locked: no RBF')
  p.flush()
  const chan = p.a.state.channelId
  p.run(p.b, { kind: 'peer', msg: { type: 'stfu', channel_id: chan, initiator: true } })
  p.toA.length = 0
  p.run(p.b, { kind: 'peer', msg: { type: 'tx_init_rbf', channel_id: chan, locktime: 0, feerate: RBF_FEERATE } })
  t.ok(p.b.sent.some(m => m.type === 'warning' && m.data.startsWith('splice_pending')), 'B refuses an RBF from a peer that locked')
  t.equal(p.connected, false)
  t.end()
})

t.test('RBF refused at tx_complete: a replacement paying less fee in all than the splice it replaces', t => {
  const p = new Pair({ seed: 105 })
  p.open()
  const h = new SpliceHosts(p)
  // The first splice has B's input and change in it (more weight); the replacement only A's payout.
  h.respond.set(p.b, spliceIn(300_000, coin(96, 500_000), false))
  h.request(p.a, spliceOut(200_000))
  h.drive()
  const first = p.a.state.splice!.candidates[0]!
  h.respond.set(p.b, { contributionSat: 0 })
  const n = p.b.sent.length
  h.request(p.a, spliceOut(200_000, true, RBF_FEERATE), { rbf: true, feeratePerKw: RBF_FEERATE })
  h.drive()
  t.ok(
    [...p.a.sent, ...p.b.sent.slice(n)].some(m => m.type === 'tx_abort' && m.data.startsWith('splice_rbf_fee_too_low')),
    'tx_abort: the replacement pays less',
  )
  t.same(p.a.state.splice!.candidates.map(c => c.txid), [first.txid], 'only the first splice is pending')
  t.same(p.b.state.splice!.candidates.map(c => c.txid), [first.txid])
  t.end()
})

t.test('concurrent splice_locked (bolt02/splicing-test.md): a batch started before the peer locked is read after it', t => {
  const { p, h, tx1 } = spliced(106)
  h.request(p.a, spliceOut(200_000, true, RBF_FEERATE), { rbf: true, feeratePerKw: RBF_FEERATE })
  h.drive()
  // A sees tx1 deep enough and locks it, then pays: its batch still holds three commitment_signed.
  h.confirm(tx1, 6, [p.a])
  const pay = p.add(p.a, 1_000_000)
  p.sign(p.a)
  t.same(
    p.toB.map(m => m.type),
    ['splice_locked', 'update_add_htlc', 'start_batch', 'commitment_signed', 'commitment_signed', 'commitment_signed'],
  )
  p.deliver(p.b); p.deliver(p.b); p.deliver(p.b); p.deliver(p.b) // splice_locked, the add, start_batch, the first commitment_signed
  h.confirm(tx1, 6, [p.b]) // B locks tx1 in the middle of A's batch
  t.equal(p.b.state.setup.funding!.txid, tx1, 'B has sent and received splice_locked: tx1 is its funding')
  p.deliver(p.b); p.deliver(p.b)
  t.equal(p.b.sent.at(-1)!.type, 'revoke_and_ack', 'the batch is read as one: the commitment for tx1 is taken, the others ignored')
  p.flush()
  t.equal(p.a.state.setup.funding!.txid, tx1)
  const k = p.b.sent.length
  p.sign(p.b)
  t.same(p.b.sent.slice(k).map(m => m.type), ['commitment_signed'], 'after the lock, one commitment_signed')
  p.settle(); p.fulfill(p.b, pay.id); finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('the splice locks while its RBF is being negotiated: the RBF is abandoned on both sides (tx_abort), the splice locks', t => {
  const { p, h, tx1, first } = spliced(107)
  h.request(p.a, spliceOut(200_000, true, RBF_FEERATE), { rbf: true, feeratePerKw: RBF_FEERATE })
  for (let i = 0; i < 30 && p.b.state.splice?.session?.stage !== 'constructing'; i++) {
    if (!h.react()) { if (p.toB.length > 0) p.deliver(p.b); else p.deliver(p.a) }
  }
  t.equal(p.b.state.splice?.session?.stage, 'constructing', 'the RBF transaction is being built')
  h.confirm(tx1, 6, [p.b])
  h.confirm(tx1, 6, [p.a])
  h.drive()
  t.equal(p.a.state.setup.funding!.txid, tx1, 'the splice is locked')
  t.equal(p.b.state.setup.funding!.txid, tx1)
  t.equal(p.a.state.setup.capacitySat, 10_000_000 + first.contributionSat)
  t.notOk(p.a.state.splice?.session ?? p.b.state.splice?.session, 'the RBF is gone on both sides')
  t.ok(p.a.events.some(e => e.type === 'splice_aborted'), 'A was told')
  t.notOk([...p.a.events, ...p.b.events].some(e => e.type === 'channel_failed'))
  const pay = p.add(p.a, 1_000_000)
  t.ok(pay.ok)
  p.settle(); p.fulfill(p.b, pay.id); finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('the splice locks while its RBF waits for quiescence: quiescence is reached, then ended with tx_abort', t => {
  const { p, h, tx1 } = spliced(108)
  t.ok(h.request(p.a, spliceOut(200_000, true, RBF_FEERATE), { rbf: true, feeratePerKw: RBF_FEERATE }))
  t.same(p.toB.map(m => m.type), ['stfu'], 'A asked for quiescence')
  h.confirm(tx1, 6, [p.a])
  h.confirm(tx1, 6, [p.b])
  p.deliver(p.a) // B's splice_locked: A locks, its RBF has nothing left to replace
  t.equal(p.a.state.setup.funding!.txid, tx1)
  h.drive()
  t.equal(p.b.state.setup.funding!.txid, tx1)
  t.equal(p.a.state.splice!.quiescence.sent, false, 'quiescence over')
  t.ok(p.a.sent.some(m => m.type === 'tx_abort'), 'ended with tx_abort')
  const pay = p.add(p.a, 1_000_000)
  t.ok(pay.ok, 'A pays again')
  p.settle(); p.fulfill(p.b, pay.id); finish(p)
  t.same(p.check(), [])
  t.end()
})
