// A payout batch replaced at a higher feerate (docs/DESIGN.md "Batched settlement", reorgs and RBF):
// the batch is broadcast, blocks are mined without it (submitblock of an empty block), and after
// settlement.rbfAfterBlocks the hub replaces it through tx_init_rbf in every channel's session, each
// creator checking its new terms before it signs; each payout's fee share grows by the fee rule at the
// new feerate, the amount out of each channel stays. At the operator's cap no further replacement is
// made and GET /settlement says so. The last replacement confirms: each creator is paid once, by it,
// to the sat, the replaced transactions are never counted, and both sides agree on the balances.
// Real btcd, the hub process, SDK clients.
import t from 'tap'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../../protocol/limits.ts'
import { addressScript } from '../../../host/wallet/address.ts'
import { useBtcd, type Btcd } from '../../helpers/btcd.ts'
import { waitFor } from '../../helpers/hub.ts'
import { admin } from '../monitor/helpers.ts'
import { FINALITY_DEPTH, KEEP_SAT, setting, settlement, untilStage } from './fixture.ts'

const FEERATE = 1_000
/** 1_000 → 1_260 → 1_520 (each at least 25/24 and 260 sat/kw more); 1_780 would be above the cap. */
const CAP = 1_520

/** A block with none of the mempool's transactions. */
async function emptyBlock (btc: Btcd): Promise<void> {
  const r = await btc.chain.submitBlock([])
  if (!r.ok) throw new Error(`submitblock: ${r.error.kind}`)
  const s = await btc.chain.syncFollowers()
  if (!s.ok) throw new Error(s.error.detail)
}

const inMempool = async (btc: Btcd, txid: string): Promise<boolean> => {
  const r = await btc.chain.getRawTransaction(txid)
  return r.ok && r.value !== null && (r.value.confirmations ?? 0) === 0
}

