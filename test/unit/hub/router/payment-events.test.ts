// The router's payment events (RouterOptions.onPayment: the operator's figures, hub/admin/payments.ts
// and the metrics), in-process: a payment forwarded then fulfilled with its fee; a hold that ended is
// reported failed once, also when a restart fails it upstream again (test/e2e/admin-auth.test.ts has a
// payment refused for liquidity, with its reason and amount, over real processes).
import t from 'tap'
import { amountToOffer } from '../../../../protocol/forwarding.ts'
import { parseJsonValue } from '../../../../host/store/index.ts'
import { hubWithPlatformAndCreator, type Client, type InProcessHub } from '../fixtures/hub-harness.ts'

const FEES = { feeBaseMsat: 1_000, feePpm: 100 }

async function pay (hub: InProcessHub, platform: Client, creator: Client, amountMsat: number): Promise<string> {
  const inv = creator.invoice()
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(amountMsat, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + 100,
    recipient: creator.nodeId,
  })
  return inv.hash
}
const idle = (hub: InProcessHub): Promise<void> => hub.until(() => hub.manager.all().every(ch => ch.driver.pending === 0), 'hub idle')

t.test('a payment forwarded, then fulfilled with its fee', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator()
  const hash = await pay(hub, platform, creator, 50_000)
  await hub.until(() => hub.payments.some(e => e.type === 'fulfilled'), 'fulfilled')
  t.match(hub.payments, [
    { type: 'forwarded', paymentHash: hash, amountMsat: amountToOffer(50_000, FEES), payee: creator.nodeId },
    { type: 'fulfilled', paymentHash: hash, amountMsat: amountToOffer(50_000, FEES), feeMsat: amountToOffer(50_000, FEES) - 50_000 },
  ])
  t.equal(hub.payments.length, 2, 'nothing else')
})

t.test('a hold that ended is reported failed once, not again when a restart fails it upstream again', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator({ router: { holdMs: 600_000 } })
  hub.disconnect(creator)
  const hash = await pay(hub, platform, creator, 9_000)
  await hub.until(() => hub.holds.all().length === 1, 'held')
  // The payer goes away as the end of the hold is recorded: its fail is sent again after the restart.
  let cut = false
  hub.store.onWrite = ops => {
    const h = ops.find(o => o.key.startsWith('hold/'))
    if (!cut && h?.type === 'put' && (parseJsonValue(h.value) as { state: string }).state === 'failed') {
      cut = true; hub.disconnect(platform)
    }
  }
  hub.height = hub.holds.all()[0]!.untilHeight + 1
  hub.router.block(hub.height)
  await hub.until(() => cut && hub.payments.some(e => e.type === 'failed'), 'the hold ended')
  await idle(hub)
  await hub.crash()
  await hub.start()
  hub.connect(creator)
  hub.connect(platform)
  await hub.until(() => platform.settled && platform.events.some(e => e.type === 'htlc_failed'), 'failed back after the restart')
  const failed = hub.payments.filter(e => e.type === 'failed')
  t.equal(failed.length, 1, 'reported failed once')
  t.match(failed[0], { paymentHash: hash, reason: 'recipient_offline' }, 'with its reason')
})
