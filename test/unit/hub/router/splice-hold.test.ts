// A payment for a payee whose channel is quiescent for a splice (BOLT #2: no HTLC may be added until
// the splice is signed or abandoned) is held by the hub's router, not failed, and forwarded once the
// splice ends. The hub and its clients in-process (test/unit/hub/fixtures/hub-harness.ts); the
// creator asks to splice out, the hub's side leaves the request unanswered for a while, then refuses it.
import t from 'tap'
import { amountToOffer } from '../../../../protocol/forwarding.ts'
import { quiescence } from '../../../../protocol/channel/index.ts'
import type { Sat } from '../../../../protocol/types.ts'
import { hubWithPlatformAndCreator } from '../fixtures/hub-harness.ts'

const FEES = { feeBaseMsat: 1_000, feePpm: 100 }

t.test('a payment to a payee whose channel is quiescent for a splice is held, then forwarded when the splice ends', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator()
  const hubSide = hub.manager.get(creator.driver!.channelId)!.driver
  await creator.driver!.command({
    type: 'splice', feeratePerKw: 1_000, locktime: hub.height,
    contribution: {
      contributionSat: -60_000, inputs: [], outputs: [{ script: '0014' + '5a'.repeat(20), sats: 50_000 as Sat }], entropy: '11'.repeat(32),
    },
    nodeIds: { local: creator.nodeId, remote: hub.hubId },
  })
  await hub.until(() => hubSide.state.splice?.session?.stage === 'awaiting_host', 'the hub asked for its answer to splice_init')
  t.equal(quiescence(hubSide.state), 'quiescent', 'the creator\'s channel is quiescent at the hub')

  const inv = creator.invoice()
  const before = creator.balanceMsat
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(40_000, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + 100,
    recipient: creator.nodeId,
  })
  await hub.until(() => hub.log.events.some(e => e.event === 'payment_held'), 'the payment is held')
  t.notOk(platform.events.some(e => e.type === 'htlc_failed'), 'not failed back while the splice is negotiated')
  t.notOk(creator.received.some(m => m.type === 'update_add_htlc'), 'nothing offered to the quiescent channel')

  await hubSide.command({ type: 'splice_reject', reason: 'not now' })
  await hub.until(() => platform.events.some(e => e.type === 'htlc_fulfilled' && e.paymentHash === inv.hash), 'fulfilled upstream')
  await hub.until(() => creator.settled && platform.settled, 'settled')
  t.equal(creator.balanceMsat - before, 40_000, 'the creator was paid once the splice ended')
  t.notOk(platform.events.some(e => e.type === 'htlc_failed'), 'and the payment never failed')
})
