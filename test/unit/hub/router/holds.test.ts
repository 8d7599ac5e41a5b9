// Payments held for an offline payee (hub/router/holds.ts), in-process over a FaultyStore: the hold is
// stored before the payer hears payment_held, survives a restart with its deadline, becomes the
// payment's circuit in one batch when the payee returns, ends at its time or height deadline, and is
// refused past the payee's caps, always with recipient_offline and the hub's words.
import t from 'tap'
import { amountToOffer } from '../../../../protocol/forwarding.ts'
import { parseJsonValue } from '../../../../host/store/index.ts'
import { parseHubConfig } from '../../../../hub/config.ts'
import { DEFAULT_HOLD_MS, DEFAULT_MAX_HELD_PER_PAYEE } from '../../../../protocol/limits.ts'
import { hubWithPlatformAndCreator, type Client, type InProcessHub } from '../fixtures/hub-harness.ts'

const FEES = { feeBaseMsat: 1_000, feePpm: 100 }
/** The harness hub's defaults: cltvExpiryDelta and minFinalCltvExpiry. */
const DELTA = 40
const MIN_FINAL = 18

async function pay (hub: InProcessHub, platform: Client, creator: Client, amountMsat: number, cltvAbove = 100): Promise<string> {
  const inv = creator.invoice()
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(amountMsat, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + cltvAbove,
    recipient: creator.nodeId,
  })
  return inv.hash
}

const fulfilled = (c: Client, hash: string): number => c.events.filter(e => e.type === 'htlc_fulfilled' && e.paymentHash === hash).length
const failures = (c: Client, hash: string): Array<{ reason: string; detail?: string }> => c.events.flatMap(
  e => e.type === 'htlc_failed' && e.paymentHash === hash ? [{
    reason: e.reason, ...(e.detail !== undefined ? { detail: e.detail } : {})
  }] : [],
)
const heldMessages = (
  c: Client, hash: string,
): number => c.received.filter(m => m.type === 'payment_held' && m.payment_hash === hash).length
const holdsFor = (hub: InProcessHub, hash: string): number => hub.holds.all().filter(h => h.in.paymentHash === hash).length
async function storedHolds (hub: InProcessHub): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = []
  for await (const [, v] of hub.inner.iterate('hold/')) out.push(parseJsonValue(v) as Record<string, unknown>)
  return out
}
const idle = (hub: InProcessHub): Promise<void> => hub.until(() => hub.manager.all().every(ch => ch.driver.pending === 0), 'hub idle')

t.test('a payment for an offline payee is stored as held before the payer hears payment_held', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator({ router: { holdMs: 600_000 } })
  hub.disconnect(creator)
  let stalled = false
  hub.store.onWrite = ops => { if (!stalled && ops.some(o => o.key.startsWith('hold/'))) { stalled = true; hub.store.stall() } }
  const hash = await pay(hub, platform, creator, 12_000)
  await hub.until(() => stalled, 'the hold is being written')
  await hub.store.waitForStalled(1)
  for (let i = 0; i < 200; i++) await new Promise(resolve => setImmediate(resolve))
  t.equal(heldMessages(platform, hash), 0, 'no payment_held while the hold is not durable')
  hub.store.release()
  await hub.until(() => heldMessages(platform, hash) === 1, 'payment_held once the hold is durable')
  const msg = platform.received.find(m => m.type === 'payment_held')
  t.match(msg, { type: 'payment_held', channel_id: platform.driver!.channelId, id: 0, until_height: hub.height + 100 - DELTA - MIN_FINAL })
  const stored = await storedHolds(hub)
  t.equal(stored.length, 1, 'one hold stored')
  t.match(stored[0], { state: 'held', recipient: creator.nodeId, outAmountMsat: 12_000, in: { paymentHash: hash } })
  t.notOk(JSON.stringify(stored[0]).includes(creator.preimages.get(hash)!), 'the hold does not contain the preimage')
  t.ok(hub.log.events.some(e => e.event === 'payment_held' && e.payment_hash === hash && e.amount_msat === 12_000), 'logged')
})

