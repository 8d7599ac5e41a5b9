// A platform that double-spends the coin it spliced in (scenario 24, docs/DESIGN.md "Splicing"): it
// adds its wallet coin to a splice through the SDK's spliceIn, both sides sign, payments go over the
// spliced channel while the splice is unconfirmed, and then the platform spends the same coin
// elsewhere at a higher fee (btcd's mempool replaces the splice). The splice can never confirm. The
// hub drops it once the conflicting spend is at its finality depth (GET /splices says why), the channel
// stays on its old funding output with every payment made meanwhile, the spliced-in balance was never
// spendable beyond what the old funding allows, and a force close pays each side its due from the old
// funding, to the sat. Both accounting exports of the platform (the SDK's and the hub's GET
// /accounts/:node_id/accounting) reverse the splice-in's row with a splice_dropped row naming the
// spending transaction, so each sums to the balance change to the msat. Real btcd, the hub process,
// SDK clients.
import t from 'tap'
import { z } from 'zod'
import type { AccountingRow } from '../../protocol/accounting/rows.ts'
import type { ChannelState } from '../../protocol/channel/index.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { startHubPlatformCreator, waitFor } from '../helpers/hub.ts'
import { admin, commitFeerate, findSpend, hubWalletTotal } from '../e2e/monitor/helpers.ts'
import { hubAccountingRows, sdkAccountingRows, sumMsat } from '../helpers/accounting.ts'

const HUB_FINALITY = 3
const COIN_SAT = 3_000_000
const SPLICE_IN_SAT = 1_500_000
const PLATFORM_CAPACITY_SAT = 600_000

