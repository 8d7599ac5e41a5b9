// protocol/channel/queries.ts: what a host asks of a channel state, along one payment's whole
// commitment dance and in the corners (held removals, a failed channel, two HTLCs with one hash).
import t from 'tap'
import {
  committedIncoming, findOffered, hasCommittedHtlcs, hasInFlight, hasPendingUpdates, isSettled, offeredHtlcs, offersPayment, spendableMsat,
} from '../../../../protocol/channel/index.ts'
import { ANCHOR_OUTPUT_SAT, COMMITMENT_BASE_WEIGHT, HTLC_OUTPUT_WEIGHT } from '../../../../protocol/tx/fees.ts'
import { AMOUNT, PAYMENT_FLOW } from './fixtures/flow.ts'
import { Pair } from './fixtures/harness.ts'

t.test('a channel just opened: settled, nothing in flight, nothing offered or to decide', t => {
  const p = new Pair({ seed: 31 })
  p.open()
  for (const s of [p.a.state, p.b.state]) {
    t.ok(isSettled(s), 'settled')
    t.notOk(hasInFlight(s), 'nothing in flight')
    t.notOk(hasPendingUpdates(s), 'no pending update')
    t.notOk(hasCommittedHtlcs(s), 'no HTLC in a commitment')
    t.same(committedIncoming(s), [], 'nothing to decide')
    t.same(offeredHtlcs(s, 'anywhere'), [], 'nothing offered')
  }
  t.end()
})

t.test('before funding: no commitments, so nothing is settled, in flight or spendable', t => {
  const p = new Pair({ seed: 32 })
  t.notOk(isSettled(p.a.state), 'the opener has no commitment yet')
  t.notOk(hasInFlight(p.a.state))
  t.equal(spendableMsat(p.a.state), 0)
  t.same(committedIncoming(p.a.state), [])
  t.end()
})

t.test('spendable: our balance in the peer\'s commitment, less its reserve, pending adds and the funder\'s fee margin', t => {
  const p = new Pair({
    seed: 33, capacitySat: 10_000_000, pushMsat: 4_000_000_000, feeratePerKw: 253, a: { channelReserveSat: 10_000 as never },
    b: { channelReserveSat: 20_000 as never },
  })
  p.open()
  // A funded 10,000,000 sat and pushed 4,000,000,000 msat; B requires a reserve of 20,000 sat of A.
  // BOLT #3: fee = feerate_per_kw × weight / 1000, rounded down; weight 724 + 172 per HTLC output.
  const margin = Math.floor(253 * (724 + 172 * 2) / 1000) * 1000
  t.equal(
    spendableMsat(p.a.state), 6_000_000_000 - 20_000_000 - margin,
    'funder: balance − the reserve B requires − the fee for two more HTLC outputs',
  )
  t.equal(spendableMsat(p.b.state), 4_000_000_000 - 10_000_000, 'the other side pays no fee: balance − the reserve A requires')
  p.add(p.a, AMOUNT)
  t.equal(spendableMsat(p.a.state), 6_000_000_000 - 20_000_000 - margin - AMOUNT, 'an add not signed yet counts against it')
  p.settle()
  const afterMargin = Math.floor(253 * (724 + 172 * 3) / 1000) * 1000
  t.equal(
    spendableMsat(p.a.state), 6_000_000_000 - AMOUNT - 20_000_000 - afterMargin,
    'once signed it is out of the balance; the margin counts its output',
  )
  t.end()
})

t.test('spendable: the funder\'s margin uses the commitment weight of the channel type and, with anchors, both anchor outputs (BOLT #3)', t => {
  const plain = new Pair({ seed: 34, feeratePerKw: 1000 })
  const anchors = new Pair({ seed: 34, feeratePerKw: 1000, channelType: 'anchors' })
  plain.open()
  anchors.open()
  t.equal(COMMITMENT_BASE_WEIGHT.anchors - COMMITMENT_BASE_WEIGHT.static_remotekey, 400)
  t.equal(ANCHOR_OUTPUT_SAT, 330)
  // The funder pays both anchors out of its balance: the commitment holds them whatever is sent.
  const anchorOutputsMsat = 2 * 330 * 1000
  t.equal(plain.a.state.remoteCommit!.spec.toLocalMsat, anchors.a.state.remoteCommit!.spec.toLocalMsat, 'the same balance in both channels')
  t.equal(
    spendableMsat(plain.a.state) - spendableMsat(anchors.a.state), 1000 * 400 + anchorOutputsMsat,
    'anchors: 400 weight units more at 1000 sat/kw, and the two 330 sat anchor outputs',
  )
  t.equal(spendableMsat(plain.b.state), spendableMsat(anchors.b.state), 'the other side pays neither')
  t.equal(HTLC_OUTPUT_WEIGHT, 172)
  t.end()
})

// One payment A → B (fixtures/flow.ts), action by action: where the HTLC is, what each query says.
// Columns: A offers it (anywhere / in a commitment), B must decide it, A settled, B settled.
const EXPECTED: Record<string, [anywhere: boolean, committed: boolean, bDecides: boolean, aSettled: boolean, bSettled: boolean]> = {
  'A adds an HTLC': [true, false, false, false, true],
  'B receives update_add_htlc': [true, false, false, false, false],
  'A signs': [true, true, false, false, false],
  'B receives commitment_signed': [true, true, false, false, false],
  'A receives revoke_and_ack': [true, true, false, false, false],
  'B signs': [true, true, false, false, false],
  'A receives commitment_signed': [true, true, false, false, false],
  'B receives revoke_and_ack': [true, true, true, false, false],
  'B fulfills': [true, true, false, false, false],
  'A receives update_fulfill_htlc': [true, true, false, false, false],
  'B signs the fulfill': [true, true, false, false, false],
  'A receives commitment_signed#2': [true, true, false, false, false],
  'B receives revoke_and_ack#2': [true, true, false, false, false],
  'A signs the fulfill': [true, true, false, false, false],
  'B receives commitment_signed#2': [true, true, false, false, true],
  'A receives revoke_and_ack#2': [false, false, false, true, true],
}

