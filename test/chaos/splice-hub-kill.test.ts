// Scenario 3 for splicing: the hub, a real child process, is SIGKILLed just before and just after each
// durable write of a creator's splice-out (host/crash-points.ts, HUB_CRASH_AT), and restarted clean on
// the same data directory. The writes of a splice at the hub (protocol/channel/step.ts, splices):
//   persist:splice_candidate         the transaction complete (tx_complete), before our commitment_signed
//   persist:splice_local_commitment  the creator's commitment_signed for the new funding; our
//                                    tx_signatures leave with it (the hub signs first: no inputs)
//   persist:splice_signed            both tx_signatures: the complete transaction, before its broadcast
//   persist:state                    the splice's depth reached (splice_locked leaves)
//   persist:splice_locked            splice_locked both ways: the new funding replaces the old
// After each restart the splice is either completed (resumed by channel_reestablish's next_funding)
// or abandoned on both sides and started again; either way exactly one payout reaches the chain, the
// creator's balance moves by exactly the payout and its fee, and the channel still pays. At the end
// the hub's store agrees with the creator to the msat.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, hubChannelStates, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { addressScript } from '../../host/wallet/address.ts'
import { ClientError, type SpliceResult } from '../../client-sdk/index.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../protocol/limits.ts'

const POINTS = [
  'persist:splice_candidate', 'persist:splice_local_commitment', 'persist:splice_signed', 'persist:state', 'persist:splice_locked',
]
const PAYOUT_SAT = 20_000

t.test('scenario 3, 23: SIGKILL of the hub before/after every write of a splice-out; the splice completes or restarts, the payout is exact', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('chaos-splice')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  await fundHub(btc, hub, 3_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  await openFundedChannel(btc, platform, 2_000_000)
  await requestHubChannel(btc, creator)
  // The creator earns what it will take out.
  for (let i = 0; i < 5; i++) {
    const r = await platform.pay((await creator.createInvoice({ amountMsat: 100_000_000 })).invoice)
    t.ok(r.ok, `payment ${i}`)
  }

  for (const point of POINTS) {
    for (const phase of ['before', 'after'] as const) {
      const crashAt = `${phase}:${point}:1`
      await hub.restart({ HUB_CRASH_AT: crashAt })
      await platform.untilReestablished()
      await creator.untilReestablished()
      await waitFor(() => creator.channels()[0]!.settled, 'settled')
      const before = creator.channels()[0]!
      const wallet = creator.balances().onchain.totalSat
      // Whenever the hub dies, it comes back clean; every wait below outlasts a restart.
      let died = false
      const watch = hub.exited().then(async () => { died = true; await hub.restart() })
      const address = creator.newAddress()
      let splice: SpliceResult | undefined
      for (let attempt = 0; splice === undefined; attempt++) {
        if (attempt > 0) { await creator.untilReestablished(); t.comment(`${crashAt}: the splice was abandoned; started again`) }
        try {
          splice = await creator.spliceOut({ amountSat: PAYOUT_SAT, address, timeoutMs: 60_000 })
        } catch (e) {
          if (!(e instanceof ClientError) || e.reason !== 'splice_aborted' || attempt > 3) throw e
        }
      }
      await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
      await creator.untilSpliceLocked({ txid: splice.txid, timeoutMs: 120_000 })
      if (!died) await new Promise(resolve => setTimeout(resolve, 500)) // the hub's last write of the lock
      if (died) await watch
      await platform.untilReestablished()
      await creator.untilReestablished()
      t.comment(`${crashAt}: ${died ? 'the hub died there and recovered' : 'not reached'}`)
      await waitFor(() => creator.channels()[0]!.settled && creator.channels()[0]!.fundingTxid === splice!.txid, `${crashAt}: locked`)
      const after = creator.channels()[0]!
      t.equal(
        after.localMsat, before.localMsat - (PAYOUT_SAT + splice.feeSat) * 1000, `${crashAt}: the balance paid the payout and its fee once`,
      )
      t.equal(after.capacitySat, before.capacitySat - PAYOUT_SAT - splice.feeSat, `${crashAt}: the new capacity`)
      const tx = await btc.chain.getRawTransaction(splice.txid)
      const script = addressScript(address)
      t.same(tx.ok && tx.value !== null && script.ok ? tx.value.tx.outputs.filter(
        o => o.scriptPubKey === script.value
      ).map(o => o.value) : [],
        [PAYOUT_SAT], `${crashAt}: the payout on-chain`)
      await waitFor(() => creator.balances().onchain.totalSat === wallet + PAYOUT_SAT, `${crashAt}: the wallet got the payout once`)
      const r = await platform.pay((await creator.createInvoice({ amountMsat: 1_000_000 })).invoice)
      t.ok(r.ok, `${crashAt}: the channel pays after the splice${r.ok ? '' : ` (${r.reason}: ${r.detail})`}`)
      t.ok(died, `${crashAt}: the hub died there`)
    }
  }

  await waitFor(() => creator.channels()[0]!.settled, 'settled')
  await hub.stop()
  const cc = creator.channels()[0]!
  const hs = (await hubChannelStates(hub)).get(cc.channelId)!
  t.equal(hs.setup.funding?.txid, cc.fundingTxid, 'the hub\'s funding is the last splice')
  t.same([hs.localCommit!.spec.toRemoteMsat, hs.localCommit!.spec.toLocalMsat], [cc.localMsat, cc.remoteMsat], 'hub and creator agree')
  t.equal(cc.phase, 'normal', 'the channel never force-closed')
})
