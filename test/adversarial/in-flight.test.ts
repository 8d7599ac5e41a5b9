// Violations that land while the hub has durable writes in flight, over the hub's real protocol with
// a real btcd. The attacker sends a valid message that makes the hub write (its commitment_signed: the
// hub stores its new commitment before its revoke_and_ack may leave; or its revoke_and_ack and
// commitment_signed as a payee: a revocation and a commitment write) and, in the same TCP write, a
// violation. DESIGN.md: "A violation gets its warning or error and disconnect at once, whatever writes
// are in flight". So each time:
//   - the warning naming the rule arrives and the hub closes the connection, with its writes still
//     in flight: nothing held behind them (its revoke_and_ack) leaves in that session;
//   - after an honest reconnect the hub retransmits what its durable state owes, and the payment
//     completes exactly once, both attacker channels agreeing with the hub to the msat;
//   - the hub stays up; the honest platform and creator are untouched and keep paying.
import t, { type Test } from 'tap'
import path from 'node:path'
import { amountToOffer } from '../../protocol/forwarding.ts'
import { nodeIdOf } from '../../protocol/auth/signature.ts'
import type { Msat } from '../../protocol/types.ts'
import type { PeerMessage } from '../../protocol/wire/index.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, randomKey, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { Attacker, until, type AttackerChannel } from './fixtures/attacker.ts'
import { honestParties } from './fixtures/honest.ts'
import { hubChannels } from './fixtures/hub-view.ts'
import { tipHeight } from './fixtures/chain-view.ts'

const btc = await useBtcd(t)
const dir = tempDir('adv-in-flight')
const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { channels: { htlcMinimumMsat: 1_000 } } }, t)
await fundHub(btc, hub, 3_000_000)
const honest = await honestParties(btc, hub, dir, t)
let height = await tipHeight(btc)
const payerId = await Attacker.connect(hub, { height: () => height })
const payeeId = await Attacker.connect(hub, { height: () => height })
t.teardown(() => { payerId.close(); payeeId.close() })
const payer = await payerId.fundedChannel(btc, 400_000)
const payee = await payeeId.hubFundedChannel(btc)
height = await tipHeight(btc)
const AMOUNT = 15_000_000
const OFFERED = amountToOffer(AMOUNT, { feeBaseMsat: payerId.policy.fee_base_msat, feePpm: payerId.policy.fee_proportional_millionths })
const nobody = nodeIdOf(randomKey())

/** Violations, each for the channel it is sent on, as it is when the attacker's message goes out. */
const VIOLATIONS: Array<[string, (c: AttackerChannel) => PeerMessage, RegExp]> = [
  [
    'update_fulfill_htlc of an unknown HTLC',
    c => ({ type: 'update_fulfill_htlc', channel_id: c.channelId, id: 999, payment_preimage: '00'.repeat(32) }), /^warning: unknown_htlc/,
  ],
  [
    'update_fail_htlc of an unknown HTLC',
    c => ({ type: 'update_fail_htlc', channel_id: c.channelId, id: 999, reason: 'temporary_channel_failure' }), /^warning: unknown_htlc/,
  ],
  ['update_add_htlc below htlc_minimum_msat', c => addOn(c, { amount: 999 }), /^warning: amount_below_minimum/],
  ['update_add_htlc with the wrong id', c => addOn(c, { id: c.state.nextLocalHtlcId + 5 }), /^warning: bad_htlc_id/],
  ['update_add_htlc with cltv_expiry ≥ 500000000', c => addOn(c, { cltv: 500_000_000 }), /^warning: bad_cltv/],
  [
    'update_fee below the floor', c => ({ type: 'update_fee', channel_id: c.channelId, feerate_per_kw: 252 }),
    /^warning: (fee_out_of_range|fee_update_not_funder)/,
  ],
  [
    'a second commitment_signed with nothing new',
    c => ({ type: 'commitment_signed', channel_id: c.channelId, signature: '11'.repeat(64), htlc_signatures: [] }),
    /^warning: (empty_commitment|bad_signature|wrong_htlc_signature_count)/,
  ],
  ['revoke_and_ack with nothing to revoke', c => ({
    type: 'revoke_and_ack', channel_id: c.channelId, per_commitment_secret: '22'.repeat(32),
    next_per_commitment_point: '02' + '33'.repeat(32),
  }), /^warning: unexpected_revocation/],
  [
    'shutdown to a non-standard script', c => ({ type: 'shutdown', channel_id: c.channelId, scriptpubkey: '6a04deadbeef' }),
    /^warning: bad_shutdown_script/,
  ],
  [
    'closing_signed out of place',
    c => ({ type: 'closing_signed', channel_id: c.channelId, fee_satoshis: 1_000 as never, signature: '44'.repeat(64) }),
    /^warning: unexpected_message: closing_signed in phase normal/,
  ],
  ['channel_reestablish out of place', c => ({
    type: 'channel_reestablish', channel_id: c.channelId, next_commitment_number: 1, next_revocation_number: 0,
    your_last_per_commitment_secret: '00'.repeat(32), my_current_per_commitment_point: '02' + '55'.repeat(32),
  }), /^warning: unexpected_message: channel_reestablish/],
]