t.test('the hub restarts while a payment is held: the hold and its deadline survive, and the payee gets it once', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator({ router: { holdMs: 600_000 } })
  const c0 = creator.balanceMsat
  hub.disconnect(creator)
  const hash = await pay(hub, platform, creator, 21_000)
  await hub.until(() => heldMessages(platform, hash) === 1, 'held')
  const before = hub.holds.all()[0]!
  await idle(hub)
  await hub.crash()
  await hub.start()
  t.same(
    hub.holds.all().map(h => [h.in.paymentHash, h.untilTime, h.heldAt]), [[hash, before.untilTime, before.heldAt]],
    'the hold, with its deadline',
  )
  hub.connect(platform)
  await hub.until(() => heldMessages(platform, hash) === 2, 'payment_held again once the payer\'s channel is back')
  let circuitBatch: string[] = []
  hub.store.onWrite = ops => {
    if (circuitBatch.length === 0 && ops.some(o => o.key.startsWith('fwd/'))) circuitBatch = ops.map(
      o => `${o.type}:${o.key.split('/')[0]}`
    )
  }
  hub.connect(creator)
  await hub.until(() => fulfilled(platform, hash) === 1 && platform.settled && creator.settled, 'paid once the payee came back')
  t.same(circuitBatch.sort(), ['del:hold', 'put:fwd'], 'the circuit replaced the hold in one batch')
  t.equal(creator.balanceMsat - c0, 21_000, 'the payee got the amount, once')
  t.same(await storedHolds(hub), [], 'no hold left')
})

t.test('past router.holdMs the payment fails back with recipient_offline and the hub\'s words; a restart after the deadline fails it too', async t => {
  const quick = await hubWithPlatformAndCreator({ router: { holdMs: 50 } })
  quick.hub.disconnect(quick.creator)
  const p0 = quick.platform.balanceMsat
  const h1 = await pay(quick.hub, quick.platform, quick.creator, 9_000)
  await quick.hub.until(() => failures(quick.platform, h1).length === 1 && quick.platform.settled, 'failed back', 10_000_000)
  t.match(
    failures(quick.platform, h1),
    [{ reason: 'recipient_offline', detail: new RegExp(`${quick.creator.nodeId} did not come back within 0 s`) }],
  )
  t.equal(quick.platform.balanceMsat, p0, 'the payer lost nothing')
  await quick.hub.until(() => holdsFor(quick.hub, h1) === 0, 'the hold is forgotten once the fail is committed')

  // A hold whose deadline passes while the hub is down ends at the restart (its deadline was stored).
  const { hub, platform, creator } = await hubWithPlatformAndCreator({ router: { holdMs: 300 } })
  hub.disconnect(creator)
  const h2 = await pay(hub, platform, creator, 9_000)
  await hub.until(() => heldMessages(platform, h2) === 1, 'held')
  await idle(hub)
  await hub.crash()
  await new Promise(resolve => setTimeout(resolve, 400))
  await hub.start() // the payee is back too, but only after the deadline
  hub.connect(platform)
  hub.connect(creator)
  await hub.until(() => failures(platform, h2).length === 1 && platform.settled, 'failed back after the restart')
  t.same(failures(platform, h2).map(f => f.reason), ['recipient_offline'])
  t.equal(creator.events.filter(e => e.type === 'htlc_received' && e.htlc.paymentHash === h2).length, 0, 'never forwarded')
})

t.test('a block past the payment\'s last forwarding height ends the hold', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator({ router: { holdMs: 600_000 } })
  hub.disconnect(creator)
  const hash = await pay(hub, platform, creator, 9_000)
  await hub.until(() => heldMessages(platform, hash) === 1, 'held')
  const until = hub.holds.all()[0]!.untilHeight
  hub.router.block(until)
  await idle(hub)
  t.equal(failures(platform, hash).length, 0, 'at the last height it still waits')
  hub.router.block(until + 1)
  await hub.until(() => failures(platform, hash).length === 1, 'failed back')
  t.match(failures(platform, hash), [{ reason: 'recipient_offline', detail: new RegExp(`before block ${until + 1}`) }])
})

