// Scenario 13: update_add_htlc receiver rules, and the removal rules (BOLT #2 "Adding an HTLC",
// "Removing an HTLC"). Each rule is violated once by a message injected straight into the receiver
// (an honest sender's own checks would refuse to send it), and the step's effects are asserted:
// a warning naming the reason and a disconnect, or an error and a failed channel; nothing applied.
import t, { type Test } from 'tap'
import { step, type Effect } from '../../../../protocol/channel/index.ts'
import type { Msat, NodeId } from '../../../../protocol/types.ts'
import type { PeerMessage, UpdateAddHtlc } from '../../../../protocol/wire/index.ts'
import { Pair, kinds, type PairOptions, type Party } from './fixtures/harness.ts'
import { AMOUNT } from './fixtures/flow.ts'

const HASH = 'aa'.repeat(32)

function addMsg (p: Pair, to: Party, over: Partial<UpdateAddHtlc> = {}): UpdateAddHtlc {
  return {
    type: 'update_add_htlc', channel_id: to.state.channelId, id: to.state.nextRemoteHtlcId, amount_msat: AMOUNT as Msat,
    payment_hash: HASH, cltv_expiry: (to.state.height + 144) as UpdateAddHtlc['cltv_expiry'],
    recipient: (to === p.b ? p.nodeB : p.nodeA) as NodeId, ...over,
  }
}

/** Steps `to` with `msg` without applying the result to the pair; returns effects and new state. */
function inject (to: Party, msg: PeerMessage) {
  return step(to.state, { kind: 'peer', msg }, to.signer)
}

function warned (t: Test, effects: Effect[], reason: string): void {
  t.same(kinds(effects), ['send:warning', 'disconnect'], `${reason}: warning and disconnect`)
  const w = effects[0]
  t.ok(w?.kind === 'send' && w.msg.type === 'warning' && w.msg.data.startsWith(reason), `the warning names ${reason}`)
}

function opened (opts: PairOptions = {}): Pair {
  const p = new Pair({ seed: 31, ...opts })
  p.open()
  return p
}

t.test('recv update_add_htlc (amount 0)', t => {
  const p = opened()
  const r = inject(p.b, addMsg(p, p.b, { amount_msat: 0 as Msat }))
  warned(t, r.effects, 'amount_below_minimum')
  t.equal(r.state.nextRemoteHtlcId, 0, 'nothing applied')
  t.end()
})

t.test('recv update_add_htlc (below htlc_minimum_msat)', t => {
  const p = opened({ b: { htlcMinimumMsat: 1000 as Msat } })
  warned(t, inject(p.b, addMsg(p, p.b, { amount_msat: 999 as Msat })).effects, 'amount_below_minimum')
  t.same(kinds(inject(p.b, addMsg(p, p.b, { amount_msat: 1000 as Msat })).effects), [], 'exactly the minimum is fine')
  t.end()
})

t.test('recv update_add_htlc (sender would go below its reserve)', t => {
  const p = opened({ b: { maxHtlcValueInFlightMsat: 10_000_000_000 as Msat } })
  const balance = p.b.state.localCommit!.spec.toRemoteMsat // A's balance, as B sees it
  const reserve = p.b.state.setup.local.channelReserveSat * 1000 // what B requires A to keep
  warned(t, inject(p.b, addMsg(p, p.b, { amount_msat: (balance - reserve + 1) as Msat })).effects, 'reserve')
  t.end()
})

t.test('recv update_add_htlc (more than the sender has at all): refused, nothing thrown', t => {
  const p = opened({ b: { maxHtlcValueInFlightMsat: 10_000_000_000 as Msat } })
  const balance = p.b.state.localCommit!.spec.toRemoteMsat
  warned(t, inject(p.b, addMsg(p, p.b, { amount_msat: (balance + 1) as Msat })).effects, 'reserve')
  warned(t, inject(p.b, addMsg(p, p.b, { amount_msat: Number.MAX_SAFE_INTEGER as Msat })).effects, 'max_in_flight')
  const n = p.a.events.length
  p.add(p.a, balance * 2)
  t.ok(p.a.events.slice(n).some(e => e.type === 'command_failed'), 'our own oversized add is a refused command, not a throw')
  t.end()
})

