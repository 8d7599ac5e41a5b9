// What the chain decided about an HTLC the hub offered downstream enters the router by name
// (Router.failedOnChain, Router.fulfilledOnChain; hub/channels/monitoring.ts calls them when the
// downstream channel's monitor reports it): the payment fails or is fulfilled upstream, once. Here the
// payee holds its HTLC past the hub's deadline, so the downstream channel fails as it does before its
// monitor goes on-chain; the monitor's report is then handed to the router directly.
import t from 'tap'
import { amountToOffer } from '../../../../protocol/forwarding.ts'
import { OFFERED_HTLC_GRACE_BLOCKS } from '../../../../protocol/limits.ts'
import type { ManagedChannel } from '../../../../hub/channels/manager.ts'
import { hubWithPlatformAndCreator, type Client, type InProcessHub } from '../fixtures/hub-harness.ts'

const FEES = { feeBaseMsat: 1_000, feePpm: 100 }

/** A payment the payee holds, then the downstream channel failed at the HTLC deadline. */
interface Held {
  hub: InProcessHub; platform: Client; down: ManagedChannel; hash: string; preimage: string; htlcId: number; balanceBefore: number
}
async function heldThenFailed (): Promise<Held> {
  const { hub, platform, creator } = await hubWithPlatformAndCreator({ router: { maxHoldBlocks: 30 } })
  const inv = creator.invoice()
  creator.hold.add(inv.hash)
  const balanceBefore = platform.balanceMsat
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(25_000, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + 1_000,
    recipient: creator.nodeId,
  })
  await hub.until(() => creator.events.some(e => e.type === 'htlc_received' && e.htlc.paymentHash === inv.hash), 'the payee received it')
  const received = creator.events.find(e => e.type === 'htlc_received' && e.htlc.paymentHash === inv.hash)
  if (received?.type !== 'htlc_received') throw new Error('no htlc_received')
  const down = hub.manager.get(creator.driver!.channelId)!
  hub.height = received.htlc.cltvExpiry + OFFERED_HTLC_GRACE_BLOCKS
  await hub.manager.block(hub.height)
  await hub.until(() => down.state.phase === 'failed', 'the downstream channel failed')
  await hub.until(() => hub.manager.all().every(ch => ch.driver.pending === 0), 'hub idle')
  return { hub, platform, down, hash: inv.hash, preimage: inv.preimage, htlcId: received.htlc.id, balanceBefore }
}

/** What the payer heard about the payment: `failed:<reason>` or `fulfilled:<preimage>`, in order. */
const upstream = (c: Client, hash: string): string[] => c.events.flatMap(e => {
  if (e.type === 'htlc_failed' && e.paymentHash === hash) return [`failed:${e.reason}`]
  if (e.type === 'htlc_fulfilled' && e.paymentHash === hash) return [`fulfilled:${e.preimage}`]
  return []
})

t.test('failedOnChain: the downstream HTLC timed out on-chain → the payment fails upstream, once', async t => {
  const { hub, platform, down, hash, htlcId, balanceBefore } = await heldThenFailed()
  t.same(upstream(platform, hash), [], 'nothing upstream while the chain has not decided')
  const failedBefore = hub.router.stats.failed
  hub.router.failedOnChain(down, htlcId)
  await hub.until(() => upstream(platform, hash).length > 0 && platform.settled, 'the payer heard the outcome')
  t.same(upstream(platform, hash), ['failed:permanent_channel_failure'], 'the payer\'s HTLC is failed with permanent_channel_failure')
  t.equal(platform.balanceMsat, balanceBefore, 'the payer has its amount back')
  t.equal(hub.router.stats.failed, failedBefore + 1, 'counted once as a failed payment')
  hub.router.failedOnChain(down, htlcId)
  await hub.until(() => hub.manager.all().every(ch => ch.driver.pending === 0), 'hub idle')
  t.same(upstream(platform, hash), ['failed:permanent_channel_failure'], 'a repeated report fails nothing twice')
  t.equal(hub.log.fatal.length, 0, 'no store failure')
})

t.test('fulfilledOnChain: the downstream HTLC claimed on-chain → the payment is fulfilled upstream with its preimage, once', async t => {
  const { hub, platform, down, hash, preimage, htlcId, balanceBefore } = await heldThenFailed()
  hub.router.fulfilledOnChain(down, htlcId, hash, preimage)
  await hub.until(() => upstream(platform, hash).length > 0 && platform.settled, 'the payer heard the outcome')
  t.same(upstream(platform, hash), [`fulfilled:${preimage}`], 'the payer\'s HTLC is fulfilled with the preimage the chain revealed')
  t.equal(balanceBefore - platform.balanceMsat, amountToOffer(25_000, FEES), 'the payer paid the amount it offered')
  hub.router.fulfilledOnChain(down, htlcId, hash, preimage)
  await hub.until(() => hub.manager.all().every(ch => ch.driver.pending === 0), 'hub idle')
  t.same(upstream(platform, hash), [`fulfilled:${preimage}`], 'a repeated report fulfils nothing twice')
  t.equal(hub.log.fatal.length, 0, 'no store failure')
})
