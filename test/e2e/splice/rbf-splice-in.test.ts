// End to end, real everything: splice-ins replaced at a higher feerate, each paid by the same wallet
// coins as the splice it replaces. A platform's spliceIn from its SDK wallet, replaced with spliceRbf;
// a hub top-up (admin POST /channels/splice-in) replaced through admin POST /channels/splice-rbf. Each
// replacement is in btcd's mempool and the original gone; mined, it locks; the wallets paid the amount
// and the higher fee alone, to the sat, and the channels' balances gained exactly the amounts.
import t from 'tap'
import { z } from 'zod'
import { useBtcd } from '../../helpers/btcd.ts'
import { startHubPlatformCreator, waitFor } from '../../helpers/hub.ts'
import { admin, hubWalletTotal } from '../monitor/helpers.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../../protocol/limits.ts'

const SPLICE_IN_SAT = 300_000
const TOP_UP_SAT = 200_000

t.test('e2e: a spliceIn and a hub top-up replaced at a higher feerate: the same coins, the higher fee from the wallet, exact', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(btc, t, {
    name: 'e2e-splice-rbf-in', hubSat: 3_000_000, platformCapacitySat: 1_000_000,
  })
  const mempool = async (): Promise<string[]> => {
    const r = await btc.chain.rpc.request('getrawmempool', [], z.array(z.string()), { idempotent: true })
    if (!r.ok) throw new Error(`getrawmempool: ${r.error.detail}`)
    return r.value
  }
  const spentCoins = async (txid: string): Promise<string[]> => {
    const r = await btc.chain.getRawTransaction(txid)
    return r.ok && r.value !== null ? r.value.tx.inputs.map(i => `${i.txid}:${i.vout}`).sort() : []
  }

  // ── the platform's splice-in, replaced from the SDK ──
  const coin = await btc.faucet(platform.newAddress(), 500_000)
  await btc.mine(1)
  await waitFor(() => platform.wallet.freeCoins().some(u => u.txid === coin.txid), 'the coin in the platform\'s wallet')
  const p0 = platform.channels()[0]!
  const wallet0 = platform.balances().onchain.totalSat
  const first = await platform.spliceIn({ amountSat: SPLICE_IN_SAT, feerateSatPerKw: 1_000 })
  const firstCoins = await spentCoins(first.txid)
  t.ok(firstCoins.includes(`${coin.txid}:${coin.vout}`), 'the splice spends the coin')
  const rbf = await platform.spliceRbf({ txid: first.txid, feerateSatPerKw: 3_000 })
  t.equal(rbf.kind, 'in')
  t.equal(rbf.amountSat, SPLICE_IN_SAT, 'the same amount')
  t.equal(rbf.contributionSat, SPLICE_IN_SAT, 'the balance gains the amount; the coins pay the fee')
  t.ok(rbf.feeSat > first.feeSat, `a higher fee: ${rbf.feeSat} > ${first.feeSat} sat`)
  t.same(await spentCoins(rbf.txid), firstCoins, 'the replacement spends the same coins (and the same funding output)')
  const pool = await mempool()
  t.ok(pool.includes(rbf.txid) && !pool.includes(first.txid), 'the replacement is in btcd\'s mempool, the original gone')
  t.equal(platform.balances().onchain.totalSat, wallet0, 'the coin is locked, not gone')

  // ── the hub's top-up of the creator's channel, replaced through the admin API ──
  const c0 = creator.channels()[0]!
  const hubWallet0 = await hubWalletTotal(hub)
  const up = await admin(hub, '/channels/splice-in', { channel_id: c0.channelId, amount_sat: TOP_UP_SAT })
  t.equal(up.status, 200, `the top-up is signed: ${JSON.stringify(up.body)}`)
  const upCoins = await spentCoins(up.body.txid)
  t.ok(upCoins.length >= 2, 'the top-up spends the hub\'s coins and the funding output')
  const tooLow = await admin(hub, '/channels/splice-rbf', { channel_id: c0.channelId, txid: up.body.txid, feerate_per_kw: 1_001 })
  t.match(
    tooLow, { status: 409, body: { error: /25\/24/ } }, `below 25/24 of the top-up's feerate: refused (${JSON.stringify(tooLow.body)})`,
  )
  const upRbf = await admin(hub, '/channels/splice-rbf', { channel_id: c0.channelId, txid: up.body.txid, feerate_per_kw: 3_000 })
  t.equal(upRbf.status, 200, `the replacement is signed: ${JSON.stringify(upRbf.body)}`)
  t.not(upRbf.body.txid, up.body.txid)
  t.equal(upRbf.body.amount_sat, TOP_UP_SAT, 'the same amount')
  t.ok(upRbf.body.fee_sat > up.body.fee_sat, `a higher fee: ${upRbf.body.fee_sat} > ${up.body.fee_sat} sat`)
  t.equal(upRbf.body.capacity_sat, c0.capacitySat + TOP_UP_SAT, 'the new capacity')
  t.same(await spentCoins(upRbf.body.txid), upCoins, 'the same coins of the hub')
  const pool2 = await mempool()
  t.ok(pool2.includes(upRbf.body.txid) && !pool2.includes(up.body.txid), 'the top-up\'s replacement is in the mempool, the original gone')

  // ── mined and locked ──
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  await platform.untilSpliceLocked({ txid: rbf.txid, timeoutMs: 60_000 })
  const locked = await creator.untilSpliceLocked({ txid: upRbf.body.txid, timeoutMs: 60_000 })
  t.equal(locked.capacitySat, c0.capacitySat + TOP_UP_SAT, 'the creator sees the replacement\'s capacity')
  for (const txid of [first.txid, up.body.txid]) {
    const gone = await btc.chain.getRawTransaction(txid)
    t.ok(gone.ok && gone.value === null, `the original ${txid} never confirmed`)
  }
  await waitFor(() => platform.balances().onchain.totalSat === wallet0 - SPLICE_IN_SAT - rbf.feeSat, 'the platform wallet paid')
  t.equal(
    platform.balances().onchain.totalSat, wallet0 - SPLICE_IN_SAT - rbf.feeSat, 'platform wallet − amount − the higher fee, to the sat',
  )
  await waitFor(async () => await hubWalletTotal(hub) === hubWallet0 - TOP_UP_SAT - upRbf.body.fee_sat, 'the hub wallet paid')
  t.equal(await hubWalletTotal(hub), hubWallet0 - TOP_UP_SAT - upRbf.body.fee_sat, 'hub wallet − top-up − the higher fee, to the sat')
  const splices = await admin(hub, '/splices')
  t.match(splices.body.find((s: { txid: string }) => s.txid === upRbf.body.txid), { kind: 'topup', amount_sat: TOP_UP_SAT, locked: true })
  t.match(
    splices.body.find((s: { txid: string }) => s.txid === up.body.txid), { kind: 'topup', locked: false, replaced_by: upRbf.body.txid },
    'GET /splices: the original top-up was replaced by the one that locked',
  )
  t.match(
    splices.body.find((s: { txid: string }) => s.txid === rbf.txid), { kind: 'in', amount_sat: SPLICE_IN_SAT, locked: true },
    'the platform\'s replacement, seen by the hub',
  )
  t.equal(splices.body.find((s: { txid: string }) => s.txid === rbf.txid).replaced_by, undefined, 'the one that locked was not replaced')
  t.match(splices.body.find((s: { txid: string }) => s.txid === first.txid), { locked: false, replaced_by: rbf.txid }, '… its original was')

  await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.settled, 'settled')
  const p1 = platform.channels()[0]!
  t.equal(p1.fundingTxid, rbf.txid)
  t.equal(p1.localMsat, p0.localMsat + SPLICE_IN_SAT * 1000, 'the platform\'s balance gained the amount, to the msat')
  const c1 = creator.channels()[0]!
  t.equal(c1.fundingTxid, upRbf.body.txid)
  t.equal(c1.localMsat, c0.localMsat, 'the creator\'s balance did not move')
  t.equal(c1.remoteMsat, c0.remoteMsat + TOP_UP_SAT * 1000, 'the hub\'s side gained the top-up, to the msat')
  const inv = await creator.createInvoice({ amountMsat: 50_000_000 })
  const r = await platform.pay(inv.invoice)
  t.ok(r.ok, `a payment after both replacements: ${r.ok ? 'paid' : `${r.reason} ${r.detail}`}`)
})
