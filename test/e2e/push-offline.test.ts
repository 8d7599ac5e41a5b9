// Push payments to a node id (pay({ to })) and payments held for an offline payee, real everything: a
// btcd regtest node, the hub as a child process, the platform as an SDK client over WebSockets, the
// creator as an SDK client in a process of its own (so it can be SIGKILLed). In order:
//   - a push payment to a creator that is online is paid at once;
//   - the creator's process is killed: push payments to it come back `pending`, held by the hub (a
//     stored hold, no preimage in it or in the hub's log); past the payee's caps they fail back at
//     once with recipient_offline and the hub's words;
//   - the hub is SIGKILLed and restarted while they are held: the holds are still there;
//   - the creator comes back a while later and gets every held payment once;
//   - a hold ends at the last height the payment's expiry allows: recipient_offline;
//   - the same platform from a second data directory pays an order again under its key: the hub
//     refuses it (duplicate_payment), and a used key with another amount (idempotency_key_reused);
// and every balance (platform, creator, hub) is exact to the msat after each step.
import path from 'node:path'
import t from 'tap'
import { forwardingFee } from '../../protocol/forwarding.ts'
import { LevelStore } from '../../host/store/node/level-store.ts'
import type { ChannelInfo, PayResult } from '../../client-sdk/index.ts'
import type { InvoiceInfo, Page } from '../../client-sdk/listing.ts'
import { useBtcd } from '../helpers/btcd.ts'
import {
  fundHub, HUB_STORE_DIR, hubChannelStates, mineTx, openFundedChannel, randomKey, startClient, startHub, tempDir, waitFor,
} from '../helpers/hub.ts'
import { startSdkProcess } from '../chaos/sdk-process.ts'
import { admin } from './monitor/helpers.ts'

const CAPACITY_SAT = 1_000_000
/** The hub's hold settings: two minutes, longer than the creator stays away (about 45 s, across the hub's restart). */
const HOLD = { holdMs: 120_000, maxHeldPerPayee: 2, maxHeldMsatPerPayee: 200_000 }

