// Scenario 3 and 24 for the replacement (RBF) of a payout batch: the hub, a real child process, is
// SIGKILLed at the durable writes of a replacement (hub/settlement/record.ts; settle:<stage>) and
// restarted clean on the same data directory:
//   settle:rbf_negotiating   the replacement's record, before any tx_init_rbf leaves
//   settle:signed            every peer signed the replacement: before the hub's tx_signatures leave
// After the restart the replacement is abandoned cleanly (the batch's broadcast transaction current
// again; a later replacement is made) or completed (broadcast); either way one of the batch's
// transactions confirms, each creator is paid exactly once by it, to the sat, the others are never in
// the chain, and the hub agrees on every balance.
import t from 'tap'
import { addressScript } from '../../host/wallet/address.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../protocol/limits.ts'
import { useBtcd, type Btcd } from '../helpers/btcd.ts'
import { waitFor } from '../helpers/hub.ts'
import { admin } from '../e2e/monitor/helpers.ts'
import { FINALITY_DEPTH, KEEP_SAT, setting, settlement, untilStage } from '../e2e/settlement/fixture.ts'

const EARNED_MSAT = 25_000_000
const CASES = ['after:settle:rbf_negotiating:1', 'after:settle:signed:1', 'before:settle:rbf_negotiating:1']

async function emptyBlock (btc: Btcd): Promise<void> {
  const r = await btc.chain.submitBlock([])
  if (!r.ok) throw new Error(`submitblock: ${r.error.kind}`)
  const s = await btc.chain.syncFollowers()
  if (!s.ok) throw new Error(s.error.detail)
}

t.test('scenario 3, 24: SIGKILL of the hub at each write of a batch replacement; one transaction confirms, paid exactly once', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creators } = await setting(btc, t, {
    name: 'chaos-settle-rbf', creators: 2, settlement: { rbfAfterBlocks: 1, maxFeeratePerKw: 20_000 },
  })
  for (const c of creators) await c.client.setPayoutPolicy({
    address: c.address, thresholdSat: 20_000, intervalBlocks: 1, keepSat: KEEP_SAT,
  })
  let id = 0
  for (const crashAt of CASES) {
    await hub.restart()
    for (const c of [platform, ...creators.map(x => x.client)]) await c.untilReestablished()
    for (const c of creators) {
      const r = await platform.pay((await c.client.createInvoice({ amountMsat: EARNED_MSAT })).invoice)
      t.ok(r.ok, `${crashAt}: a payment to the creator`)
      await waitFor(() => c.client.channels()[0]!.settled, 'settled')
    }
    const before = creators.map(c => c.client.channels()[0]!.localMsat)
    const wallets = creators.map(c => c.client.wallet.utxos().filter(u => u.script === scriptOf(c.address)).length)
    await btc.mine(1)
    const run = await admin(hub, '/settlement/run', {})
    t.equal(run.body.started, true, `${crashAt}: settle now starts a batch`)
    t.equal(run.body.batch.id, id)
    const original = await untilStage(hub, id, 'broadcast')
    await waitFor(
      async () => { const r = await btc.chain.getRawTransaction(original.txid); return r.ok && r.value !== null }, 'in the mempool',
    )

    // Armed, then a block without the batch: the replacement starts and the hub dies at the write.
    await hub.restart({ HUB_CRASH_AT: crashAt })
    for (const c of [platform, ...creators.map(x => x.client)]) await c.untilReestablished()
    let died = false
    const watch = hub.exited().then(async () => { died = true; await hub.restart() })
    await emptyBlock(btc)
    await waitFor(() => died, `${crashAt}: the hub dies`, 120_000)
    await watch
    for (const c of [platform, ...creators.map(x => x.client)]) await c.untilReestablished()

    if (crashAt === 'after:settle:rbf_negotiating:1') {
      // The restart's resume runs once the channels are loaded.
      let b: any
      await waitFor(async () => {
        const s = await settlement(hub)
        b = [s.in_progress, ...s.last_batches].find((x: any) => x?.id === id)
        return b?.stage !== 'negotiating'
      }, `${crashAt}: the restart's resume`, 60_000, 200)
      t.equal(b?.stage, 'broadcast', `${crashAt}: the replacement written before the crash is abandoned at the restart`)
      t.equal(b?.txid, original.txid, `${crashAt}: the batch's broadcast transaction is current again`)
      t.match(b?.replace_failed?.reason ?? '', /restarted/, `${crashAt}: the status says why`)
    }
    // Blocks without it until a replacement is broadcast (one abandoned at the restart is made again).
    // The replacement's broadcast (a replacement signed before the crash is broadcast by the restart).
    const resumesSigned = crashAt.startsWith('after:settle:signed')
    const broadcastLine = resumesSigned ? undefined : hub.waitLine(l => l.event === 'settlement_broadcast' && l.batch === id, 180_000)
    let replaced: any
    for (let k = 0; k < 8 && replaced === undefined; k++) {
      const s = await settlement(hub)
      const b = [s.in_progress, ...s.last_batches].find((x: any) => x?.id === id)
      if (b?.stage === 'broadcast' && b.replacements.length > 0) { replaced = b; break }
      if (b?.stage === 'broadcast') await emptyBlock(btc)
      await new Promise(resolve => setTimeout(resolve, 3_000))
    }
    t.ok(replaced !== undefined, `${crashAt}: a replacement is broadcast after the restart`)
    t.equal(replaced.replacements[0]?.txid, original.txid, `${crashAt}: it replaces the batch's transaction`)
    if (broadcastLine !== undefined) {
      const line = await broadcastLine
      t.equal(line.ok, true, `${crashAt}: our node took the replacement (${String(line.error ?? "")})`)
    }
    await waitFor(
      async () => { const r = await btc.chain.getRawTransaction(replaced.txid); return r.ok && r.value !== null }, 'replacement',
    )
    await btc.mine(FINALITY_DEPTH)
    const done = await untilStage(hub, id, 'confirmed')
    t.equal(done.txid, replaced.txid, `${crashAt}: the replacement confirmed`)
    for (const x of done.replacements) {
      const r = await btc.chain.getRawTransaction(x.txid)
      t.ok(r.ok && r.value === null, `${crashAt}: ${x.txid.slice(0, 8)} (replaced) is not in the chain`)
    }
    await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
    for (const [k, c] of creators.entries()) {
      await c.client.untilSpliceLocked({ txid: done.txid, timeoutMs: 120_000 })
      await waitFor(() => c.client.channels()[0]!.settled && c.client.channels()[0]!.fundingTxid === done.txid, `${crashAt}: locked`)
      const p = done.payouts.find((x: any) => x.channel_id === c.channelId)
      t.equal(c.client.channels()[0]!.localMsat, before[k]! - (p.payout_sat + p.fee_sat) * 1000, `${crashAt}: creator ${k} paid once`)
      await waitFor(() => c.client.wallet.utxos().filter(u => u.script === scriptOf(c.address)).length === wallets[k]! + 1,
        `${crashAt}: creator ${k}'s payout coin`)
      const coin = c.client.wallet.utxos().find(u => u.txid === done.txid && u.script === scriptOf(c.address))
      t.equal(coin?.value, p.payout_sat, `${crashAt}: creator ${k}'s payout exactly, by the replacement`)
      const hubView = ((await admin(hub, '/channels')).body as any[]).find(x => x.channel_id === c.channelId)
      t.equal(hubView.remote_msat, c.client.channels()[0]!.localMsat, `${crashAt}: the hub agrees with creator ${k}`)
    }
    id++
  }
})

const scriptOf = (address: string): string => (addressScript(address) as { ok: true; value: string }).value