t.test('recv update_add_htlc (funder cannot pay the commitment fee above its reserve)', t => {
  const p = opened({ b: { maxHtlcValueInFlightMsat: 10_000_000_000 as Msat } })
  const balance = p.b.state.localCommit!.spec.toRemoteMsat
  const reserve = p.b.state.setup.local.channelReserveSat * 1000
  // A keeps its reserve plus 1 sat, but the base fee at 253 sat/kw is 183 sat (+ the HTLC output).
  warned(t, inject(p.b, addMsg(p, p.b, { amount_msat: (balance - reserve - 1000) as Msat })).effects, 'insufficient_funds')
  t.end()
})

t.test('recv update_add_htlc (non-funder below its reserve)', t => {
  const p = opened()
  const balance = p.a.state.localCommit!.spec.toRemoteMsat // B's balance, as A sees it
  const reserve = p.a.state.setup.local.channelReserveSat * 1000
  warned(t, inject(p.a, addMsg(p, p.a, { amount_msat: (balance - reserve + 1) as Msat })).effects, 'reserve')
  t.same(
    kinds(inject(p.a, addMsg(p, p.a, { amount_msat: (balance - reserve) as Msat })).effects), [],
    'exactly down to the reserve is fine (the funder pays the fee)',
  )
  t.end()
})

t.test('recv update_add_htlc (more than max_accepted_htlcs)', t => {
  const p = opened({ b: { maxAcceptedHtlcs: 3 } })
  for (let i = 0; i < 3; i++) p.run(p.b, { kind: 'peer', msg: addMsg(p, p.b) })
  t.equal(p.b.state.nextRemoteHtlcId, 3)
  warned(t, inject(p.b, addMsg(p, p.b)).effects, 'too_many_htlcs')
  t.end()
})

t.test('recv update_add_htlc (more than max_htlc_value_in_flight_msat)', t => {
  const p = opened({ b: { maxHtlcValueInFlightMsat: 10_000_000 as Msat } })
  p.run(p.b, { kind: 'peer', msg: addMsg(p, p.b, { amount_msat: 6_000_000 as Msat }) })
  warned(t, inject(p.b, addMsg(p, p.b, { amount_msat: 4_000_001 as Msat })).effects, 'max_in_flight')
  t.same(kinds(inject(p.b, addMsg(p, p.b, { amount_msat: 4_000_000 as Msat })).effects), [], 'exactly the maximum is fine')
  t.end()
})

t.test('recv update_add_htlc (cltv_expiry ≥ 500000000)', t => {
  const p = opened()
  warned(t, inject(p.b, addMsg(p, p.b, { cltv_expiry: 500_000_000 as UpdateAddHtlc['cltv_expiry'] })).effects, 'bad_cltv')
  t.end()
})

t.test('recv update_add_htlc (id out of order)', t => {
  const p = opened()
  warned(t, inject(p.b, addMsg(p, p.b, { id: 5 })).effects, 'bad_htlc_id')
  p.run(p.b, { kind: 'peer', msg: addMsg(p, p.b) })
  warned(t, inject(p.b, addMsg(p, p.b, { id: 0 })).effects, 'bad_htlc_id')
  t.end()
})

t.test('recv update_add_htlc (repeated id after reconnection is the same HTLC again)', t => {
  const p = opened()
  const first = p.add(p.a, AMOUNT)
  p.deliver(p.b)
  t.equal(p.b.state.nextRemoteHtlcId, 1)
  p.disconnect() // the uncommitted add is forgotten by both sides
  t.equal(p.b.state.nextRemoteHtlcId, 0, 'B reversed the uncommitted add')
  t.ok(p.a.events.some(e => e.type === 'add_rolled_back' && e.htlc.id === first.id), 'A was told its add was rolled back')
  p.reconnect(); p.flush()
  const again = p.add(p.a, AMOUNT)
  t.equal(again.id, first.id, 'A reuses the id')
  p.deliver(p.b)
  t.equal(p.b.state.nextRemoteHtlcId, 1, 'B accepted the repeated id')
  p.settle()
  t.same(p.check(), [])
  t.end()
})

