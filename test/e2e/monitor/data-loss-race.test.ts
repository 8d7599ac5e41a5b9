// The data-loss race, end to end (real btcd, the hub process, an SDK client): a
// platform restarted from an old backup of its data directory reconnects; the hub's
// channel_reestablish proves it is behind, and the application calls forceClose() in the same turn —
// while the do_not_broadcast write is still in flight. The force close is an input of the channel
// machine, stepped after the reestablish: it is refused (we_are_behind), and nothing is broadcast:
// not the restored (revoked) commitment, not anything. The hub closes with its latest commitment and
// the platform's monitor recovers the platform's latest balance from it, exactly.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { useBtcd } from '../../helpers/btcd.ts'
import { hookedSocketFactory } from '../../helpers/socket-hook.ts'
import { fundHub, openFundedChannel, randomKey, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../../helpers/hub.ts'
import type { HubClient } from '../../../client-sdk/index.ts'
import { createNodeClient } from '../../../client-sdk/node.ts'
import type { SocketFactory } from '../../../client-sdk/transport/socket.ts'
import { buildLocal, monitorKeys } from '../../../protocol/monitor/index.ts'
import { txid as txidOf } from '../../../protocol/tx/index.ts'
import type { ChannelSigner, ChannelState } from '../../../protocol/channel/index.ts'
import type { ChannelKeys } from '../../../protocol/keys/channel.ts'
import { admin, findSpend } from './helpers.ts'

interface Internals {
  channelSet: { channels (): Array<{ driver: { state: ChannelState }; keys: ChannelKeys; signer: ChannelSigner }> };
  monitoring: { host: { attempts: Map<string, number> } }
}
const internals = (c: HubClient): Internals => c as unknown as Internals

/** Calls `onReestablish` right after the hub's channel_reestablish is handed to the client, in the
 *  same turn (its channel driver steps it on a microtask, its writes complete later). */
function reestablishHook (onReestablish: () => void): SocketFactory {
  return hookedSocketFactory(m => {
    m.deliver()
    if (String(m.data).includes('"channel_reestablish"')) onReestablish()
  })
}

t.test('restored from an old backup, forceClose() while do_not_broadcast is being written: nothing broadcast, the hub closes, the platform recovers its latest balance', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-data-loss-race')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { channels: { finalityDepth: 3 } } }, t)
  await fundHub(btc, hub, 2_000_000)
  const key = randomKey()
  const pDir = path.join(dir, 'platform')
  const backupDir = path.join(dir, 'platform-backup')
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  let platform = await startClient({ hub, btc, dataDir: pDir, role: 'platform', nodeKey: key }, t)
  await openFundedChannel(btc, platform, 400_000)
  await requestHubChannel(btc, creator)
  const pay = async (amountMsat: number): Promise<void> => {
    const r = await platform.pay((await creator.createInvoice({ amountMsat })).invoice)
    t.ok(r.ok, `paid ${amountMsat} msat`)
    await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.settled, 'settled')
  }
  await pay(11_000_000)
  await platform.stop()
  fs.cpSync(pDir, backupDir, { recursive: true })
  platform = await startClient({ hub, btc, dataDir: pDir, role: 'platform', nodeKey: key }, t)
  await platform.untilReestablished()
  await pay(23_000_000)
  await pay(37_000_000)
  const latest = platform.channels()[0]!
  await platform.stop()

  // The old backup comes back.
  fs.rmSync(pDir, { recursive: true })
  fs.cpSync(backupDir, pDir, { recursive: true })
  let closing: Promise<string[]> | undefined
  const restored = await createNodeClient({
    nodeKey: key, hubUrl: hub.url, hubId: hub.hubId, dataDir: pDir, role: 'platform', chain: btc.chain, reconnectInitialMs: 50,
    reconnectMaxMs: 500,
    socketFactory: reestablishHook(() => { closing ??= restored.forceClose(latest.channelId) }),
  })
  t.teardown(() => restored.stop())
  const ch = internals(restored).channelSet.channels()[0]!
  const stale = ch.driver.state.localCommit!
  t.ok(stale.spec.toLocalMsat > latest.localMsat, 'the restored state is older: it still holds money the platform has since paid')
  const vout = ch.driver.state.setup.funding!.outputIndex
  const staleTxid = txidOf(buildLocal(ch.driver.state.setup, monitorKeys(ch.keys), {
    number: stale.index, perCommitmentPoint: ch.signer.perCommitmentPoint(stale.index), spec: stale.spec, signature: stale.signature,
    htlcSignatures: stale.htlcSignatures,
  }).signedTx)
  const tip0 = await btc.chain.tip()
  const from = tip0.ok ? tip0.value.height + 1 : 0
  await restored.connect()
  await waitFor(() => closing !== undefined, 'the hub\'s channel_reestablish and the forceClose() call')
  t.same(await closing, [], 'forceClose() closes nothing: the platform knows it is behind')
  t.equal(ch.driver.state.phase, 'awaiting_remote_close', 'the channel waits for the hub to close')
  t.equal(internals(restored).monitoring.host.attempts.size, 0, 'the platform\'s monitor broadcast nothing')

  // The hub fails the channel on the platform's error and closes with its latest commitment.
  await waitFor(async () => ((await admin(hub, '/channels')).body as Array<{
    channel_id: string; phase: string
  }>).find(c => c.channel_id === latest.channelId)?.phase === 'failed', 'the hub failing the channel')
  // Its monitor broadcasts from the durable force_close: mine until a commitment spends the funding.
  for (let i = 0; i < 10 && (await findSpend(btc, latest.fundingTxid!, vout, from)) === undefined; i++) {
    await new Promise(resolve => setTimeout(resolve, 500))
    await btc.mine(1)
  }
  const commit = await findSpend(btc, latest.fundingTxid!, vout, from)
  t.ok(commit !== undefined, 'a commitment confirmed')
  t.not(commit?.tx.txid, staleTxid, 'not the restored, revoked one')
  const outs = commit!.tx.outputs.map(o => o.value as number)
  // The hub's commitment: the platform (funder) pays its fee, 724 × feerate / 1000 without HTLCs.
  const fee = Math.floor(724 * stale.spec.feeratePerKw / 1000)
  const platformSat = Math.floor(latest.localMsat / 1000) - fee
  t.same(
    outs.slice().sort((a, b) => a - b), [platformSat, Math.floor(latest.remoteMsat / 1000)].sort((a, b) => a - b),
    'the hub\'s latest commitment: each side\'s latest balance',
  )
  const before = restored.balances().onchain.totalSat
  for (let i = 0; i < 10 && (await findSpend(btc, commit!.tx.txid, outs.indexOf(platformSat), commit!.height)) === undefined; i++) {
    await new Promise(resolve => setTimeout(resolve, 300))
    await btc.mine(1)
  }
  const sweep = await findSpend(btc, commit!.tx.txid, outs.indexOf(platformSat), commit!.height)
  t.ok(sweep !== undefined, 'the platform\'s monitor swept its output')
  const sweepFee = platformSat - (sweep!.tx.outputs[0]!.value as number)
  t.ok(sweepFee > 0 && sweepFee < 2_000, `sweep fee ${sweepFee} sat`)
  await btc.mine(1)
  await waitFor(() => restored.balances().onchain.totalSat >= before + platformSat - sweepFee, 'the platform wallet holding the sweep')
  t.equal(
    restored.balances().onchain.totalSat, before + platformSat - sweepFee,
    'the platform recovers its latest balance − commitment fee − sweep fee',
  )
  const typed = await restored.forceCloseChannel(latest.channelId)
  t.same(typed.ok ? 'closed' : typed.reason, 'we_are_behind', 'forceCloseChannel says why it refuses')

})
