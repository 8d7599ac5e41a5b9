// Scenario 3 and 24 for payout batches: the hub, a real child process, is SIGKILLed just before and just
// after each durable write of a batch (hub/settlement/record.ts; host/crash-points.ts settle:<stage>)
// and restarted clean on the same data directory:
//   settle:negotiating   the record, before the first splice_init
//   settle:signed        every peer signed: the signed transaction, before the hub's tx_signatures leave
//   settle:broadcast     handed to our node
//   settle:confirmed     at settlement.finalityDepth
// After each restart the batch is either abandoned cleanly (nothing of it was signed: a new batch pays
// the creators) or completed (its signed transaction broadcast, every session finished); either way each
// creator is paid exactly once, its balance moves by exactly its payout and fee share, the hub agrees,
// and the channel still pays.
import t from 'tap'
import { addressScript } from '../../host/wallet/address.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../protocol/limits.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { waitFor } from '../helpers/hub.ts'
import { admin } from '../e2e/monitor/helpers.ts'
import { FINALITY_DEPTH, KEEP_SAT, setting, settlement, untilStage } from '../e2e/settlement/fixture.ts'

const STAGES = ['negotiating', 'signed', 'broadcast', 'confirmed']
const EARNED_MSAT = 25_000_000

t.test('scenario 3, 24: SIGKILL of the hub before/after each write of a payout batch; it completes or is abandoned, paid exactly once', async t => {
  const btc = await useBtcd(t)
  const s = await setting(btc, t, { name: 'chaos-settle', creators: 2 })
  const { hub, platform, creators } = s
  for (const c of creators) await c.client.setPayoutPolicy({
    address: c.address, thresholdSat: 20_000, intervalBlocks: 1, keepSat: KEEP_SAT,
  })
  let expectedId = 0

  for (const stage of STAGES) {
    for (const phase of ['before', 'after'] as const) {
      const crashAt = `${phase}:settle:${stage}:1`
      await hub.restart({ HUB_CRASH_AT: crashAt })
      for (const c of [platform, ...creators.map(x => x.client)]) await c.untilReestablished()
      // Each creator earned more than its threshold since the last batch.
      for (const c of creators) {
        const r = await platform.pay((await c.client.createInvoice({ amountMsat: EARNED_MSAT })).invoice)
        t.ok(r.ok, `${crashAt}: a payment to the creator${r.ok ? '' : ` (${r.reason}: ${r.detail})`}`)
        await waitFor(() => c.client.channels()[0]!.settled, 'settled')
      }
      const before = creators.map(c => c.client.channels()[0]!.localMsat)
      const wallets = creators.map(c => c.client.wallet.utxos().filter(u => u.script === scriptOf(c.address)).length)
      let died = false
      const watch = hub.exited().then(async () => { died = true; await hub.restart() })
      await btc.mine(1)
      // A crash while the run writes its record leaves the request unanswered.
      const run = await admin(hub, '/settlement/run', {}).catch(() => undefined)
      if (run !== undefined) t.equal(run.body.started, true, `${crashAt}: settle now starts a batch`)
      // The batch that pays: this one, or (abandoned at the restart) the next one we start.
      let id = expectedId
      const stagesOf = async (): Promise<any> => {
        const st = await settlement(hub)
        return [st.in_progress, ...st.last_batches].find((b: any) => b?.id === id)
      }
      if (stage === 'confirmed') {
        await untilStage(hub, id, 'broadcast')
        await btc.mine(FINALITY_DEPTH)
        // The hub looks at the batch's depth at each block; one whose node lookup failed looks again at
        // the next block (a loaded machine): mine until the write at depth is reached.
        for (let extra = 0; !died && extra < 10; extra++) {
          await new Promise(resolve => setTimeout(resolve, 2_000))
          if (!died) await btc.mine(1)
        }
      }
      await waitFor(() => died, `${crashAt}: the hub dies`, 60_000)
      await watch
      t.ok(died, `${crashAt}: the hub died there`)
      for (const c of [platform, ...creators.map(x => x.client)]) await c.untilReestablished()
      const after = await waitForSettled(async () => await stagesOf())
      if (after === undefined || after.stage === 'abandoned') {
        t.ok(stage === 'negotiating', `${crashAt}: only a batch not yet released is abandoned (${after?.stage ?? 'no record'})`)
        if (after !== undefined) t.match(after.reason, /restarted/, `${crashAt}: abandoned at the restart`)
        id = after === undefined ? expectedId : expectedId + 1
        await btc.mine(1)
        const again = await admin(hub, '/settlement/run', {})
        t.equal(again.body.started, true, `${crashAt}: a new batch starts`)
        t.equal(again.body.batch.id, id)
      } else {
        t.not(stage === 'negotiating' && phase === 'before', true, `${crashAt}: nothing was written before the crash, yet a batch exists`)
      }
      const done = await untilStage(hub, id, ['broadcast', 'confirmed'])
      if (done.stage !== 'confirmed') {
        await btc.mine(FINALITY_DEPTH)
        await untilStage(hub, id, 'confirmed')
      }
      expectedId = id + 1
      await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
      for (const [k, c] of creators.entries()) {
        await c.client.untilSpliceLocked({ txid: done.txid, timeoutMs: 120_000 })
        await waitFor(() => c.client.channels()[0]!.settled && c.client.channels()[0]!.fundingTxid === done.txid, `${crashAt}: locked`)
        const p = done.payouts.find((x: any) => x.channel_id === c.channelId)
        t.ok(p !== undefined, `${crashAt}: creator ${k} in the batch`)
        t.equal(c.client.channels()[0]!.localMsat, before[k]! - (p.payout_sat + p.fee_sat) * 1000, `${crashAt}: creator ${k} paid once`)
        await waitFor(() => c.client.wallet.utxos().filter(u => u.script === scriptOf(c.address)).length === wallets[k]! + 1,
          `${crashAt}: creator ${k}'s payout coin`)
        const coin = c.client.wallet.utxos().find(u => u.txid === done.txid && u.script === scriptOf(c.address))
        t.equal(coin?.value, p.payout_sat, `${crashAt}: creator ${k}'s payout exactly`)
        const hubView = ((await admin(hub, '/channels')).body as any[]).find(x => x.channel_id === c.channelId)
        t.equal(hubView.remote_msat, c.client.channels()[0]!.localMsat, `${crashAt}: the hub agrees with creator ${k}`)
        t.equal(c.client.channels()[0]!.phase, 'normal', `${crashAt}: creator ${k}'s channel stays open`)
      }
      const r = await platform.pay((await creators[0]!.client.createInvoice({ amountMsat: 1_000_000 })).invoice)
      t.ok(r.ok, `${crashAt}: the channels pay after the batch`)
    }
  }
})

const scriptOf = (address: string): string => (addressScript(address) as { ok: true; value: string }).value

/** The batch once its stage no longer moves on its own after a restart (abandoned, or past negotiating). */
async function waitForSettled (get: () => Promise<any>): Promise<any> {
  let last: any
  for (let i = 0; i < 100; i++) {
    last = await get().catch(() => undefined)
    if (last === undefined || last.stage !== 'negotiating') return last
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  return last
}