t.test('recv update_add_htlc (expiry too soon: failed once committed, not a violation)', t => {
  const p = opened()
  p.add(p.a, AMOUNT, 5) // the sender does not know the receiver's CLTV policy
  p.deliver(p.b)
  t.same(p.b.state.autoFail, [{ id: 0, reason: 'expiry_too_soon' }], 'accepted, marked to fail')
  p.settle()
  t.ok(p.b.events.some(e => e.type === 'htlc_auto_failed' && e.reason === 'expiry_too_soon'), 'B failed it once committed')
  t.notOk(p.b.events.some(e => e.type === 'htlc_received'), 'and never offered it to its host')
  t.ok(p.a.events.some(e => e.type === 'htlc_failed' && e.reason === 'expiry_too_soon'), 'A saw the failure committed')
  t.equal(p.a.state.localCommit!.spec.htlcs.length, 0)
  t.same(p.check(), [])
  t.end()
})

t.test('recv update_add_htlc after the peer\'s shutdown', t => {
  const p = opened()
  p.add(p.a, AMOUNT) // an HTLC in flight keeps the channel in shutting_down
  p.settle()
  p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })
  p.deliver(p.b)
  warned(t, inject(p.b, addMsg(p, p.b)).effects, 'update_after_shutdown')
  t.end()
})

t.test('recv update_fulfill_htlc (unknown id)', t => {
  const p = opened()
  warned(
    t, inject(p.a, { type: 'update_fulfill_htlc', channel_id: p.a.state.channelId, id: 9, payment_preimage: '00'.repeat(32) }).effects,
    'unknown_htlc',
  )
  t.end()
})

t.test('recv update_fulfill_htlc (preimage does not match)', t => {
  const p = opened()
  p.add(p.a, AMOUNT)
  p.settle()
  warned(
    t, inject(p.a, { type: 'update_fulfill_htlc', channel_id: p.a.state.channelId, id: 0, payment_preimage: '00'.repeat(32) }).effects,
    'bad_preimage',
  )
  t.end()
})

t.test('recv update_fulfill_htlc (HTLC not irrevocably committed yet)', t => {
  const p = opened()
  const h = p.add(p.a, AMOUNT)
  p.sign(p.a)
  p.deliver(p.b); p.deliver(p.b); p.deliver(p.a) // A's HTLC is in B's commitment, not yet in A's
  warned(
    t, inject(p.a, { type: 'update_fulfill_htlc', channel_id: p.a.state.channelId, id: 0, payment_preimage: h.preimage }).effects,
    'unknown_htlc',
  )
  t.end()
})

t.test('send update_fulfill_htlc before the HTLC is irrevocably committed is refused', t => {
  const p = opened()
  p.add(p.a, AMOUNT)
  p.sign(p.a)
  p.deliver(p.b); p.deliver(p.b) // in B's commitment; A has not revoked for it, B has not signed for A
  const r = step(p.b.state, { kind: 'command', cmd: { type: 'fail_htlc', id: 0, reason: 'temporary_channel_failure' } }, p.b.signer)
  t.same(kinds(r.effects), ['emit:command_failed'])
  const e = r.effects[0]
  t.ok(e?.kind === 'emit' && e.event.type === 'command_failed' && e.event.error.reason === 'htlc_not_committed')
  t.end()
})

t.test('recv update_fail_htlc twice for the same HTLC', t => {
  const p = opened()
  p.add(p.a, AMOUNT)
  p.settle()
  const fail = { type: 'update_fail_htlc', channel_id: p.a.state.channelId, id: 0, reason: 'temporary_channel_failure' } as const
  p.run(p.a, { kind: 'peer', msg: fail })
  warned(t, inject(p.a, fail).effects, 'unknown_htlc')
  t.end()
})
