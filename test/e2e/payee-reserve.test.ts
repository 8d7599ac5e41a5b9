// A payee's channel reserve (hub/config.ts hubFunded.payeeReserveSat, README "Channel reserves"): on a
// channel the hub funds, the payee must keep the reserve the hub asks of it and can spend the rest.
// With the 1% default a co-op treasury that received 30,000 sat on a 1,000,000 sat channel could pay
// out only 20,000; with payeeReserveSat at the dust limit (546 sat, the least BOLT #2 allows with the
// hub's dust limit) it pays out all but those 546 sat, one msat more is refused, and its cooperative
// close pays it the rest on-chain. Real btcd, the hub as a process, SDK clients over WebSockets.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { amountToForward } from '../../protocol/forwarding.ts'

/** The payee reserve the operator configures: the hub's dust limit (channels.dustLimitSat's default). */
const RESERVE_SAT = 546
const CAPACITY_SAT = 1_000_000
const RECEIVED_MSAT = 30_000_000

t.test('a payee with hubFunded.payeeReserveSat pays out all but that reserve, and its close pays the rest', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-payee-reserve')
  const hub = await startHub({
    dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { hubFunded: { payeeReserveSat: RESERVE_SAT } },
  }, t)
  await fundHub(btc, hub, 5_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const treasury = await startClient({ hub, btc, dataDir: path.join(dir, 'treasury'), role: 'treasury' }, t)
  const member = await startClient({ hub, btc, dataDir: path.join(dir, 'member'), role: 'creator' }, t)
  await openFundedChannel(btc, platform, CAPACITY_SAT)
  await requestHubChannel(btc, treasury)
  await requestHubChannel(btc, member)
  const channel = () => treasury.channels()[0]!
  t.equal(channel().capacitySat, CAPACITY_SAT, 'a hub-funded channel of 1,000,000 sat')
  t.equal(channel().reserveSat, RESERVE_SAT, 'the hub asks the payee to keep the configured reserve, not 1% (10,000 sat)')
  t.equal(platform.channels()[0]!.reserveSat, CAPACITY_SAT / 100, 'a channel the platform funds keeps the 1% reserve')

  const sale = await treasury.createInvoice({ amountMsat: RECEIVED_MSAT, memo: 'co-op share' })
  const paid = await platform.pay(sale.invoice)
  t.ok(paid.ok, 'the platform pays the co-op treasury 30,000 sat')
  await waitFor(() => channel().settled && channel().localMsat === RECEIVED_MSAT, 'the treasury holds 30,000 sat')
  t.equal(channel().spendableMsat, RECEIVED_MSAT - RESERVE_SAT * 1000, 'it may spend all but the reserve')

  // The payout: the largest amount whose payment and hub fee fit in what it may spend.
  const policy = treasury.hubPolicyInfo!
  const payout = amountToForward(channel().spendableMsat, policy)!
  const invoice = await member.createInvoice({ amountMsat: payout, memo: 'payout' })
  const out = await treasury.pay(invoice.invoice)
  t.match(out, { ok: true, amountMsat: payout }, `the treasury pays out ${payout} msat`)
  await waitFor(() => channel().settled && member.channels()[0]!.localMsat === payout, 'the payout settled')
  const left = channel().localMsat
  t.ok(left >= RESERVE_SAT * 1000 && left - RESERVE_SAT * 1000 < 1_000, `it keeps the reserve and less than 1 sat more (${left} msat)`)
  t.ok(left - RESERVE_SAT * 1000 < RECEIVED_MSAT / 100, '… so not the last 1% of what it received')

  const one = await member.createInvoice({ amountMsat: 1_000, memo: 'one sat more' })
  const refused = await treasury.pay(one.invoice)
  t.match(refused, {
    ok: false, reason: 'insufficient_balance', detail: /below the channel reserve of 546000 msat the peer requires/,
  }, 'one more sat is refused: it would go below the reserve')
  t.equal(channel().localMsat, left, '… and nothing moved')

  // Closing pays out the reserve too.
  const closing = await treasury.close()
  t.ok(closing.ok, 'the treasury closes its channel cooperatively')
  const closed = closing.ok ? closing.closed[0] : undefined
  t.equal(closed?.localSat, Math.floor(left / 1000), 'the closing transaction pays it its balance, reserve included')
  await btc.mine(1)
  const tx = await btc.chain.getRawTransaction(closed!.closingTxid)
  t.ok(tx.ok && tx.value !== null && tx.value.tx.outputs.some(o => o.value === closed!.localSat), '… on-chain')
})