t.test('e2e: push payments, held for an offline creator across its crash and the hub\'s, delivered once it returns', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-push-offline')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { router: HOLD } }, t)
  await fundHub(btc, hub, 3_000_000)
  const platformKey = randomKey()
  const platform = await startClient(
    { hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', nodeKey: platformKey, payTimeoutMs: 30_000 }, t,
  )
  await openFundedChannel(btc, platform, CAPACITY_SAT)
  const creator = await startSdkProcess(
    { name: 'creator', dataDir: path.join(dir, 'creator'), nodeKey: randomKey(), hub, btc, role: 'creator' }, t,
  )
  const creatorChannel = async (): Promise<ChannelInfo> => (await creator.call<ChannelInfo[]>('channels'))[0]!
  const requesting = creator.call('request')
  await waitFor(async () => (await creator.call<ChannelInfo[]>('channels')).some(c => c.fundingTxid !== null), 'the hub\'s funding')
  await mineTx(btc, (await creatorChannel()).fundingTxid!)
  await requesting
  const creatorChannelId = creatorChannel().then(c => c.channelId)

  const policy = platform.hubPolicyInfo!
  const platformMsat = (): number => platform.channels()[0]!.localMsat
  const sent = new Map<string, { amountMsat: number; feeMsat: number; preimage: string }>()
  platform.on('payment_sent', e => { sent.set(e.paymentHash, { amountMsat: e.amountMsat, feeMsat: e.feeMsat, preimage: e.preimage }) })
  const failedEvents: Array<{ paymentHash: string; reason: string; detail: string }> = []
  platform.on('payment_failed', e => { failedEvents.push(e) })
  const received = (hash: string): Array<Record<string, unknown>> =>
    creator.events.filter(e => e.event === 'payment_received' && e.data.paymentHash === hash).map(e => e.data)
  // Every line the hub printed, across its restarts (a restart starts hub.lines afresh).
  const hubLines: Array<Record<string, unknown>> = []
  const keepLines = (): void => { hubLines.push(...hub.lines) }
  /** The hub's side of the creator's channel is down (the hub saw its process go). */
  const hubSeesCreatorDown = async (): Promise<void> => {
    const id = (await creatorChannelId)
    await waitFor(async () => {
      const r = await admin(hub, '/channels')
      return (r.body as Array<{ channel_id: string; link: string }>).some(c => c.channel_id === id && c.link === 'down')
    }, 'the hub to see the creator offline')
  }
  let paidMsat = 0
  let feesMsat = 0
  const settled = async (): Promise<void> => {
    await waitFor(async () => platform.channels()[0]!.settled && (await creatorChannel()).settled, 'both channels settled')
  }
  const exact = async (what: string): Promise<void> => {
    await settled()
    t.equal(platformMsat(), CAPACITY_SAT * 1000 - paidMsat - feesMsat, `${what}: platform balance = capacity − paid − fees`)
    t.equal((await creatorChannel()).localMsat, paidMsat, `${what}: creator balance = paid`)
  }

  // ── 1. the creator is online: paid at once ──
  const online = await platform.pay({ to: creator.nodeId, amountMsat: 42_000, reference: 'sale 1', idempotencyKey: 'push-1' })
  t.match(online, { ok: true, amountMsat: 42_000, feeMsat: forwardingFee(42_000, policy) }, 'paid at once')
  if (!online.ok) return
  paidMsat += 42_000
  feesMsat += online.feeMsat
  await waitFor(() => received(online.paymentHash).length > 0, 'payment_received at the creator')
  t.match(
    received(online.paymentHash)[0], { amountMsat: 42_000, push: true, reference: 'sale 1' },
    'the creator got it as a push payment, with the reference',
  )
  t.same(await platform.pay({ to: creator.nodeId, amountMsat: 42_000, reference: 'sale 1', idempotencyKey: 'push-1' }), online,
    'the same key again: the first outcome, nothing paid twice')
  t.match(await platform.pay({ to: creator.nodeId, amountMsat: 43_000, reference: 'sale 1', idempotencyKey: 'push-1' }),
    { ok: false, reason: 'idempotency_key_reused' }, 'the same key with another amount: refused')
  await exact('after the online payment')

  // ── 2. the creator's process is killed: held, within its caps ──
  await creator.kill()
  await hubSeesCreatorDown()
  const payHeld = async (amountMsat: number, reference: string, key: string): Promise<PayResult> =>
    await platform.pay({ to: creator.nodeId, amountMsat, reference, idempotencyKey: key })
  const a = await payHeld(60_000, 'sale 2', 'push-2')
  t.match(a, { ok: false, reason: 'pending', detail: /payee is offline and the hub holds the payment until/ }, 'pending: the hub holds it')
  const overMsat = await payHeld(150_000, 'sale 3', 'push-3')
  t.match(overMsat, {
    ok: false, reason: 'recipient_offline',
    detail: /holds 60000 msat for it already: 150000 msat more is over router\.maxHeldMsatPerPayee \(200000 msat\)/,
  },
    'over the amount cap: refused at once, with the hub\'s words')
  const b = await payHeld(70_000, 'sale 4', 'push-4')
  t.match(b, { ok: false, reason: 'pending' }, 'a second one within the caps: pending')
  const overCount = await payHeld(1_000, 'sale 5', 'push-5')
  t.match(
    overCount, { ok: false, reason: 'recipient_offline', detail: /holds 2 payments for it already \(router\.maxHeldPerPayee\)/ },
    'over the count cap: refused',
  )
  const heldHashes = [a.paymentHash!, b.paymentHash!]
  await waitFor(() => platform.channels()[0]!.settled === false && platform.channels()[0]!.inFlightMsat > 0, 'the held HTLCs in flight')
  await waitFor(() => failedEvents.length === 2, 'payment_failed for both refusals')
  t.same(failedEvents.map(e => e.reason), ['recipient_offline', 'recipient_offline'], 'payment_failed for each refusal')
  t.same(await payHeld(1_000, 'sale 5', 'push-5'), overCount, 'a refused payment asked again: its final failure')
  t.same([...sent.keys()], [online.paymentHash], 'nothing held was paid yet')

  // ── 3. the hub is SIGKILLed while they are held; its store holds them, without their preimages ──
  keepLines()
  await hub.kill()
  const store = await LevelStore.open(HUB_STORE_DIR(hub))
  const holds: string[] = []
  try { for await (const [, v] of store.iterate('hold/')) holds.push(new TextDecoder().decode(v)) } finally { await store.close() }
  t.equal(holds.length, 2, 'two holds stored')
  t.same(
    holds.map(h => (JSON.parse(h) as { in: { paymentHash: string } }).in.paymentHash).sort(), [...heldHashes].sort(),
    'for the held payments',
  )
  await hub.restart()
  await platform.untilReestablished({ timeoutMs: 60_000 })
  t.match(await payHeld(60_000, 'sale 2', 'push-2'), { ok: false, reason: 'pending' },
    'after the hub\'s restart the payment is still held (asked again: pending at the end of the wait)')

  // ── 4. the creator comes back a while later: each held payment arrives once ──
  await new Promise(resolve => setTimeout(resolve, 10_000))
  await creator.restart()
  await creator.call('reestablished')
  await waitFor(() => heldHashes.every(h => sent.has(h)), 'payment_sent for both held payments', 120_000)
  for (const [hash, amount, reference] of [[a.paymentHash!, 60_000, 'sale 2'], [b.paymentHash!, 70_000, 'sale 4']] as const) {
    const s = sent.get(hash)!
    t.same([s.amountMsat, s.feeMsat], [amount, forwardingFee(amount, policy)], `${reference}: paid, with the hub's fee`)
    paidMsat += amount
    feesMsat += s.feeMsat
    await waitFor(() => received(hash).length > 0, `${reference}: payment_received`)
    t.match(received(hash)[0], { amountMsat: amount, push: true, reference }, `${reference}: received once, with its reference`)
    t.match(
      await payHeld(amount, reference, reference === 'sale 2' ? 'push-2' : 'push-4'), { ok: true, preimage: s.preimage },
      `${reference}: pay() again: paid`,
    )
  }
  const invoices = (await creator.call<Page<InvoiceInfo>>('listInvoices', { limit: 100 })).items
  t.same(invoices.filter(i => i.push === true).map(i => [i.status, i.receivedMsat]).sort(),
    [['paid', 42_000], ['paid', 60_000], ['paid', 70_000]].sort(), 'the creator lists its three push payments as paid')
  await exact('after the held payments')

  // The hub never had a preimage before the creator revealed it: not in its stored holds, not in its log.
  keepLines()
  const preimages = [...sent.values()].map(s => s.preimage)
  t.notOk(holds.some(h => preimages.some(p => h.includes(p))), 'no stored hold contains a preimage')
  const heldLines = hubLines.filter(l => l.event === 'payment_held')
  t.equal(heldLines.length, 2, 'the hub logged both holds')
  t.notOk(hubLines.some(l => preimages.some(p => JSON.stringify(l).includes(p))), 'no line of the hub\'s log contains a preimage')

  // ── 5. a hold ends at the last height the payment's expiry allows: recipient_offline ──
  await creator.kill()
  await hubSeesCreatorDown()
  const late = await platform.pay({ to: creator.nodeId, amountMsat: 5_000, reference: 'sale 6', idempotencyKey: 'push-6', holdBlocks: 0 })
  t.match(late, { ok: false, reason: 'pending' }, 'held (no extra blocks of hold)')
  const line = hub.lines.find(l => l.event === 'payment_held' && l.payment_hash === late.paymentHash)
  t.ok(line, 'the hub logged the hold')
  const untilHeight = Number(line?.until_height)
  const tip = (await btc.chain.tip())
  const height = tip.ok ? tip.value.height : 0
  t.ok(untilHeight > height && untilHeight < height + 40, `the hold ends at height ${untilHeight}, capped by the payment's expiry`)
  await btc.mine(untilHeight - height + 1)
  await waitFor(() => failedEvents.some(e => e.paymentHash === late.paymentHash), 'payment_failed for the payment past its height')
  t.match(failedEvents.find(e => e.paymentHash === late.paymentHash),
    { reason: 'recipient_offline', detail: new RegExp(`did not come back before block ${untilHeight + 1}`) },
    'recipient_offline, with the hub\'s words')
  await creator.restart()
  await creator.call('reestablished')
  await exact('after the hold that ended')
  t.equal(received(late.paymentHash!).length, 0, 'the creator never got the payment whose hold ended')

  // ── 6. the same platform from a second data directory, which does not know its payments: the hub
  // refuses to pay a key's payment twice ──
  const mine = { platform: platform.channels()[0]!, creator: await creatorChannel() }
  await platform.stop()
  const second = await startClient(
    { hub, btc, dataDir: path.join(dir, 'platform-2'), role: 'platform', nodeKey: platformKey, payTimeoutMs: 30_000 }, t,
  )
  await openFundedChannel(btc, second, CAPACITY_SAT)
  const secondMsat = (): number => second.channels()[0]!.localMsat
  t.match(await second.pay({ to: creator.nodeId, amountMsat: 42_000, reference: 'sale 1', idempotencyKey: 'push-1' }),
    { ok: false, reason: 'duplicate_payment', detail: new RegExp(`key push-1 names payment ${online.paymentHash}, which succeeded`) },
    'the same order again from another data directory: refused by the hub, nothing paid twice')
  t.match(await second.pay({ to: creator.nodeId, amountMsat: 43_000, reference: 'sale 1', idempotencyKey: 'push-2' }),
    { ok: false, reason: 'idempotency_key_reused', detail: /key push-2 belongs to payment/ },
    'a used key with another amount: refused by the hub')
  const fresh = await second.pay({ to: creator.nodeId, amountMsat: 7_000, reference: 'sale 7', idempotencyKey: 'push-7' })
  t.match(fresh, { ok: true, amountMsat: 7_000 }, 'a new key pays')
  if (fresh.ok) { paidMsat += 7_000; feesMsat += fresh.feeMsat }
  await waitFor(async () => second.channels()[0]!.settled && (await creatorChannel()).settled, 'settled')
  t.equal(
    secondMsat(), CAPACITY_SAT * 1000 - 7_000 - (fresh.ok ? fresh.feeMsat : 0), "the second directory's channel paid only the new order",
  )
  t.equal((await creatorChannel()).localMsat, paidMsat, 'the creator was paid the new order only')
  mine.creator = await creatorChannel()
  const mineSecond = second.channels()[0]!

  // The hub's store agrees with every side (read after a clean stop: LevelDB allows one process).
  await hub.stop()
  const states = await hubChannelStates(hub)
  for (const [who, c] of [['platform', mine.platform], ['creator', mine.creator], ['second directory', mineSecond]] as const) {
    const s = states.get(c.channelId)!.localCommit!.spec
    t.same(
      [s.toRemoteMsat, s.toLocalMsat, s.htlcs.length], [c.localMsat, c.remoteMsat, 0], `${who}: the hub agrees to the msat, no HTLC left`,
    )
  }
  await second.stop()
  await creator.stop()
})
