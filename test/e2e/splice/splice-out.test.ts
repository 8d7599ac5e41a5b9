// End to end, real everything (btcd regtest, the hub process, two SDK clients over WebSockets): a
// creator takes an on-chain payout by splicing out of its hub-funded channel while payments keep
// flowing through that same channel: 100 before the splice, 50 while it is negotiated and unconfirmed
// (started alongside the spliceOut call), 50 after it is locked. Every payment succeeds; the payout on
// the chain is exact to the sat; the creator's balance, the channel's capacity and the hub's stored
// state all agree after the lock.
import t, { type Test } from 'tap'
import { useBtcd } from '../../helpers/btcd.ts'
import { hubChannelStates, startHubPlatformCreator, waitFor } from '../../helpers/hub.ts'
import { addressScript } from '../../../host/wallet/address.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../../protocol/limits.ts'
import type { HubClient } from '../../../client-sdk/index.ts'

const PAYOUT_SAT = 150_000

t.test('e2e: splice-out while 200 payments flow through the same channel: all succeed, the payout and balances are exact', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(
    btc, t, { name: 'e2e-splice-out', hubSat: 5_000_000, platformCapacitySat: 3_000_000 },
  )

  let received = 0
  let receivedMsat = 0
  creator.on('payment_received', e => { received++; receivedMsat += e.amountMsat })
  const events: string[] = []
  for (const k of ['splice_negotiated', 'splice_signed', 'splice_confirmed', 'splice_locked', 'splice_aborted'] as const) {
    creator.on(k, () => { if (events.at(-1) !== k) events.push(k) })
  }
  const amountOf = (i: number): number => 3_000_000 + (i * 7_919) % 1_000_000
  let paidMsat = 0
  let failed = 0
  let next = 0
  /** Pays invoices `from`..`to`−1 of the creator from the platform, `concurrency` at a time. */
  const pay = async (from: number, to: number, concurrency = 5): Promise<void> => {
    next = from
    const worker = async (): Promise<void> => {
      while (next < to) {
        const i = next++
        const inv = await creator.createInvoice({ amountMsat: amountOf(i) })
        const r = await platform.pay(inv.invoice)
        if (!r.ok) { failed++; t.fail(`payment ${i}: ${r.reason} ${r.detail}`); continue }
        paidMsat += r.amountMsat
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
  }

  await pay(0, 100)
  t.equal(failed, 0, '100 payments before the splice')
  await waitFor(() => creator.channels()[0]!.settled, 'the creator\'s channel settled')
  const before = creator.channels()[0]!
  t.equal(before.localMsat, paidMsat, 'the creator holds what it was paid')

  // The payout goes to an address of the creator's own wallet, whose balance then shows it.
  const address = creator.newAddress()
  const payoutScript = addressScript(address)
  const walletBefore = creator.balances().onchain.totalSat
  const [splice] = await Promise.all([creator.spliceOut({ amountSat: PAYOUT_SAT, address }), pay(100, 125)])
  t.equal(splice.kind, 'out')
  t.equal(splice.amountSat, PAYOUT_SAT)
  t.equal(splice.contributionSat, -(PAYOUT_SAT + splice.feeSat), 'the creator\'s balance pays the payout and the fee')
  t.equal(splice.capacitySat, before.capacitySat - PAYOUT_SAT - splice.feeSat, 'the new capacity')
  t.comment(`splice ${splice.txid}: fee ${splice.feeSat} sat`)
  await pay(125, 150)
  t.equal(failed, 0, '50 payments while the splice was negotiated and unconfirmed')

  // Payments during the unconfirmed period were signed for both fundings; the lock comes at depth.
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  const locked = await creator.untilSpliceLocked({ txid: splice.txid, timeoutMs: 60_000 })
  t.equal(locked.capacitySat, splice.capacitySat, 'locked: the capacity is the splice\'s')
  await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.link === 'up', 'channels up')
  await pay(150, 200)
  t.equal(failed, 0, '50 payments after the lock')
  t.equal(received, 200, 'the creator received all 200 payments')
  t.equal(receivedMsat, paidMsat, '… every amount')
  t.same(events.slice(0, 4), ['splice_negotiated', 'splice_signed', 'splice_confirmed', 'splice_locked'], 'events in order')

  // On-chain: the splice spends the old funding and pays exactly the payout.
  const tx = await btc.chain.getRawTransaction(splice.txid)
  t.ok(tx.ok && tx.value !== null && tx.value.confirmations >= DEFAULT_SPLICE_MINIMUM_DEPTH, 'the splice confirmed')
  const outs = tx.ok && tx.value !== null ? tx.value.tx.outputs : []
  t.same(
    outs.filter(o => payoutScript.ok && o.scriptPubKey === payoutScript.value).map(o => o.value), [PAYOUT_SAT], 'the payout, to the sat',
  )
  t.ok(tx.ok && tx.value !== null && tx.value.tx.inputs.some(i => i.txid === before.fundingTxid), 'it spent the old funding output')
  await waitFor(() => creator.balances().onchain.totalSat === walletBefore + PAYOUT_SAT, 'the creator\'s wallet holds the payout')

  await waitFor(() => creator.channels()[0]!.settled, 'the creator\'s channel settled')
  const after = creator.channels()[0]!
  t.equal(after.fundingTxid, splice.txid, 'the channel\'s funding is the splice')
  t.equal(after.capacitySat, splice.capacitySat)
  t.equal(after.localMsat, paidMsat - (PAYOUT_SAT + splice.feeSat) * 1000, 'creator balance = paid − payout − fee, to the msat')
  t.equal(after.localMsat + after.remoteMsat, after.capacitySat * 1000, 'the balances add up to the new capacity')
  await checkHubAgrees(t, hub, creator)
})

async function checkHubAgrees (t: Test, hub: Parameters<typeof hubChannelStates>[0], creator: HubClient): Promise<void> {
  const cc = creator.channels()[0]!
  await hub.stop()
  const hs = (await hubChannelStates(hub)).get(cc.channelId)!
  t.equal(hs.setup.funding?.txid, cc.fundingTxid, 'the hub\'s channel spends the splice output')
  t.same([hs.localCommit!.spec.toRemoteMsat, hs.localCommit!.spec.toLocalMsat], [cc.localMsat, cc.remoteMsat], 'hub and creator agree')
}