t.test('adversarial: a spliced-in coin double-spent: the splice is dropped, the old funding holds every payment, exact to the sat', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(btc, t, {
    name: 'adv-splice-double-spend', hubSat: 5_000_000, platformCapacitySat: PLATFORM_CAPACITY_SAT,
    hubConfig: { channels: { fundingSat: 3_000_000, finalityDepth: HUB_FINALITY } },
  })
  const hubChannel = async (id: string): Promise<any> => ((await admin(hub, '/channels')).body as any[]).find(c => c.channel_id === id)
  const mempool = async (): Promise<string[]> => {
    const r = await btc.chain.rpc.request('getrawmempool', [], z.array(z.string()), { idempotent: true })
    if (!r.ok) throw new Error(`getrawmempool: ${r.error.detail}`)
    return r.value
  }
  const pay = async (amountMsat: number): Promise<{ ok: boolean; detail: string; costMsat: number }> => {
    const r = await platform.pay((await creator.createInvoice({ amountMsat })).invoice)
    if (r.ok) await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.settled, 'settled')
    return { ok: r.ok, detail: r.ok ? 'paid' : `${r.reason} ${r.detail}`, costMsat: r.ok ? r.amountMsat + r.feeMsat : 0 }
  }

  const coin = await btc.faucet(platform.newAddress(), COIN_SAT)
  await btc.mine(1)
  await waitFor(() => platform.wallet.freeCoins().some(u => u.txid === coin.txid), 'the coin in the platform\'s wallet')
  const p0 = platform.channels()[0]!
  const c0 = creator.channels()[0]!
  const hubWallet0 = await hubWalletTotal(hub)

  // ── the splice-in, signed by both ──
  const splice = await platform.spliceIn({ amountSat: SPLICE_IN_SAT, feerateSatPerKw: 1_000 })
  const spliceTx = await btc.chain.getRawTransaction(splice.txid)
  t.ok(spliceTx.ok && spliceTx.value?.tx.inputs.some(i => i.txid === coin.txid && i.vout === coin.vout), 'the splice spends the coin')
  t.ok((await mempool()).includes(splice.txid), 'the splice is in btcd\'s mempool')
  await waitFor(async () => (await admin(hub, '/splices')).body.some((s: any) => s.txid === splice.txid), 'the hub saw the splice')

  // ── payments on the spliced state: valid on both fundings ──
  const paid = await pay(40_000_000)
  t.ok(paid.ok, `a payment while the splice is unconfirmed: ${paid.detail}`)
  // Above what the old funding holds for the platform, within what the splice would: refused.
  const tooMuch = await pay((PLATFORM_CAPACITY_SAT + 100_000) * 1000)
  t.notOk(tooMuch.ok, `the spliced-in balance is not spendable before the splice confirms (${tooMuch.detail})`)
  const mid = platform.channels()[0]!
  t.equal(mid.localMsat, p0.localMsat - paid.costMsat, 'the platform paid 40,000 sat and the hub\'s fee')
  t.equal(creator.channels()[0]!.localMsat, c0.localMsat + 40_000_000, 'the creator received 40,000 sat')

  // ── the double-spend: the same coin to the platform itself, mined at once ──
  platform.wallet.release(splice.txid)
  const built = platform.wallet.buildTx([{ address: platform.newAddress(), value: COIN_SAT - 50_000 }])
  if (!built.ok) throw new Error(`buildTx: ${JSON.stringify(built.error)}`)
  t.same(built.value.inputs.map(u => `${u.txid}:${u.vout}`), [`${coin.txid}:${coin.vout}`], 'the double-spend spends the coin alone')
  const seen = hub.waitLine(l => l.event === 'splice_input_spent' && l.txid === splice.txid && l.depth === 1, 60_000)
  const mined = await btc.chain.submitBlock([built.value.hex])
  t.ok(mined.ok, `a block with the double-spend (${mined.ok ? mined.value : JSON.stringify(mined.error)})`)
  const sync = await btc.chain.syncFollowers()
  if (!sync.ok) throw new Error(sync.error.detail)
  t.notOk((await mempool()).includes(splice.txid), 'the splice left btcd\'s mempool: it conflicts with the block')

  // Confirmed, but not final: the splice is still pending at the hub (a reorg could bring it back).
  t.match(await seen, { input: `${coin.txid}:${coin.vout}`, spent_by: built.value.txid }, 'the hub saw the coin spent elsewhere')
  t.equal((await admin(hub, '/splices')).body.find((s: any) => s.txid === splice.txid).dropped, undefined, 'not dropped before final')

  // At the hub's finality depth: dropped, the reason named.
  const droppedLine = hub.waitLine(l => l.event === 'splice_dropped' && l.txid === splice.txid, 60_000)
  await btc.mine(HUB_FINALITY - 1)
  await droppedLine
  const dropped = (await admin(hub, '/splices')).body.find((s: any) => s.txid === splice.txid)
  t.match(dropped, { kind: 'in', locked: false, dropped: new RegExp(`${coin.txid}:${coin.vout} is spent by ${built.value.txid}`) },
    `GET /splices says why: ${dropped.dropped}`)
  const h1 = await hubChannel(p0.channelId)
  t.equal(h1.capacity_sat, PLATFORM_CAPACITY_SAT, 'the hub: the old capacity')
  t.equal(h1.funding_txid, p0.fundingTxid, 'the old funding output')
  t.equal(h1.remote_msat, mid.localMsat, 'the hub: the platform\'s balance is the old one less the payment, no splice-in')

  // A payment after the hub dropped it (the platform's own finality depth is deeper: its commitment
  // batch still names the splice; the hub's commitment_signed without it makes the platform drop it).
  const after = await pay(5_000_000)
  t.ok(after.ok, `a payment after the drop: ${after.detail}`)
  const p1 = platform.channels()[0]!
  t.equal(p1.fundingTxid, p0.fundingTxid, 'the platform: the old funding')
  t.equal(p1.capacitySat, PLATFORM_CAPACITY_SAT, 'the platform: the old capacity')
  const internal = platform as unknown as { channelSet: { channels (): Array<{ driver: { state: ChannelState } }> } }
  t.same(internal.channelSet.channels()[0]!.driver.state.splice?.candidates, [], 'the platform dropped the splice too')
  t.equal(p1.localMsat, p0.localMsat - paid.costMsat - after.costMsat, 'the platform: its old balance less both payments, to the msat')
  t.equal((await hubChannel(p0.channelId)).remote_msat, p1.localMsat, 'the hub agrees')
  t.equal(await hubWalletTotal(hub), hubWallet0, 'the hub\'s wallet did not move')

  // ── both accounting exports: the splice-in row and its reversal, summing to the balance change ──
  const sdkRows = async (): Promise<AccountingRow[]> => await sdkAccountingRows(platform, 1_000)
  const hubRows = async (): Promise<AccountingRow[]> => await hubAccountingRows(hub, platform.nodeId)
  const sum = sumMsat
  const spliceRows = (rows: AccountingRow[]): Array<[string, number, number, number, string]> => rows
    .filter(r => r.kind.startsWith('splice_')).map(r => [r.kind, r.amount_msat, r.onchain_sat, r.fee_msat, r.ref])
  const reversal: Array<[string, number, number, number, string]> = [
    ['splice_in', SPLICE_IN_SAT * 1000, SPLICE_IN_SAT, 0, splice.txid],
    ['splice_dropped', -SPLICE_IN_SAT * 1000, -SPLICE_IN_SAT, 0, `${splice.txid}/${built.value.txid}`],
  ]
  const change = p1.localMsat - p0.localMsat
  await waitFor(async () => (await sdkRows()).some(r => r.kind === 'splice_dropped'), 'the platform\'s reversal row', 60_000)
  t.same(spliceRows(await sdkRows()), reversal, 'the SDK export: the splice-in and its reversal naming the spending transaction')
  t.equal(sum(await sdkRows()), change, `the SDK export sums to the platform's balance change (${change} msat)`)
  t.same(spliceRows(await hubRows()), reversal, 'the hub\'s export of the platform: the same two rows')
  t.equal(sum(await hubRows()), change, 'the hub\'s export of the platform sums to it too')

  // ── a force close pays each side its due from the OLD funding ──
  const feerate = commitFeerate(platform, p0.channelId)
  const tip = await btc.chain.tip()
  const from = tip.ok ? tip.value.height + 1 : 0
  const fc = await admin(hub, '/channels/force-close', { channel_id: p0.channelId })
  t.equal(fc.status, 200, `force close: ${JSON.stringify(fc.body)}`)
  let commit: Awaited<ReturnType<typeof findSpend>>
  for (let i = 0; i < 20 && (commit = await findSpend(btc, p0.fundingTxid!, undefined, from)) === undefined; i++) {
    await new Promise(resolve => setTimeout(resolve, 300))
    await btc.mine(1)
  }
  t.ok(commit !== undefined, 'a commitment spending the old funding output confirmed')
  const outs = commit!.tx.outputs.map(o => o.value as number).sort((a, b) => a - b)
  // The hub's commitment: the platform (funder) pays the fee, 724 × feerate / 1000 without HTLCs.
  const fee = Math.floor(724 * feerate / 1000)
  t.same(
    outs, [Math.floor(p1.localMsat / 1000) - fee, Math.floor(p1.remoteMsat / 1000)].sort((a, b) => a - b),
    'each side\'s due from the old funding: the platform its balance less the commitment fee, the hub its balance',
  )
  t.equal(p1.localMsat + p1.remoteMsat, PLATFORM_CAPACITY_SAT * 1000, 'the channel holds the old capacity: nothing of the splice-in')
})