t.test('e2e: an unconfirmed batch is replaced at higher feerates up to the cap; the last confirms, paid once, exact', async t => {
  const btc = await useBtcd(t)
  const { hub, creators } = await setting(btc, t, {
    name: 'e2e-settle-rbf', creators: 2, settlement: { feeratePerKw: FEERATE, maxFeeratePerKw: CAP, rbfAfterBlocks: 1 },
  })
  for (const c of creators) await c.client.setPayoutPolicy({
    address: c.address, thresholdSat: 20_000, intervalBlocks: 1, keepSat: KEEP_SAT,
  })
  const before = creators.map(c => c.client.channels()[0]!.localMsat)
  const run = await admin(hub, '/settlement/run', {})
  t.equal(run.body.started, true, `settle now starts a batch (${JSON.stringify(run.body).slice(0, 200)})`)
  const id = run.body.batch.id as number
  const original = await untilStage(hub, id, 'broadcast')
  t.equal(original.feerate_per_kw, FEERATE, 'broadcast at the configured feerate')
  t.same(original.replacements, [], 'nothing replaced yet')
  await waitFor(() => inMempool(btc, original.txid), 'the batch in the mempool')

  // One block without it: replaced at 1_260 sat/kw.
  const first = await replacedAfterEmptyBlock(original.txid, 1)
  t.equal(first.feerate_per_kw, 1_260, 'the first replacement: 25/24, at least 260 sat/kw more')
  t.same(first.replacements.map((r: any) => [r.txid, r.feerate_per_kw]), [[original.txid, FEERATE]], 'it names what it replaced')
  // Another block without it: replaced at 1_520, the cap.
  const second = await replacedAfterEmptyBlock(first.txid, 2)
  t.equal(second.feerate_per_kw, CAP, 'the second replacement, at the cap')
  t.same(
    second.replacements.map((r: any) => [r.txid, r.feerate_per_kw]), [[original.txid, FEERATE], [first.txid, 1_260]],
    'both earlier transactions listed, oldest first',
  )
  for (const [k, c] of creators.entries()) {
    const o = original.payouts.find((x: any) => x.channel_id === c.channelId)
    const s = second.payouts.find((x: any) => x.channel_id === c.channelId)
    t.ok(s.fee_sat > o.fee_sat, `creator ${k}: its fee share grew (${o.fee_sat} → ${s.fee_sat} sat)`)
    t.equal(s.payout_sat + s.fee_sat, o.payout_sat + o.fee_sat, `creator ${k}: the same amount out of its channel, the fee from the payout`)
  }
  t.ok(second.fee_sat > first.fee_sat && first.fee_sat > original.fee_sat, 'each replacement pays more fee')
  // At the cap: more blocks without it, no further replacement, and the status says so.
  await emptyBlock(btc)
  await emptyBlock(btc)
  const capped = await untilRbf(second.txid)
  t.equal(capped.rbf.at_cap, true, `GET /settlement: at the cap (${JSON.stringify(capped.rbf)})`)
  t.equal(capped.rbf.max_feerate_per_kw, CAP)
  t.equal(capped.txid, second.txid, 'no further replacement')
  t.equal(capped.replacements.length, 2)
  t.ok(await inMempool(btc, second.txid), 'the last replacement waits in the mempool')

  // It confirms; the replaced transactions never do, and are never counted.
  await btc.mine(FINALITY_DEPTH)
  const confirmed = await untilStage(hub, id, 'confirmed')
  t.equal(confirmed.txid, second.txid, 'the batch is done by the last replacement')
  for (const gone of [original.txid, first.txid]) {
    const r = await btc.chain.getRawTransaction(gone)
    t.ok(r.ok && r.value === null, `${gone.slice(0, 8)} (replaced) is neither in the chain nor in the mempool`)
  }
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  for (const [k, c] of creators.entries()) {
    const script = (addressScript(c.address) as { ok: true; value: string }).value
    const p = confirmed.payouts.find((x: any) => x.channel_id === c.channelId)
    await waitFor(() => c.client.wallet.utxos().some(u => u.txid === second.txid), `creator ${k}'s wallet sees its payout`)
    const coins = c.client.wallet.utxos().filter(u => u.script === script)
    t.same(coins.map(u => [u.txid, u.value]), [[second.txid, p.payout_sat]], `creator ${k} was paid once, by the replacement, exactly`)
    const locked = await c.client.untilSpliceLocked({ txid: second.txid, timeoutMs: 60_000 })
    await waitFor(() => c.client.channels()[0]!.link === 'up' && c.client.channels()[0]!.settled, `creator ${k} ready`)
    t.equal(
      c.client.channels()[0]!.localMsat, before[k]! - (p.payout_sat + p.fee_sat) * 1000, `creator ${k}: its balance less payout and fee`,
    )
    const hubSide = ((await admin(hub, '/channels')).body as any[]).find(x => x.channel_id === c.channelId)
    t.equal(hubSide.remote_msat, c.client.channels()[0]!.localMsat, `creator ${k}: the hub agrees on the balance`)
    t.equal(hubSide.capacity_sat, locked.capacitySat, `creator ${k}: and on the capacity`)
  }

  /** Mines one empty block and waits until the batch's current transaction replaced `txid` (the
   *  `count`-th replacement), broadcast and in the mempool. */
  async function replacedAfterEmptyBlock (txid: string, count: number): Promise<any> {
    await emptyBlock(btc)
    let found: any
    await waitFor(async () => {
      const s = await settlement(hub)
      found = [s.in_progress, ...s.last_batches].find((b: any) => b?.id === id)
      return found?.stage === 'broadcast' && found.replacements.length === count && await inMempool(btc, found.txid)
    }, `replacement ${count} of ${txid.slice(0, 8)} broadcast`, 120_000, 200)
    t.not(found.txid, txid, `replacement ${count} is another transaction`)
    t.notOk(await inMempool(btc, txid), `replacement ${count} took the place of ${txid.slice(0, 8)} in the mempool`)
    return found
  }

  async function untilRbf (txid: string): Promise<any> {
    let found: any
    await waitFor(async () => {
      const s = await settlement(hub)
      found = [s.in_progress, ...s.last_batches].find((b: any) => b?.id === id)
      return found?.txid === txid && found.rbf !== undefined && s.height >= (await btc.chain.tip() as any).value.height
    }, 'the status at the new height', 60_000, 200)
    return found
  }
})
