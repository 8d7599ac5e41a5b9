// Scenario 9: forwarding across a crash. The hub is SIGKILLed between accepting an incoming HTLC and
// forwarding it (around the durable circuit write `circuit:forward`), and between the downstream
// fulfill and the upstream fulfill (around `circuit:fulfilled`, and the preimage write of the
// payee's update_fulfill_htlc). After the restart the hub reconciles its circuits with its channels:
// the payment is forwarded once (never twice), the fulfill reaches the payer (never lost), and a
// failed payment fails back once (`circuit:failed`).
import t from 'tap'
import { useBtcd } from '../helpers/btcd.ts'
import { waitFor, startHubPlatformCreator } from '../helpers/hub.ts'
import { crashAndRecover, type CrashRig } from './crash-rig.ts'
import type { HubClient } from '../../client-sdk/index.ts'

t.test('scenario 9: crash between the two halves of a forward: no double forward, no lost fulfill', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(
    btc, t, { name: 'chaos-forward', hubSat: 3_000_000, platformCapacitySat: 1_000_000 },
  )
  const rig: CrashRig = { t, hub, platform, creator, received: 0, n: 0 }
  creator.on('payment_received', () => { rig.received++ })

  for (const point of ['circuit:forward', 'circuit:fulfilled']) {
    for (const phase of ['before', 'after'] as const) {
      t.ok(await crashAndRecover(rig, `${phase}:${point}:1`), `${phase}:${point}: the hub died there and recovered`)
    }
  }

  // A payment the payee refuses (an invoice it cancelled): crash around the failure's circuit
  // write; the payer gets the failure once and its balance is back where it was.
  for (const phase of ['before', 'after'] as const) {
    await hub.restart({ HUB_CRASH_AT: `${phase}:circuit:failed:1` })
    await platform.untilReestablished()
    await creator.untilReestablished()
    const before = platform.channels()[0]!.localMsat
    const other = await cancelledInvoice(creator)
    const died = hub.exited().then(() => 'died' as const)
    const paying = platform.pay(other)
    const first = await Promise.race([died, paying.then(() => 'paid' as const)])
    t.equal(first, 'died', `${phase}:circuit:failed: the hub died at the failure`)
    await hub.restart()
    const r = await paying
    t.equal(r.ok, false, `${phase}:circuit:failed: the payment failed`)
    if (!r.ok) t.equal(r.reason, 'incorrect_or_unknown_payment_details', `${phase}:circuit:failed: with the payee's reason`)
    await platform.untilReestablished()
    await waitFor(() => platform.channels()[0]!.settled, 'the failed HTLC removed')
    t.equal(platform.channels()[0]!.localMsat, before, `${phase}:circuit:failed: the platform's balance is back, nothing lost`)
  }
})

/** An invoice the creator issued and then cancelled: it refuses the payment when it arrives. */
async function cancelledInvoice (creator: HubClient): Promise<string> {
  const inv = await creator.createInvoice({ amountMsat: 30_000, memo: 'cancelled' })
  await creator.cancelInvoice(inv.paymentHash)
  return inv.invoice
}
