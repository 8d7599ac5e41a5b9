// The hub's router and channel manager in-process (no sockets, no chain), over a FaultyStore:
// forwarding with the fee, the circuit written before the downstream add, crashes between the two
// halves of a forward (scenario 9), typed failures, held payments for an offline payee, and a node id
// that touches a channel not its own (scenario 19). Opening limits: test/unit/hub/channels/opening.test.ts.
import t from 'tap'
import { amountToOffer } from '../../../../protocol/forwarding.ts'
import type { Msat } from '../../../../protocol/types.ts'
import { parseJsonValue } from '../../../../host/store/index.ts'
import { nodeIdOf } from '../../../../protocol/auth/signature.ts'
import { Client, InProcessHub, hubWithPlatformAndCreator, seed } from '../fixtures/hub-harness.ts'

const FEES = { feeBaseMsat: 1_000, feePpm: 100 }

const setup = hubWithPlatformAndCreator

/** The platform offers an HTLC for the creator's invoice; resolves with the payment hash. */
async function pay (hub: InProcessHub, platform: Client, creator: Client, amountMsat: number): Promise<string> {
  const inv = creator.invoice()
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(amountMsat, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + 100,
    recipient: creator.nodeId,
  })
  return inv.hash
}

const fulfilled = (c: Client, hash: string): number => c.events.filter(e => e.type === 'htlc_fulfilled' && e.paymentHash === hash).length
const failed = (
  c: Client, hash: string,
): Array<string> => c.events.flatMap(e => e.type === 'htlc_failed' && e.paymentHash === hash ? [e.reason] : [])
const receivedBy = (
  c: Client, hash: string,
): number => c.events.filter(e => e.type === 'htlc_received' && e.htlc.paymentHash === hash).length

t.test('a payment is forwarded with the fee, fulfilled upstream, and its circuit forgotten once settled', async t => {
  const { hub, platform, creator } = await setup()
  const p0 = platform.balanceMsat; const c0 = creator.balanceMsat
  const sawCircuitBeforeAdd: boolean[] = []
  hub.store.onWrite = ops => {
    if (ops.some(o => o.key.startsWith('fwd/'))) sawCircuitBeforeAdd.push(!creator.received.some(m => m.type === 'update_add_htlc'))
  }
  const hash = await pay(hub, platform, creator, 50_000)
  await hub.until(() => fulfilled(platform, hash) === 1 && platform.settled && creator.settled, 'payment settled')
  t.equal(sawCircuitBeforeAdd[0], true, 'the circuit was written before the downstream update_add_htlc left')
  t.equal(receivedBy(creator, hash), 1, 'the creator got the HTLC once')
  t.equal(creator.balanceMsat - c0, 50_000, 'the creator gained the amount')
  t.equal(p0 - platform.balanceMsat, 50_000 + 1_000 + 5, 'the platform paid amount + base fee + 100 ppm')
  t.equal(hub.router.stats.feesMsat, 1_005, 'the hub counted its fee')
  await hub.until(() => hub.circuits.all().length === 0, 'circuit removed')
  const stored = async (): Promise<string[]> => {
    const ks: string[] = []; for await (const [k] of hub.inner.iterate('fwd/')) ks.push(k); return ks
  }
  for (let i = 0; i < 1000 && (await stored()).length > 0; i++) await new Promise(resolve => setImmediate(resolve))
  t.same(await stored(), [], 'no circuit left in the store')
})

t.test('typed failures: unknown recipient, fee too small, expiry too soon', async t => {
  const { hub, platform, creator } = await setup()
  const stranger = new Client()
  const h1 = stranger.invoice().hash
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: 10_000 as Msat, paymentHash: h1, cltvExpiry: hub.height + 100, recipient: stranger.nodeId,
  })
  const h2 = creator.invoice().hash
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: 999 as Msat, paymentHash: h2, cltvExpiry: hub.height + 100, recipient: creator.nodeId,
  })
  const h3 = creator.invoice().hash
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: 20_000 as Msat, paymentHash: h3, cltvExpiry: hub.height + 50, recipient: creator.nodeId,
  })
  await hub.until(() => failed(platform, h1).length + failed(platform, h2).length + failed(platform, h3).length === 3, 'three failures')
  t.same(failed(platform, h1), ['unknown_next_peer'], 'no channel to the recipient')
  t.same(failed(platform, h2), ['fee_insufficient'], 'the amount does not cover the fee')
  t.same(failed(platform, h3), ['expiry_too_soon'], 'the expiry leaves no room for the delta')
  t.equal(receivedBy(creator, h2) + receivedBy(creator, h3), 0, 'nothing reached the creator')
})

t.test('the payee refuses: its failure goes back upstream, once', async t => {
  const { hub, platform, creator } = await setup()
  const p0 = platform.balanceMsat
  const inv = creator.invoice()
  creator.refuse.add(inv.hash)
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(7_000, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + 100,
    recipient: creator.nodeId,
  })
  await hub.until(() => failed(platform, inv.hash).length === 1 && platform.settled, 'failed back')
  t.same(failed(platform, inv.hash), ['incorrect_or_unknown_payment_details'], "with the payee's reason")
  t.equal(platform.balanceMsat, p0, 'the platform lost nothing')
})