function addOn (c: AttackerChannel, o: { id?: number; amount?: number; cltv?: number }): PeerMessage {
  return {
    type: 'update_add_htlc', channel_id: c.channelId, id: o.id ?? c.state.nextLocalHtlcId, amount_msat: (o.amount ?? 10_000_000) as Msat,
    payment_hash: '5a'.repeat(32), cltv_expiry: (o.cltv ?? height + 100) as never, recipient: nobody,
  }
}

/**
 * The payer pays the payee through the hub; `forger` sends `violation` in one TCP write right behind
 * its commitment_signed (the payer: the hub's commitment write is in flight; the payee: the hub's
 * revocation and commitment writes are in flight).
 */
async function inFlight (
  t: Test, forger: 'payer' | 'payee', violation: (c: AttackerChannel) => PeerMessage, expect: RegExp,
): Promise<void> {
  const [id, ch] = forger === 'payer' ? [payerId, payer] : [payeeId, payee]
  await waitFor(() => payer.settled && payee.settled, 'both attacker channels settled')
  const honestBefore = await honest.view()
  const payerBefore = payer.balanceMsat
  const payeeBefore = payee.balanceMsat
  const inv = payeeId.invoice(AMOUNT)
  let fired = false
  ch.tamper = (msg, c) => {
    if (fired || msg.type !== 'commitment_signed') return msg
    fired = true
    return [msg, violation(c)]
  }
  const mark = ch.received.length
  await payer.offer({ amountMsat: AMOUNT, paymentHash: inv.paymentHash, recipient: payeeId.nodeId })
  await until(() => ch.notices().length > 0 && ch.received.slice(mark).some(m => m.type === 'warning'), 'the hub\'s warning', 20_000)
  await id.untilDisconnected()
  ch.tamper = undefined
  const session = ch.received.slice(mark)
  const warningAt = session.findIndex(m => m.type === 'warning')
  t.match(session[warningAt]?.type === 'warning' ? `warning: ${session[warningAt].data}` : '', expect, 'the warning names the rule')
  const afterSigned = forger === 'payer' ? session : session.slice(session.findIndex(m => m.type === 'commitment_signed') + 1)
  t.same(
    afterSigned.filter(m => m.type === 'revoke_and_ack').length, 0,
    'the hub\'s revoke_and_ack, held behind its write, never left in that session',
  )
  await id.reconnect()
  await waitFor(
    () => payer.settled && payee.settled && payee.incoming.some(h => h.paymentHash === inv.paymentHash),
    'the payment to complete after an honest reconnect', 30_000,
  )
  t.equal(payee.balanceMsat - payeeBefore, AMOUNT, 'the payee received the amount exactly once')
  t.equal(payerBefore - payer.balanceMsat, OFFERED, 'the payer paid it exactly once (amount + the hub\'s fee)')
  for (const c of [payer, payee]) {
    const row = (await hubChannels(hub)).find(r => r.channel_id === c.channelId)!
    t.same(
      [row.remote_msat, row.local_msat, row.htlcs], [c.balanceMsat, c.state.localCommit!.spec.toRemoteMsat, 0],
      `the hub agrees with the ${c === payer ? 'payer' : 'payee'}'s channel to the msat`,
    )
  }
  await honest.untouched(t, honestBefore, 'after the violation')
}

for (const [name, violation, expect] of VIOLATIONS) {
  t.test(`recv ${name} while the hub's commitment write is in flight (payer's channel)`, async t => {
    await inFlight(t, 'payer', violation, expect)
  })
}

for (const [name, violation, expect] of VIOLATIONS.filter(([n]) => !n.startsWith('update_add_htlc'))) {
  t.test(`recv ${name} while the hub's revocation and commitment writes are in flight (payee's channel)`, async t => {
    await inFlight(t, 'payee', violation, expect)
  })
}

t.test('after every violation in flight: the hub stays up and keeps serving honest clients', async t => {
  t.equal(hub.lines.filter(l => l.event === 'fatal').length, 0, 'the hub stays up')
  await honest.pays(t, 'after the violations')
})
