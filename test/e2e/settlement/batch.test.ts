// Batched settlement end to end (docs/DESIGN.md "Batched settlement", scenario 24): three creators set
// payout policies through the SDK; the operator's "settle now" plans one batch; every creator checks
// its terms and the complete transaction, signs, and one transaction on chain pays every payout
// exactly and carries the audit anchor. The batch is reorged out before its finality depth: it is
// not counted done, comes back and confirms, and nothing is paid twice. The channels then keep
// working at their new capacity. Real btcd, the hub process, SDK clients.
import t from 'tap'
import { commitmentOfScript } from '../../../protocol/audit/anchor.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../../protocol/limits.ts'
import { addressScript } from '../../../host/wallet/address.ts'
import { useBtcd } from '../../helpers/btcd.ts'
import { waitFor } from '../../helpers/hub.ts'
import { admin } from '../monitor/helpers.ts'
import { FINALITY_DEPTH, KEEP_SAT, PAID_SAT, setting, settlement, untilStage } from './fixture.ts'

t.test('e2e: one batch pays three creators exactly, carries the anchor, survives a reorg before depth, and the channels go on', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creators } = await setting(btc, t, { name: 'e2e-settle-batch', creators: 3 })
  for (const c of creators) await c.client.setPayoutPolicy({
    address: c.address, thresholdSat: 20_000, intervalBlocks: 1, keepSat: KEEP_SAT,
  })
  const policies = (await admin(hub, '/policies')).body as Array<{ node_id: string; set_by: string }>
  t.equal(policies.filter(p => p.set_by === 'account').length, 3, 'each creator\'s policy is stored at the hub, set by the account')
  const before = creators.map(c => c.client.channels()[0]!.localMsat)

  const run = await admin(hub, '/settlement/run', {})
  t.equal(run.status, 200)
  t.equal(run.body.started, true, `settle now starts a batch (${JSON.stringify(run.body).slice(0, 200)})`)
  const id = run.body.batch.id as number
  const broadcast = await untilStage(hub, id, 'broadcast')
  t.equal(broadcast.channels.length, 3, 'all three channels in one batch')
  t.equal(broadcast.round, 1, 'in its first round')
  const txid = broadcast.txid as string

  // The transaction on our node: every payout to its creator's address, exactly.
  await waitFor(
    async () => { const r = await btc.chain.getRawTransaction(txid); return r.ok && r.value !== null }, 'the batch in the mempool',
  )
  const tx = (await btc.chain.getRawTransaction(txid)) as { ok: true; value: { tx: any } }
  t.equal(tx.value.tx.inputs.length, 3, 'one input per channel')
  for (const [k, c] of creators.entries()) {
    const p = broadcast.payouts.find((x: any) => x.channel_id === c.channelId)
    t.ok(p !== undefined, `creator ${k} is paid`)
    const script = (addressScript(c.address) as { ok: true; value: string }).value
    t.equal(p.payout_script, script, `creator ${k}'s payout goes to its policy's address`)
    const outs = tx.value.tx.outputs.filter((o: any) => o.scriptPubKey === script)
    t.equal(outs.length, 1, `one output to creator ${k}`)
    t.equal(outs[0]?.value, p.payout_sat, `creator ${k}'s output is its payout exactly`)
    const balanceSat = Math.floor(before[k]! / 1000)
    t.equal(p.payout_sat + p.fee_sat, balanceSat - KEEP_SAT, `creator ${k}: payout and fee share are its balance above what it keeps`)
    t.ok(balanceSat >= PAID_SAT, `creator ${k} had been paid`)
  }
  // The audit anchor: one zero-value OP_RETURN, the anchor the hub records as carried by this batch.
  const anchorOuts = tx.value.tx.outputs.filter((o: any) => commitmentOfScript(o.scriptPubKey) !== null)
  t.equal(anchorOuts.length, 1, 'one anchor output')
  t.equal(anchorOuts[0]?.value, 0, 'of value 0')
  const anchors = (await admin(hub, '/audit/anchors')).body.anchors as Array<{ root: string; commitment: string; txids: string[] }>
  const anchor = anchors.find(a => a.txids.includes(txid))
  t.ok(anchor !== undefined, 'the hub recorded the batch as the anchor\'s carrier')
  t.equal(anchor?.root, broadcast.anchor_root, 'GET /settlement names the anchored root')
  t.equal(commitmentOfScript(anchorOuts[0]!.scriptPubKey), anchor?.commitment, 'the OP_RETURN commits the anchor')

  // Confirmed once, then reorged out before the finality depth: not done, and back in the chain.
  await btc.mine(1)
  const first = (await btc.chain.getRawTransaction(txid)) as { ok: true; value: { confirmations: number; block?: { hash: string } } }
  t.equal(first.value.confirmations, 1, 'one confirmation')
  const reorged = hub.waitLine(l => l.event === 'settlement_reorged' && l.txid === txid, 60_000)
  const inv = await btc.chain.invalidateBlock(first.value.block!.hash)
  t.ok(inv.ok, 'invalidateblock')
  await reorged
  const after = await settlement(hub)
  const rec = [after.in_progress, ...after.last_batches].find((b: any) => b?.id === id)
  t.equal(rec.stage, 'broadcast', 'reorged out: the batch is not done')
  t.equal(rec.confirmed, false)
  await btc.mine(FINALITY_DEPTH)
  const confirmed = await untilStage(hub, id, 'confirmed')
  t.equal(confirmed.confirmed, true, 'confirmed at the finality depth after the reorg')
  t.equal(confirmed.txid, txid, 'the same transaction')

  // Nothing paid twice: each creator's wallet holds exactly one payout coin.
  for (const [k, c] of creators.entries()) {
    const script = (addressScript(c.address) as { ok: true; value: string }).value
    const p = confirmed.payouts.find((x: any) => x.channel_id === c.channelId)
    await waitFor(() => c.client.wallet.utxos().some(u => u.txid === txid), `creator ${k}'s wallet sees its payout`)
    const coins = c.client.wallet.utxos().filter(u => u.script === script)
    t.same(coins.map(u => [u.txid, u.value]), [[txid, p.payout_sat]], `creator ${k} was paid once, exactly`)
  }

  // The new funding locks; balances are exact on both sides, and payments go on.
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  for (const [k, c] of creators.entries()) {
    const locked = await c.client.untilSpliceLocked({ txid, timeoutMs: 60_000 })
    const p = confirmed.payouts.find((x: any) => x.channel_id === c.channelId)
    t.equal(locked.capacitySat, (await hubChannel(c.channelId)).capacity_sat, `creator ${k}: both sides agree on the new capacity`)
    await waitFor(() => c.client.channels()[0]!.link === 'up' && c.client.channels()[0]!.settled, `creator ${k} ready`)
    t.equal(
      c.client.channels()[0]!.localMsat, before[k]! - (p.payout_sat + p.fee_sat) * 1000, `creator ${k}: its balance less payout and fee`,
    )
    t.equal((await hubChannel(c.channelId)).remote_msat, c.client.channels()[0]!.localMsat, `creator ${k}: the hub agrees`)
  }
  const c0 = creators[0]!.client
  const mid = c0.channels()[0]!.localMsat
  const paid = await platform.pay((await c0.createInvoice({ amountMsat: 10_000_000 })).invoice)
  t.ok(paid.ok, `a payment after the batch${paid.ok ? '' : `: ${paid.reason} ${paid.detail}`}`)
  await waitFor(() => c0.channels()[0]!.settled, 'settled')
  t.equal(c0.channels()[0]!.localMsat - mid, 10_000_000, 'the creator received it on its spliced channel')

  async function hubChannel (id: string): Promise<{ capacity_sat: number; remote_msat: number }> {
    return ((await admin(hub, '/channels')).body as any[]).find(c => c.channel_id === id)
  }
})
