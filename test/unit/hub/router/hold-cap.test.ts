// How long a payee may hold an HTLC the hub forwarded (config router.maxHoldBlocks; hub/router/router.ts
// says why it is an expiry): the downstream HTLC expires at most maxHoldBlocks above the current height,
// whatever the payer's expiry. A payee that neither fulfils nor fails by then (plus the BOLT #2 grace)
// gets its channel failed by the hub, and the payment is NOT failed upstream while the payee could still
// fulfil (the chain monitor times it out on-chain first; test/e2e covers that leg).
import t from 'tap'
import { amountToOffer } from '../../../../protocol/forwarding.ts'
import { DEFAULT_MAX_PAYEE_HOLD_BLOCKS, OFFERED_HTLC_GRACE_BLOCKS } from '../../../../protocol/limits.ts'
import { parseHubConfig } from '../../../../hub/config.ts'
import { hubWithPlatformAndCreator, type Client, type InProcessHub } from '../fixtures/hub-harness.ts'

const FEES = { feeBaseMsat: 1_000, feePpm: 100 }
const DELTA = 40 // the hub's default cltvExpiryDelta

async function pay (hub: InProcessHub, platform: Client, creator: Client, cltvAbove: number, hold = false): Promise<string> {
  const inv = creator.invoice()
  if (hold) creator.hold.add(inv.hash)
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(25_000, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + cltvAbove,
    recipient: creator.nodeId,
  })
  await hub.until(() => creator.events.some(e => e.type === 'htlc_received' && e.htlc.paymentHash === inv.hash), 'the payee received it')
  return inv.hash
}
const received = (c: Client, hash: string): number => {
  const e = c.events.find(x => x.type === 'htlc_received' && x.htlc.paymentHash === hash)
  return e?.type === 'htlc_received' ? e.htlc.cltvExpiry : -1
}

t.test('a forwarded HTLC expires at most router.maxHoldBlocks above the height, however far out the payer\'s expiry is', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator()
  const far = await pay(hub, platform, creator, 1_000)
  t.equal(received(creator, far), hub.height + DEFAULT_MAX_PAYEE_HOLD_BLOCKS, `capped at height + ${DEFAULT_MAX_PAYEE_HOLD_BLOCKS}`)
  const near = await pay(hub, platform, creator, 100)
  t.equal(received(creator, near), hub.height + 100 - DELTA, 'below the cap: the incoming expiry minus the delta, as before')

  const tight = await hubWithPlatformAndCreator({ router: { maxHoldBlocks: 30 } })
  const h = await pay(tight.hub, tight.platform, tight.creator, 1_000)
  t.equal(received(tight.creator, h), tight.hub.height + 30, 'the configured cap')
})

t.test('a payee that holds past the cap: the hub fails its channel, and never fails the payment upstream while the payee can still fulfil', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator({ router: { maxHoldBlocks: 30 } })
  const hash = await pay(hub, platform, creator, 1_000, true)
  const expiry = received(creator, hash)
  const down = hub.manager.get(creator.driver!.channelId)!
  hub.height = expiry + OFFERED_HTLC_GRACE_BLOCKS - 1
  await hub.manager.block(hub.height)
  await hub.until(() => down.driver.pending === 0, 'block stepped')
  t.equal(down.state.phase, 'normal', 'within the grace the channel stays up')
  hub.height += 1
  await hub.manager.block(hub.height)
  await hub.until(() => down.state.phase === 'failed', 'the downstream channel failed')
  t.ok(
    hub.log.events.some(e => e.event === 'channel_failed' && e.channel_id === down.channelId && e.reason === 'htlc_deadline'),
    'for the HTLC deadline (the monitor times it out on-chain)',
  )
  await hub.until(() => hub.manager.all().every(ch => ch.driver.pending === 0), 'hub idle')
  t.notOk(platform.events.some(e => e.type === 'htlc_failed' && e.paymentHash === hash), 'the payment is not failed upstream yet')
  t.ok(platform.driver!.state.localCommit!.spec.htlcs.some(h => h.paymentHash === hash), "the payer's HTLC is still committed")
})

t.test('config: router.maxHoldBlocks is bounded and at least minFinalCltvExpiry', async t => {
  const bad = (o: object): string => { const r = parseHubConfig({ dataDir: '/d', ...o }); return r.ok ? 'accepted' : r.error }
  t.match(bad({ router: { maxHoldBlocks: 17 } }), /^router\.maxHoldBlocks: /, 'below 18')
  t.match(bad({ router: { maxHoldBlocks: 2_017 } }), /^router\.maxHoldBlocks: /, 'above 2016')
  t.match(bad({ minFinalCltvExpiry: 60, router: { maxHoldBlocks: 40 } }), /^router\.maxHoldBlocks: must be at least minFinalCltvExpiry/)
  t.equal(bad({ minFinalCltvExpiry: 40, router: { maxHoldBlocks: 40 } }), 'accepted')
  const d = parseHubConfig({ dataDir: '/d' })
  t.equal(d.ok && d.config.router.maxHoldBlocks, DEFAULT_MAX_PAYEE_HOLD_BLOCKS, 'the default from protocol/limits.ts')
  const holdOnly = parseHubConfig({ dataDir: '/d', router: { holdMs: 5 } })
  t.equal(
    holdOnly.ok && holdOnly.config.router.maxHoldBlocks, DEFAULT_MAX_PAYEE_HOLD_BLOCKS,
    'the default also when only holdMs is set (--hold-ms)',
  )
})