t.test('one payment A → B: each query at each step of the commitment dance', t => {
  const p = new Pair({ seed: 35 })
  p.open()
  const seen = new Map<string, number>()
  let hash = ''
  let checked = 0
  for (const action of PAYMENT_FLOW) {
    action.run(p)
    if (hash === '') hash = p.a.state.localChanges.proposed.flatMap(u => (u.kind === 'add' ? [u.htlc.paymentHash] : []))[0]!
    const n = (seen.get(action.name) ?? 0) + 1
    seen.set(action.name, n)
    const name = n === 1 ? action.name : `${action.name}#${n}`
    const [anywhere, committed, bDecides, aSettled, bSettled] = EXPECTED[name]!
    t.equal(offersPayment(p.a.state, hash, 'anywhere'), anywhere, `${name}: A offers it (anywhere)`)
    t.equal(offersPayment(p.a.state, hash, 'committed'), committed, `${name}: A offers it in a commitment`)
    t.equal(committedIncoming(p.b.state).some(h => h.paymentHash === hash), bDecides, `${name}: B must decide it`)
    t.equal(isSettled(p.a.state), aSettled, `${name}: A settled`)
    t.equal(isSettled(p.b.state), bSettled, `${name}: B settled`)
    t.equal(hasInFlight(p.a.state), !aSettled, `${name}: A has something in flight exactly when not settled`)
    t.notOk(offersPayment(p.b.state, hash, 'anywhere'), `${name}: B offers nothing`)
    checked++
  }
  t.equal(checked, Object.keys(EXPECTED).length, 'every row of the table was checked')
  t.end()
})

t.test('a fee update alone is in flight: not settled, though no HTLC is anywhere', t => {
  const p = new Pair({ seed: 36 })
  p.open()
  p.run(p.a, { kind: 'command', cmd: { type: 'update_fee', feeratePerKw: 300 } })
  t.notOk(hasCommittedHtlcs(p.a.state), 'no HTLC')
  t.ok(hasPendingUpdates(p.a.state), 'the update_fee is pending')
  t.notOk(isSettled(p.a.state))
  t.ok(hasInFlight(p.a.state), 'a block matters: the channel is in flight')
  p.settle()
  t.ok(isSettled(p.a.state) && isSettled(p.b.state), 'settled once both signed and revoked')
  t.end()
})

t.test('committedIncoming: a removal held for the link is not decided again; a failed channel has nothing in flight', t => {
  const p = new Pair({ seed: 37 })
  p.open()
  const h = p.add(p.a, AMOUNT)
  p.settle()
  t.same(committedIncoming(p.b.state).map(x => x.id), [h.id], 'B must decide the HTLC')
  p.disconnect()
  p.fulfill(p.b, h.id)
  t.equal(p.b.state.holding.length, 1, 'the fulfil waits for the link')
  t.same(committedIncoming(p.b.state), [], 'a held fulfil is a decision already made')
  t.notOk(isSettled(p.b.state), 'a held command is not settled')
  p.run(p.a, { kind: 'command', cmd: { type: 'force_close', reason: 'test' } })
  t.equal(p.a.state.phase, 'failed')
  t.ok(hasCommittedHtlcs(p.a.state), 'the HTLC is still in its commitments')
  t.notOk(hasInFlight(p.a.state), 'but no block can change the channel machine now (the monitor has it)')
  t.end()
})

t.test('findOffered: two HTLCs of one payment (same hash, amount, expiry) stay two', t => {
  const p = new Pair({ seed: 38 })
  p.open()
  const first = p.add(p.a, AMOUNT)
  const cltvExpiry = p.a.state.localChanges.proposed.find(u => u.kind === 'add')!
  if (cltvExpiry.kind !== 'add') throw new Error('no add')
  p.run(p.a, { kind: 'command', cmd: {
    type: 'add_htlc', amountMsat: AMOUNT as never, paymentHash: first.hash, cltvExpiry: cltvExpiry.htlc.cltvExpiry, recipient: p.nodeB,
  } })
  const out = { paymentHash: first.hash, amountMsat: AMOUNT, cltvExpiry: cltvExpiry.htlc.cltvExpiry }
  t.equal(findOffered(p.a.state, out, new Set()), 0, 'proposed, not signed: found')
  t.equal(findOffered(p.a.state, out, new Set([0])), 1, 'the second, once the first is claimed')
  t.equal(findOffered(p.a.state, out, new Set([0, 1])), undefined, 'none left')
  t.equal(findOffered(p.a.state, { ...out, amountMsat: AMOUNT + 1 }, new Set()), undefined, 'another amount is another payment')
  t.equal(findOffered(p.a.state, { ...out, cltvExpiry: out.cltvExpiry + 1 }, new Set()), undefined, 'another expiry too')
  p.settle()
  t.equal(findOffered(p.a.state, out, new Set([0])), 1, 'signed and committed: still found')
  t.equal(
    offeredHtlcs(p.a.state, 'committed').filter(h => h.paymentHash === first.hash).length, 4,
    'each HTLC in our commitment and in the peer\'s (listed per place)',
  )
  t.end()
})