t.test('scenario 9: crash after the circuit is stored, before the downstream add arrives: forwarded once', async t => {
  const { hub, platform, creator } = await setup()
  const c0 = creator.balanceMsat
  let crashed = false
  hub.store.onWrite = ops => {
    // The circuit write reaches the store; the creator's link dies with the "process" right after.
    if (!crashed && ops.some(o => o.key.startsWith('fwd/'))) { crashed = true; hub.disconnect(creator) }
  }
  const hash = await pay(hub, platform, creator, 40_000)
  await hub.until(() => crashed, 'circuit written')
  await hub.until(() => hub.manager.all().every(ch => ch.driver.pending === 0), 'hub idle')
  await hub.crash()
  await hub.start()
  hub.connect(platform)
  hub.connect(creator)
  await hub.until(() => fulfilled(platform, hash) === 1 && platform.settled && creator.settled, 'payment completed after the restart')
  t.equal(receivedBy(creator, hash), 1, 'the creator received the HTLC exactly once')
  t.equal(creator.balanceMsat - c0, 40_000, 'and was paid once')
})

t.test('scenario 9: crash after the downstream fulfill, before the upstream fulfill: not lost', async t => {
  const { hub, platform, creator } = await setup()
  const p0 = platform.balanceMsat
  let cut = false
  hub.store.onWrite = ops => {
    const circuit = ops.find(o => o.key.startsWith('fwd/'))
    if (!cut && circuit !== undefined && circuit.type === 'put' &&
      (parseJsonValue(circuit.value) as { state: string }).state === 'fulfilled') {
      cut = true
      hub.disconnect(platform) // the upstream fulfill cannot leave before the crash
    }
  }
  const hash = await pay(hub, platform, creator, 30_000)
  await hub.until(() => cut, 'downstream fulfilled')
  await hub.until(() => hub.manager.all().every(ch => ch.driver.pending === 0), 'hub idle')
  t.equal(fulfilled(platform, hash), 0, 'the platform has no preimage yet')
  await hub.crash()
  await hub.start()
  hub.connect(platform)
  hub.connect(creator)
  await hub.until(() => fulfilled(platform, hash) === 1 && platform.settled, 'the fulfill reached the platform after the restart')
  t.equal(p0 - platform.balanceMsat, 30_000 + 1_003, 'the platform paid once')
})

t.test('a payee that is offline is held until it returns; past the deadline it fails recipient_offline', async t => {
  const { hub, platform, creator } = await setup({ router: { holdMs: 600_000 } })
  hub.disconnect(creator)
  const hash = await pay(hub, platform, creator, 11_000)
  await hub.until(() => hub.log.events.some(e => e.event === 'payment_held'), 'held')
  hub.connect(creator)
  await hub.until(() => fulfilled(platform, hash) === 1, 'completed once the payee came back')
  t.equal(receivedBy(creator, hash), 1, 'delivered once (held, then forwarded exactly once)')

  const quick = await setup({ router: { holdMs: 20 } })
  quick.hub.disconnect(quick.creator)
  const h2 = await pay(quick.hub, quick.platform, quick.creator, 11_000)
  await quick.hub.until(() => failed(quick.platform, h2).length === 1, 'failed back', 10_000_000)
  t.same(failed(quick.platform, h2), ['recipient_offline'], 'typed reason: recipient_offline')
})

t.test('scenario 19: a node id cannot touch a channel that is not its own', async t => {
  const { hub, platform, creator } = await setup()
  const victim = hub.manager.get(creator.driver!.channelId)!
  const before = JSON.stringify(victim.driver.state)
  platform.hubSend({
    type: 'update_add_htlc', channel_id: creator.driver!.channelId, id: 0, amount_msat: 1_000 as Msat, payment_hash: '11'.repeat(32),
    cltv_expiry: 300 as never, recipient: platform.nodeId,
  })
  platform.hubSend({ type: 'shutdown', channel_id: creator.driver!.channelId, scriptpubkey: '0014' + '55'.repeat(20) })
  await hub.until(
    () => platform.received.filter(m => m.type === 'error' && m.data.startsWith('not_your_channel')).length === 2, 'two refusals',
  )
  t.equal(JSON.stringify(victim.driver.state), before, "the creator's channel is untouched")
  t.equal(hub.manager.get(platform.driver!.channelId)!.driver.state.phase, 'normal', "the sender's own channel is untouched too")
})

t.test('a payment to the hub under a rotated node key (either id during the grace, the new one after) is refused as to the hub', async t => {
  const { hub, platform } = await setup()
  const rotatedTo = nodeIdOf(seed('hub-rotated'))
  const payHub = async (recipient: typeof rotatedTo): Promise<string> => {
    const hash = new Client().invoice().hash
    await platform.driver!.command({
      type: 'add_htlc', amountMsat: 20_000 as Msat, paymentHash: hash, cltvExpiry: hub.height + 100, recipient,
    })
    return hash
  }
  hub.hubIds = [rotatedTo, hub.hubId]
  const toNew = await payHub(rotatedTo)
  const toOld = await payHub(hub.hubId)
  await hub.until(() => failed(platform, toNew).length + failed(platform, toOld).length === 2, 'both refused')
  t.same(failed(platform, toNew), ['incorrect_or_unknown_payment_details'], 'during the grace: the new id is the hub\'s')
  t.same(failed(platform, toOld), ['incorrect_or_unknown_payment_details'], '... and so is the one on its way out')
  hub.hubIds = [rotatedTo]
  const after = await payHub(rotatedTo)
  await hub.until(() => failed(platform, after).length === 1, 'refused after the grace')
  t.same(failed(platform, after), ['incorrect_or_unknown_payment_details'], 'after the grace: the new id only')
  t.equal(hub.holds.all().length, 0, 'nothing held for the hub as if it were an offline payee')
})
