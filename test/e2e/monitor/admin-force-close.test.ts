// The hub operator closes a channel alone (admin POST /channels/force-close): the hub's chain monitor
// broadcasts the hub's latest commitment; the platform's monitor sweeps the platform's output
// (to_remote, no delay under static_remotekey) to its wallet; the hub's monitor sweeps the hub's
// to_local to the hub wallet once the platform's to_self_delay (144 blocks) has passed. Exact amounts
// minus named fees: the commitment fee (BOLT #3, paid by the platform, the funder) and each sweep's fee.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../../helpers/btcd.ts'
import { fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../../helpers/hub.ts'
import { admin, commitFeerate, findSpend, hubWalletTotal, mineUntilSpent } from './helpers.ts'

/** client-sdk/channels.ts TO_SELF_DELAY: what the client makes the hub wait on the hub's commitment. */
const CLIENT_TO_SELF_DELAY = 144

t.test('e2e monitor: the hub operator force-closes a channel (admin API); both sides\' funds arrive on-chain exactly', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-monitor-admin')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { channels: { finalityDepth: 3 } } }, t)
  await fundHub(btc, hub, 2_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  await openFundedChannel(btc, platform, 300_000)
  await requestHubChannel(btc, creator)
  await waitFor(async () => (await hubWalletTotal(hub)) > 0, 'the hub wallet balance')
  for (let i = 0; i < 3; i++) {
    const r = await platform.pay((await creator.createInvoice({ amountMsat: 15_000_000 + i * 333_333 })).invoice)
    t.ok(r.ok, `payment ${i} succeeded`)
  }
  await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.settled, 'both channels settled')
  const pc = platform.channels()[0]!
  const feerate = commitFeerate(platform, pc.channelId)
  const platformBefore = platform.balances().onchain.totalSat
  const hubBefore = await hubWalletTotal(hub)
  const tip0 = await btc.chain.tip()
  const startHeight = tip0.ok ? tip0.value.height + 1 : 0

  const unknown = await admin(hub, '/channels/force-close', { channel_id: '11'.repeat(32) })
  t.equal(unknown.status, 404, 'force-close of an unknown channel is refused')
  const r = await admin(hub, '/channels/force-close', { channel_id: pc.channelId })
  t.same([r.status, r.body], [200, { ok: true, broadcast: true }], 'the admin API force-closes the channel')
  // The monitor broadcast before the admin call returned.
  await btc.mine(1)
  const found = await findSpend(btc, pc.fundingTxid!, undefined, startHeight)
  t.ok(found, 'the hub\'s commitment confirmed')
  const commit = found!
  const outs = commit.tx.outputs.map(o => o.value as number)
  t.equal(outs.length, 2, 'no HTLC: to_local and to_remote only')
  const commitFee = Math.floor(724 * feerate / 1000)
  const platformSat = Math.floor(pc.localMsat / 1000) - commitFee
  const hubSat = Math.floor(pc.remoteMsat / 1000)
  t.same(outs.slice().sort((a, b) => a - b), [platformSat, hubSat].sort((a, b) => a - b), `outputs = hub balance, platform balance − commitment fee (${commitFee} sat)`)
  const channels = await admin(hub, '/channels')
  const view = (channels.body as Array<{ channel_id: string; onchain: { forceClosing?: string } | null }>).find(c => c.channel_id === pc.channelId)
  t.ok(view?.onchain?.forceClosing !== undefined, 'the admin view shows the channel force-closing')

  const pSweep = await mineUntilSpent(btc, commit.tx.txid, outs.indexOf(platformSat), commit.height)
  const pSweepFee = platformSat - (pSweep.tx.outputs[0]!.value as number)
  t.ok(pSweepFee > 0 && pSweepFee < 2_000, `platform sweep fee ${pSweepFee} sat`)
  await btc.mine(1)
  await waitFor(() => platform.balances().onchain.totalSat >= platformBefore + platformSat - pSweepFee, 'the platform wallet holds the sweep')
  t.equal(platform.balances().onchain.totalSat, platformBefore + platformSat - pSweepFee, 'platform wallet gained its balance − commitment fee − its sweep fee')

  const tip1 = await btc.chain.tip()
  const buried = tip1.ok ? tip1.value.height - commit.height : 0
  await btc.mine(Math.max(0, CLIENT_TO_SELF_DELAY - buried - 2))
  const hubSweep = await mineUntilSpent(btc, commit.tx.txid, outs.indexOf(hubSat), commit.height, 10)
  t.ok(hubSweep.height - commit.height >= CLIENT_TO_SELF_DELAY - 1, `the hub's to_local swept only after to_self_delay (${hubSweep.height - commit.height} blocks)`)
  const hubSweepFee = hubSat - (hubSweep.tx.outputs[0]!.value as number)
  t.ok(hubSweepFee > 0 && hubSweepFee < 2_000, `hub sweep fee ${hubSweepFee} sat`)
  await btc.mine(1)
  await waitFor(async () => (await hubWalletTotal(hub)) >= hubBefore + hubSat - hubSweepFee, 'the hub wallet holds the sweep')
  t.equal(await hubWalletTotal(hub), hubBefore + hubSat - hubSweepFee, 'hub wallet gained its balance − its sweep fee')
  t.equal(await findSpend(btc, pc.fundingTxid!, undefined, commit.height + 1), undefined, 'nothing else spent the funding')
})
