// End to end (real btcd, the hub as a child process, SDK clients): after payments the platform closes
// its channel with the hub ALONE (HubClient.forceClose). Its channel fails first and its chain monitor
// broadcasts its latest commitment; the hub, told by the platform's error, fails the channel too and
// broadcasts its own: whichever is mined, the hub's monitor and the platform's sweep each side's output
// to its wallet, the delayed one after the other side's to_self_delay. Each amount is exact, minus fees
// the test names: the commitment fee (capacity − outputs, paid by the funder) and each sweep's fee.
import t from 'tap'
import { useBtcd } from '../../helpers/btcd.ts'
import { waitFor, startHubPlatformCreator } from '../../helpers/hub.ts'
import { checkForceCloseSweeps, commitFeerate, findSpend, hubWalletTotal } from './helpers.ts'

const CAPACITY_SAT = 400_000
const TO_SELF_DELAY = 6

t.test('e2e monitor: the platform force-closes after payments; both sides\' funds arrive on-chain exactly', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(btc, t, {
    name: 'e2e-monitor-fc', hubSat: 2_000_000, platformCapacitySat: CAPACITY_SAT,
    hubConfig: { channels: { toSelfDelay: TO_SELF_DELAY, finalityDepth: 3 } },
  })
  for (let i = 0; i < 5; i++) {
    const inv = await creator.createInvoice({ amountMsat: 10_000_000 + i * 1_234_567 })
    const r = await platform.pay(inv.invoice)
    t.ok(r.ok, `payment ${i} succeeded`)
  }
  await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.settled, 'both channels settled')
  const pc = platform.channels()[0]!
  const events: string[] = []
  platform.on('onchain', e => { if (e.channelId === pc.channelId) events.push(e.event.kind) })
  const platformBefore = platform.balances().onchain.totalSat
  await waitFor(async () => (await hubWalletTotal(hub)) > 0, 'the hub wallet balance')
  const hubBefore = await hubWalletTotal(hub)
  const tip0 = await btc.chain.tip()
  const startHeight = tip0.ok ? tip0.value.height + 1 : 0

  t.same(await platform.forceClose(pc.channelId), [pc.channelId], 'forceClose closes the channel')
  t.equal(platform.channels()[0]!.phase, 'failed', 'the platform\'s channel failed first')
  await btc.mine(1)
  const commit = await findSpend(btc, pc.fundingTxid!, undefined, startHeight)
  t.ok(commit, 'a commitment confirmed')
  const outs = commit!.tx.outputs.map(o => o.value as number)
  t.equal(outs.length, 2, 'no HTLC: to_local and to_remote only')
  // BOLT #3: the fee of a commitment without HTLC outputs is 724 weight × feerate_per_kw / 1000,
  // paid by the funder (the platform), on either side's commitment.
  const commitFee = Math.floor(724 * commitFeerate(platform, pc.channelId) / 1000)
  t.comment(`commitment fee ${commitFee} sat`)
  const platformSat = Math.floor(pc.localMsat / 1000) - commitFee
  const hubSat = Math.floor(pc.remoteMsat / 1000)
  t.same(
    outs.slice().sort((a, b) => a - b), [platformSat, hubSat].sort((a, b) => a - b),
    'outputs = platform balance − commitment fee, hub balance',
  )
  await checkForceCloseSweeps(
    t, btc, hub, platform, commit!,
    { clientSat: platformSat, hubSat, clientBefore: platformBefore, hubBefore, clientToLocalDelay: TO_SELF_DELAY },
  )
  t.ok(events.includes('force_closing'), 'the platform saw its monitor go on-chain')
  await btc.mine(4)
  await waitFor(() => events.includes('closed'), 'the platform monitor reports the channel closed')
})
