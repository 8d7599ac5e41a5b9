// bolt02/splicing-test.md "Successful single splice", for a splice-out, a splice-in and both sides
// contributing: stfu both ways, splice_init/ack, the interactive transaction, commitment_signed and
// tx_signatures for the new funding, then payments while the splice is unconfirmed (batched
// commitment_signed, one revoke_and_ack), splice_locked both ways, and payments on the new funding
// alone. Balances are checked to the satoshi at every stage.
import t from 'tap'
import { Pair } from '../fixtures/harness.ts'
import { finish } from '../fixtures/flow.ts'
import { CHANGE, PAYOUT, SpliceHosts, coin, lastSplice, spliceIn, spliceOut } from '../fixtures/splice.ts'
import { kinds } from '../fixtures/harness.ts'
import { corruptWitness, verifySpliceTx } from '../fixtures/verify-splice.ts'

const balances = (p: Pair) => ({ a: p.a.state.localCommit!.spec.toLocalMsat, b: p.b.state.localCommit!.spec.toLocalMsat })

t.test('splice-out by A: the payout and the fee leave A\'s balance; payments flow before, during and after', t => {
  const p = new Pair({ seed: 31 })
  p.open()
  const h = new SpliceHosts(p)
  // A payment before the splice.
  const pay = p.add(p.a, 5_000_000)
  p.settle(); p.fulfill(p.b, pay.id); p.settle()
  const before = balances(p)
  const out = spliceOut(200_000)
  t.ok(h.request(p.a, out), 'the splice command is accepted')
  h.drive()
  const txid = lastSplice(p.a)!
  t.ok(txid, 'A reports the splice signed')
  t.equal(lastSplice(p.b), txid, 'B signed the same transaction')
  t.same(p.a.broadcasts.at(-1), txid, 'A\'s host broadcasts it')
  t.same(verifySpliceTx(p.a.state.splice!.candidates[0]!.signedTx!, p), [], 'every input of the broadcast transaction is signed validly')
  t.not(
    verifySpliceTx(corruptWitness(p.a.state.splice!.candidates[0]!.signedTx!, 0, 1), p).length, 0, '(the check sees a corrupted signature)',
  )
  t.same(p.b.broadcasts.at(-1), txid, 'and B\'s')
  const sent = p.a.sent.map(m => m.type)
  t.same(
    sent.slice(sent.indexOf('stfu')),
    ['stfu', 'splice_init', 'tx_add_input', 'tx_add_output', 'tx_add_output', 'tx_complete', 'commitment_signed', 'tx_signatures'],
    'A: the splice\'s messages in order',
  )
  const cand = p.a.state.splice!.candidates[0]!
  t.equal(cand.capacitySat, 10_000_000 + out.contributionSat, 'the new capacity is the old less the payout and the fee')
  t.same(cand.contributionSat, { local: out.contributionSat, remote: 0 })
  t.equal(p.a.state.splice!.quiescence.sent, false, 'quiescence ended with tx_signatures')

  // A payment while the splice is unconfirmed: batched commitment_signed, one revoke_and_ack.
  const during = p.add(p.a, 3_000_000)
  t.ok(during.ok)
  const n = p.a.sent.length
  p.sign(p.a)
  t.same(
    p.a.sent.slice(n).map(m => m.type), ['start_batch', 'commitment_signed', 'commitment_signed'],
    'one commitment_signed per funding, in a batch',
  )
  const m = p.a.sent.slice(n) as Array<{ type: string; funding_txid?: string; batch_size?: number }>
  t.equal(m[0]!.batch_size, 2)
  t.same([m[1]!.funding_txid, m[2]!.funding_txid], [p.a.state.setup.funding!.txid, txid], 'the current funding first, then the splice')
  p.settle(); p.fulfill(p.b, during.id); p.settle()
  t.same(p.check(), [])
  t.equal(
    p.b.sent.filter(x => x.type === 'revoke_and_ack').length, p.a.sent.filter(x => x.type === 'start_batch').length + 2,
    'B answers each batch with one revoke_and_ack',
  )

  // Confirmed: splice_locked both ways, the candidate becomes the funding.
  h.confirm(txid)
  p.flush()
  t.equal(p.a.state.setup.funding!.txid, txid, 'A now spends the splice output')
  t.equal(p.b.state.setup.funding!.txid, txid)
  t.equal(p.a.state.setup.capacitySat, cand.capacitySat)
  t.same(p.a.state.splice!.candidates, [])
  const after = balances(p)
  t.equal(after.a, before.a - 3_000_000 + out.contributionSat * 1000, 'A paid 3,000 sat, and the payout and fee left its balance')
  t.equal(after.b, before.b + 3_000_000, 'B\'s balance is untouched by the splice')

  // A payment after: a single commitment_signed on the new funding.
  const later = p.add(p.a, 1_000_000)
  const k = p.a.sent.length
  p.sign(p.a)
  t.same(kinds([{ kind: 'send', msg: p.a.sent[k]! }]), ['send:commitment_signed'])
  t.equal((p.a.sent[k] as { funding_txid?: string }).funding_txid, txid)
  p.settle(); p.fulfill(p.b, later.id); finish(p)
  t.same(p.check(), [])
  t.equal(balances(p).a + balances(p).b, cand.capacitySat * 1000, 'the balances add up to the new capacity')
  t.end()
})

t.test('splice-in by A from a wallet coin, with change; B contributes nothing', t => {
  const p = new Pair({ seed: 32 })
  p.open()
  const h = new SpliceHosts(p)
  const before = balances(p)
  const c = coin(61, 2_000_000)
  const inn = spliceIn(1_500_000, c)
  t.ok(h.request(p.a, inn))
  h.drive()
  const txid = lastSplice(p.a)!
  t.ok(txid)
  const cand = p.b.state.splice!.candidates[0]!
  t.equal(cand.capacitySat, 11_500_000)
  t.same(verifySpliceTx(cand.signedTx!, p, [c]), [], 'the old funding input and A\'s coin are signed validly')
  h.confirm(txid)
  p.flush()
  t.equal(p.b.state.setup.capacitySat, 11_500_000)
  t.equal(balances(p).a, before.a + 1_500_000_000)
  t.equal(balances(p).b, before.b)
  t.same(p.check(), [])
  t.end()
})

t.test('both contribute: A splices out to an address, B splices in from its wallet', t => {
  const p = new Pair({ seed: 33 })
  p.open()
  const h = new SpliceHosts(p)
  const before = balances(p)
  const out = spliceOut(300_000)
  const cb = coin(62, 800_000)
  const inB = spliceIn(500_000, cb, false)
  h.respond.set(p.b, inB)
  t.ok(h.request(p.a, out))
  h.drive()
  const txid = lastSplice(p.a)!
  t.ok(txid)
  t.equal(lastSplice(p.b), txid)
  const signed = p.a.state.splice!.candidates[0]!.signedTx!
  t.ok(signed.includes(PAYOUT) && signed.includes(CHANGE), 'the transaction pays A\'s payout and B\'s change')
  t.same(verifySpliceTx(signed, p, [cb]), [], 'the old funding input and B\'s coin are signed validly')
  h.confirm(txid)
  p.flush()
  t.equal(p.a.state.setup.capacitySat, 10_000_000 + out.contributionSat + 500_000)
  t.equal(balances(p).a, before.a + out.contributionSat * 1000)
  t.equal(balances(p).b, before.b + 500_000_000)
  t.same(p.check(), [])
  t.end()
})
