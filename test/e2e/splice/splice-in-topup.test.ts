// End to end, real everything: a platform splices coins of its SDK wallet into its channel (spliceIn),
// and the hub tops up its side of a creator's channel whose inbound is used up (admin POST
// /channels/splice-in), after which the creator receives more than its whole old channel could carry
// (each payment within the channel's max_htlc_value_in_flight, which the open fixed at the old
// capacity: a splice does not renegotiate it). Wallets, capacities and balances are checked to the sat.
import t from 'tap'
import { useBtcd } from '../../helpers/btcd.ts'
import { startHubPlatformCreator, waitFor } from '../../helpers/hub.ts'
import { admin } from '../monitor/helpers.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../../protocol/limits.ts'

/** The hub's channels to payees are this small, so a few payments use up the creator's inbound. */
const PAYEE_CHANNEL_SAT = 100_000
const TOP_UP_SAT = 400_000

t.test('e2e: splice-in from the SDK wallet, and a hub top-up that lets a creator receive more than its old inbound', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(btc, t, {
    name: 'e2e-splice-in', hubSat: 3_000_000, platformCapacitySat: 1_000_000, hubConfig: { channels: { fundingSat: PAYEE_CHANNEL_SAT } },
  })

  for (const [who, c] of [['platform', platform], ['creator', creator]] as const) c.on('warning', w => { t.comment(`${who}: ${w}`) })
  // ── splice-in: 300,000 sat of the platform's wallet into its channel ──
  const coin = await btc.faucet(platform.newAddress(), 500_000)
  await btc.mine(1)
  await waitFor(() => platform.wallet.freeCoins().some(u => u.txid === coin.txid), 'the coin in the platform\'s wallet')
  const p0 = platform.channels()[0]!
  const wallet0 = platform.balances().onchain.totalSat
  const splice = await platform.spliceIn({ amountSat: 300_000 })
  t.equal(splice.kind, 'in')
  t.equal(splice.contributionSat, 300_000)
  t.equal(splice.capacitySat, p0.capacitySat + 300_000, 'the capacity grows by the amount')
  t.equal(platform.balances().onchain.totalSat, wallet0, 'the coin is locked, not gone, until the splice confirms')
  t.ok(platform.balances().onchain.spendableSat < wallet0, '… and not spendable')
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  await platform.untilSpliceLocked({ txid: splice.txid, timeoutMs: 60_000 })
  const tx = await btc.chain.getRawTransaction(splice.txid)
  t.ok(
    tx.ok && tx.value !== null && tx.value.tx.inputs.some(i => i.txid === coin.txid && i.vout === coin.vout), 'the splice spent the coin',
  )
  await waitFor(() => platform.balances().onchain.totalSat === wallet0 - 300_000 - splice.feeSat, 'the wallet paid the amount and the fee')
  t.equal(
    platform.balances().onchain.totalSat, wallet0 - 300_000 - splice.feeSat, 'wallet − amount − fee, to the sat (the change came back)',
  )
  await waitFor(() => platform.channels()[0]!.settled, 'settled')
  const p1 = platform.channels()[0]!
  t.equal(p1.localMsat, p0.localMsat + 300_000_000, 'the platform\'s balance gained the amount')
  t.equal(p1.capacitySat, splice.capacitySat)

  // ── the creator's inbound runs out ──
  const c0 = creator.channels()[0]!
  t.equal(c0.capacitySat, PAYEE_CHANNEL_SAT)
  let paid = 0
  for (;;) {
    const inv = await creator.createInvoice({ amountMsat: 20_000_000 })
    const r = await platform.pay(inv.invoice)
    if (!r.ok) { t.equal(r.reason, 'temporary_channel_failure', 'a payment beyond the creator\'s inbound fails for liquidity'); break }
    paid++
    if (paid > 10) { t.fail('the inbound never ran out'); break }
  }
  t.ok(paid >= 3, `${paid} payments of 20,000 sat used up the inbound`)

  // ── the hub tops its side up ──
  const unknown = await admin(hub, '/channels/splice-in', { channel_id: '11'.repeat(32), amount_sat: TOP_UP_SAT })
  t.equal(unknown.status, 404, 'an unknown channel is refused')
  const bad = await admin(hub, '/channels/splice-in', { channel_id: c0.channelId, amount_sat: 0 })
  t.match(bad, { status: 400, body: { error: /amount_sat/ } }, 'a bad amount is refused, naming the field')
  const up = await admin(hub, '/channels/splice-in', { channel_id: c0.channelId, amount_sat: TOP_UP_SAT })
  t.equal(up.status, 200, `the top-up is signed: ${JSON.stringify(up.body)}`)
  t.equal(up.body.capacity_sat, PAYEE_CHANNEL_SAT + TOP_UP_SAT, 'the new capacity')
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  const locked = await creator.untilSpliceLocked({ txid: up.body.txid, timeoutMs: 60_000 })
  t.equal(locked.capacitySat, PAYEE_CHANNEL_SAT + TOP_UP_SAT, 'the creator sees the new capacity')
  const splices = await admin(hub, '/splices')
  t.match(splices.body.find((s: { txid: string }) => s.txid === up.body.txid), { kind: 'topup', amount_sat: TOP_UP_SAT, locked: true })
  t.match(splices.body.find((s: { txid: string }) => s.txid === splice.txid), { kind: 'in', amount_sat: 300_000, locked: true })

  await waitFor(() => creator.channels()[0]!.link === 'up' && creator.channels()[0]!.settled, 'creator channel ready')
  const before = creator.channels()[0]!.localMsat
  const more = 5
  for (let i = 0; i < more; i++) {
    const inv = await creator.createInvoice({ amountMsat: 60_000_000 })
    const r = await platform.pay(inv.invoice)
    t.ok(r.ok, `payment ${i} of 60,000 sat after the top-up: ${r.ok ? 'paid' : `${r.reason} ${r.detail}`}`)
  }
  await waitFor(() => creator.channels()[0]!.settled, 'settled')
  t.equal(creator.channels()[0]!.localMsat, before + more * 60_000_000, `the creator received ${more * 60_000} sat more, to the msat`)
  t.ok(more * 60_000 > c0.capacitySat, 'more than its whole old channel')
})
