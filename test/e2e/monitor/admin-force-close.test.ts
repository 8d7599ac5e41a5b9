// The hub operator closes a channel alone (admin POST /channels/force-close): the hub's channel fails
// first and its chain monitor broadcasts the hub's latest commitment; the platform, told by the hub's
// error, fails too and broadcasts its own: whichever is mined, each side's output reaches its wallet —
// the delayed one after the other side's to_self_delay (the client's is 144 blocks). Exact amounts minus
// named fees: the commitment fee (BOLT #3, paid by the platform, the funder) and each sweep's fee.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../../helpers/btcd.ts'
import { fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../../helpers/hub.ts'
import { admin, checkForceCloseSweeps, commitFeerate, findSpend, hubWalletTotal } from './helpers.ts'

/** The hub's default channels.toSelfDelay: what the hub makes the platform wait on its commitment. */
const HUB_TO_SELF_DELAY = 144

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
  const again = await admin(hub, '/channels/force-close', { channel_id: pc.channelId })
  t.same([again.status, again.body], [200, { ok: true, broadcast: true }], 'a second request: already failed, still closing')
  // The monitor broadcast before the admin call returned.
  await btc.mine(1)
  const found = await findSpend(btc, pc.fundingTxid!, undefined, startHeight)
  t.ok(found, 'a commitment confirmed')
  const commit = found!
  const outs = commit.tx.outputs.map(o => o.value as number)
  t.equal(outs.length, 2, 'no HTLC: to_local and to_remote only')
  const commitFee = Math.floor(724 * feerate / 1000)
  const platformSat = Math.floor(pc.localMsat / 1000) - commitFee
  const hubSat = Math.floor(pc.remoteMsat / 1000)
  t.same(
    outs.slice().sort((a, b) => a - b), [platformSat, hubSat].sort((a, b) => a - b),
    `outputs = hub balance, platform balance − commitment fee (${commitFee} sat)`,
  )
  const channels = await admin(hub, '/channels')
  const view = (channels.body as Array<{
    channel_id: string; phase: string; status: string; onchain: { force_close_reason: string | null } | null
  }>).find(c => c.channel_id === pc.channelId)
  t.equal(view?.phase, 'failed', 'the admin view shows the channel failed')
  t.equal(view?.status, 'force_closing', '... and force-closing')
  t.equal(view?.onchain?.force_close_reason, 'force_close', '... by a force_close command (protocol/errors.ts reason)')
  await waitFor(async () => ((await admin(hub, '/channels')).body as Array<{
    channel_id: string; onchain: { closing_txid: string | null } | null
  }>)
    .find(c => c.channel_id === pc.channelId)?.onchain?.closing_txid === commit.tx.txid,
    'the admin view names the commitment that confirmed')

  await checkForceCloseSweeps(
    t, btc, hub, platform, commit,
    { clientSat: platformSat, hubSat, clientBefore: platformBefore, hubBefore, clientToLocalDelay: HUB_TO_SELF_DELAY },
  )
  t.equal(await findSpend(btc, pc.fundingTxid!, undefined, commit.height + 1), undefined, 'nothing else spent the funding')
})
