// Scenario 11 through the real hub process: the hub is SIGKILLed; while it is down the creator closes
// its channel alone (HubClient.forceClose) and the commitment confirms and gets buried. The hub
// restarts, its chain monitor scans the blocks it missed, and sweeps the hub's output to its wallet.
// Amounts are exact minus named fees: the commitment fee (BOLT #3, paid by the hub, the funder) and
// each sweep's fee (input − output).
import t from 'tap'
import { useBtcd } from '../../helpers/btcd.ts'
import { waitFor, startHubPlatformCreator } from '../../helpers/hub.ts'
import { checkHubSweep, commitFeerate, findSpend, hubWalletTotal, mineUntilSpent } from './helpers.ts'

const TO_SELF_DELAY = 6
const BLOCKS_WHILE_DOWN = 4

t.test('e2e monitor (scenario 11): the creator force-closes while the hub is down; the restarted hub catches up and sweeps', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(btc, t, {
    name: 'e2e-monitor-down', hubSat: 2_000_000, platformCapacitySat: 400_000,
    hubConfig: { channels: { toSelfDelay: TO_SELF_DELAY, finalityDepth: 3 } },
  })
  for (let i = 0; i < 4; i++) {
    const r = await platform.pay((await creator.createInvoice({ amountMsat: 20_000_000 + i * 777_777 })).invoice)
    t.ok(r.ok, `payment ${i} succeeded`)
  }
  await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.settled, 'both channels settled')
  const cc = creator.channels()[0]!
  await waitFor(async () => (await hubWalletTotal(hub)) > 0, 'the hub wallet balance')
  const hubBefore = await hubWalletTotal(hub)
  const creatorBefore = creator.balances().onchain.totalSat
  const feerate = commitFeerate(creator, cc.channelId)
  const tip0 = await btc.chain.tip()
  const startHeight = tip0.ok ? tip0.value.height + 1 : 0

  await hub.kill()
  t.same(await creator.forceClose(cc.channelId), [cc.channelId], 'the creator closes alone while the hub is down')
  await btc.mine(1)
  const commit = await findSpend(btc, cc.fundingTxid!, undefined, startHeight)
  t.ok(commit, 'the creator\'s commitment confirmed')
  await btc.mine(BLOCKS_WHILE_DOWN)
  const outs = commit!.tx.outputs.map(o => o.value as number)
  t.equal(outs.length, 2, 'no HTLC: to_local and to_remote only')
  const commitFee = Math.floor(724 * feerate / 1000)
  const creatorSat = Math.floor(cc.localMsat / 1000)
  const hubSat = Math.floor(cc.remoteMsat / 1000) - commitFee
  t.same(
    outs.slice().sort((a, b) => a - b), [creatorSat, hubSat].sort((a, b) => a - b),
    `outputs = creator balance, hub balance − commitment fee (${commitFee} sat)`,
  )
  t.equal(
    await findSpend(btc, commit!.tx.txid, outs.indexOf(hubSat), commit!.height), undefined, 'nobody swept the hub output while it was down',
  )

  await hub.restart()
  const hubSweep = await mineUntilSpent(btc, commit!.tx.txid, outs.indexOf(hubSat), commit!.height)
  t.ok(hubSweep.height > commit!.height + BLOCKS_WHILE_DOWN, 'the restarted hub swept its output (after the blocks it missed)')
  await checkHubSweep(t, btc, hub, hubSweep.tx, hubSat, hubBefore, 'hub wallet gained its balance − commitment fee − its sweep fee')

  const cSweep = await mineUntilSpent(btc, commit!.tx.txid, outs.indexOf(creatorSat), commit!.height, TO_SELF_DELAY + 10)
  const cSweepFee = creatorSat - (cSweep.tx.outputs[0]!.value as number)
  t.ok(cSweepFee > 0 && cSweepFee < 2_000, `creator sweep fee ${cSweepFee} sat`)
  await btc.mine(1)
  await waitFor(() => creator.balances().onchain.totalSat >= creatorBefore + creatorSat - cSweepFee, 'the creator wallet holds the sweep')
  t.equal(creator.balances().onchain.totalSat, creatorBefore + creatorSat - cSweepFee, 'creator wallet gained its balance − its sweep fee')
})