t.test('a hold that ended is recorded before the fail leaves: a restart fails it again and never forwards it', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator({ router: { holdMs: 600_000 } })
  hub.disconnect(creator)
  const hash = await pay(hub, platform, creator, 9_000)
  await hub.until(() => heldMessages(platform, hash) === 1, 'held')
  let cut = false
  hub.store.onWrite = ops => {
    const h = ops.find(o => o.key.startsWith('hold/'))
    if (!cut && h?.type === 'put' && (parseJsonValue(h.value) as { state: string }).state === 'failed') {
      cut = true; hub.disconnect(platform)
    }
  }
  hub.height = hub.holds.all()[0]!.untilHeight + 1
  hub.router.block(hub.height)
  await hub.until(() => cut, 'the end of the hold being recorded')
  for (let i = 0; i < 1_000 && (await storedHolds(hub))[0]?.state !== 'failed'; i++) await new Promise(resolve => setImmediate(resolve))
  t.match(await storedHolds(hub), [{ state: 'failed', reason: 'recipient_offline' }], 'the end of the hold is stored')
  await idle(hub)
  await hub.crash()
  await hub.start()
  hub.connect(creator)
  hub.connect(platform)
  await hub.until(() => failures(platform, hash).length === 1 && platform.settled, 'failed back after the restart')
  t.same(failures(platform, hash).map(f => f.reason), ['recipient_offline'])
  t.equal(
    creator.events.filter(e => e.type === 'htlc_received' && e.htlc.paymentHash === hash).length, 0,
    'the payee, online again, never got it',
  )
})

t.test('the payee\'s caps: count and amount held; past either the payment fails back at once with recipient_offline', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator({
    router: { holdMs: 600_000, maxHeldPerPayee: 2, maxHeldMsatPerPayee: 50_000 }
  })
  hub.disconnect(creator)
  const a = await pay(hub, platform, creator, 10_000)
  const b = await pay(hub, platform, creator, 10_000)
  await hub.until(() => heldMessages(platform, a) + heldMessages(platform, b) === 2, 'two held')
  const c = await pay(hub, platform, creator, 10_000)
  await hub.until(() => failures(platform, c).length === 1, 'the third refused')
  t.match(failures(platform, c), [{ reason: 'recipient_offline', detail: /holds 2 payments for it already \(router\.maxHeldPerPayee\)/ }])
  t.equal(heldMessages(platform, c), 0, 'never held')

  const big = await hubWithPlatformAndCreator({ router: { holdMs: 600_000, maxHeldMsatPerPayee: 50_000 } })
  big.hub.disconnect(big.creator)
  const d = await pay(big.hub, big.platform, big.creator, 30_000)
  await big.hub.until(() => heldMessages(big.platform, d) === 1, 'held')
  const e = await pay(big.hub, big.platform, big.creator, 20_001)
  await big.hub.until(() => failures(big.platform, e).length === 1, 'refused')
  t.match(failures(big.platform, e), [{
    reason: 'recipient_offline',
    detail: /holds 30000 msat for it already: 20001 msat more is over router\.maxHeldMsatPerPayee \(50000 msat\)/,
  }])
  const f = await pay(big.hub, big.platform, big.creator, 20_000)
  await big.hub.until(() => heldMessages(big.platform, f) === 1, 'exactly up to the cap is held')
  big.hub.connect(big.creator)
  await big.hub.until(() => fulfilled(big.platform, d) + fulfilled(big.platform, f) === 2, 'both delivered when the payee returns')
})

t.test('config: the hold settings are bounded, with their defaults from protocol/limits.ts', async t => {
  const bad = (o: object): string => { const r = parseHubConfig({ dataDir: '/d', ...o }); return r.ok ? 'accepted' : r.error }
  t.match(bad({ router: { holdMs: 604_800_001 } }), /^router\.holdMs: /, 'a hold over a week')
  t.match(bad({ router: { maxHeldPerPayee: 0 } }), /^router\.maxHeldPerPayee: /)
  t.match(bad({ router: { maxHeldPerPayee: 484 } }), /^router\.maxHeldPerPayee: /)
  t.match(bad({ router: { maxHeldMsatPerPayee: 0 } }), /^router\.maxHeldMsatPerPayee: /)
  const d = parseHubConfig({ dataDir: '/d' })
  t.same(d.ok && [d.config.router.holdMs, d.config.router.maxHeldPerPayee, d.config.router.maxHeldMsatPerPayee],
    [DEFAULT_HOLD_MS, DEFAULT_MAX_HELD_PER_PAYEE, undefined])
  const some = parseHubConfig({ dataDir: '/d', router: { holdMs: 5 } })
  t.equal(some.ok && some.config.router.maxHeldPerPayee, DEFAULT_MAX_HELD_PER_PAYEE, 'the default also when only holdMs is set')
})
