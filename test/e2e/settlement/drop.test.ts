// A peer that does not sign does not hold a payout batch hostage (docs/DESIGN.md "Batched settlement",
// a peer that does not sign; scenario 24): a creator that refuses its terms (tx_abort), one whose
// connection drops in the middle of the construction, and one that stalls past
// settlement.signTimeoutBlocks are each dropped before anyone signed; every session is aborted, the
// batch is rebuilt without it and confirms, and the dropped creator's channel and balance are as they
// were: its payout waits for the next window. Real btcd, the hub process, SDK clients.
import t, { type Test } from 'tap'
import { addressScript } from '../../../host/wallet/address.ts'
import { useBtcd, type Btcd } from '../../helpers/btcd.ts'
import { waitFor } from '../../helpers/hub.ts'
import { admin } from '../monitor/helpers.ts'
import { FINALITY_DEPTH, KEEP_SAT, messageTrap, setting, untilStage, type Setting } from './fixture.ts'

async function setPolicies (s: Setting): Promise<void> {
  for (const c of s.creators) await c.client.setPayoutPolicy({
    address: c.address, thresholdSat: 20_000, intervalBlocks: 1, keepSat: KEEP_SAT,
  })
}

/** Runs a batch and follows it to confirmation; checks it paid every creator but `dropped`, and that
 *  `dropped` kept its channel and balance. */
async function droppedAndRebuilt (
  t: Test, btc: Btcd, s: Setting, dropped: number, reason: RegExp, during?: () => Promise<void>,
): Promise<void> {
  const victim = s.creators[dropped]!
  const before = victim.client.channels()[0]!.localMsat
  const run = await admin(s.hub, '/settlement/run', {})
  t.equal(run.body.started, true, 'settle now starts a batch of every creator')
  t.equal(run.body.batch.payouts.length, s.creators.length)
  const id = run.body.batch.id as number
  await during?.()
  const b = await untilStage(s.hub, id, 'broadcast')
  t.equal(b.round, 2, 'rebuilt once')
  t.same(b.channels.sort(), s.creators.filter((_, k) => k !== dropped).map(c => c.channelId).sort(), 'without the dropped channel')
  t.equal(b.dropped.length, 1)
  t.equal(b.dropped[0].channel_id, victim.channelId, 'the dropped channel is named')
  t.match(b.dropped[0].reason, reason, 'with why')
  const tx = (await btc.chain.getRawTransaction(b.txid)) as { ok: true; value: { tx: { inputs: unknown[] } } }
  t.equal(tx.value.tx.inputs.length, s.creators.length - 1, 'its funding is not spent by the batch')
  await btc.mine(FINALITY_DEPTH)
  t.equal((await untilStage(s.hub, id, 'confirmed')).txid, b.txid, 'the rebuilt batch confirms')
  await waitFor(
    () => victim.client.channels()[0]!.link === 'up' && victim.client.channels()[0]!.settled, 'the dropped creator is connected',
  )
  const ch = victim.client.channels()[0]!
  t.equal(ch.phase, 'normal', 'the dropped creator\'s channel stays open')
  t.same(ch.pendingSplices, [], 'with no splice of the batch')
  t.equal(ch.localMsat, before, 'and its balance intact: its payout waits for the next window')
  const paid = await s.platform.pay((await victim.client.createInvoice({ amountMsat: 5_000_000 })).invoice)
  t.ok(paid.ok, 'it still receives payments')
}

t.test('e2e: a creator whose proposed payout is not its own policy\'s refuses (tx_abort): dropped, batch rebuilt without it', async t => {
  const btc = await useBtcd(t)
  const s = await setting(btc, t, { name: 'e2e-settle-refuse', creators: 3 })
  await setPolicies(s)
  // The operator (or a thief at the hub) points creator 2's payouts elsewhere: the hub proposes that
  // address, and the creator checks it against its own policy.
  const elsewhere = s.platform.newAddress()
  const victim = s.creators[2]!
  const set = await admin(s.hub, `/accounts/${victim.client.nodeId}/policy`, {
    payout_script: (addressScript(elsewhere) as { ok: true; value: string }).value,
    threshold_sat: 20_000, interval_blocks: 1, keep_sat: KEEP_SAT,
  })
  t.equal(set.status, 200, 'the operator changed the hub\'s copy of the policy')
  await droppedAndRebuilt(t, btc, s, 2, /batch_terms_violated.*payout script/)
})

t.test('e2e: a creator whose connection drops in the middle of the construction is dropped, batch rebuilt without it', async t => {
  const btc = await useBtcd(t)
  const trap = messageTrap()
  const s = await setting(btc, t, { name: 'e2e-settle-cut', creators: 3, socketFactory: k => (k === 1 ? trap.factory : undefined) })
  await setPolicies(s)
  trap.arm('tx_add_output', 'cut')
  await droppedAndRebuilt(t, btc, s, 1, /disconnected/)
  t.ok(trap.fired, 'the connection was cut at the hub\'s first tx_add_output')
})

t.test('e2e: a creator that stalls is dropped after settlement.signTimeoutBlocks, batch rebuilt without it', async t => {
  const btc = await useBtcd(t)
  const trap = messageTrap()
  const s = await setting(btc, t, { name: 'e2e-settle-stall', creators: 3, socketFactory: k => (k === 0 ? trap.factory : undefined) })
  await setPolicies(s)
  trap.arm('tx_add_output', 'swallow')
  await droppedAndRebuilt(t, btc, s, 0, /not complete within 2 blocks/, async () => {
    await waitFor(() => trap.fired, 'creator 0 stalls on the hub\'s tx_add_output')
    const held = await admin(s.hub, '/settlement')
    t.equal(held.body.in_progress?.round ?? 0, 1, 'the batch waits in its first round')
    await btc.mine(2)
  })
})
