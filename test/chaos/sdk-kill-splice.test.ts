// Scenario 3 for splicing, on the SDK's side: the creator, a real SDK child process, is SIGKILLed just
// before and just after each durable write of its own splice-out (SDK_CRASH_AT, host/crash-points.ts),
// and started again clean on the same data directory. The writes of a splice at its initiator:
//   persist:splice_candidate         the transaction complete, before our commitment_signed
//   persist:splice_local_commitment  the hub's commitment_signed for the new funding
//   persist:splice_signed            both tx_signatures: the complete transaction, before its broadcast
//   persist:state                    the splice's depth reached (splice_locked leaves)
//   persist:splice_locked            splice_locked both ways: the new funding replaces the old
// After each restart the splice is resumed (channel_reestablish's next_funding) or forgotten on both
// sides and started again; exactly one payout reaches the chain and the creator's wallet, the balance
// falls by exactly what the capacity fell (the payout and its fee), and the channel pays again. At the
// end the hub's store agrees with both clients.
import t from 'tap'
import type { Balances, ChannelInfo, PayResult, SpliceResult } from '../../client-sdk/index.ts'
import { addressScript } from '../../host/wallet/address.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../protocol/limits.ts'
import { waitFor } from '../helpers/hub.ts'
import { hubAgrees, setupSdkRig } from './sdk-crash-rig.ts'
import type { SdkProcess } from './sdk-process.ts'

const POINTS = [
  'persist:splice_candidate', 'persist:splice_local_commitment', 'persist:splice_signed', 'persist:state', 'persist:splice_locked',
]
const PAYOUT_SAT = 20_000

const channel = async (p: SdkProcess): Promise<ChannelInfo> => (await p.call<ChannelInfo[]>('channels'))[0]!

t.test('scenario 3, 23: SIGKILL of the SDK before/after every write of its splice-out; the splice completes or restarts, exactly one payout', async t => {
  const rig = await setupSdkRig(t)
  const { btc, payer, payee } = rig
  for (let i = 0; i < 3; i++) {
    const inv = await payee.call<{ invoice: string }>('invoice', { amountMsat: 100_000_000 })
    t.ok((await payer.call<PayResult>('pay', { invoice: inv.invoice })).ok, `payment ${i}`)
  }
  const reestablished = async (): Promise<void> => { await payer.call('reestablished'); await payee.call('reestablished') }

  for (const point of POINTS) {
    for (const phase of ['before', 'after'] as const) {
      const crashAt = `${phase}:${point}:1`
      await payee.restart({ SDK_CRASH_AT: crashAt })
      await reestablished()
      await waitFor(async () => (await channel(payee)).settled, `${crashAt}: settled`)
      const before = await channel(payee)
      const wallet = (await payee.call<Balances>('balances')).onchain.totalSat
      const address = await payee.call<string>('address')
      let died = false
      const revive = async (): Promise<void> => {
        if (payee.alive) return
        died = true
        await payee.restart()
        await reestablished()
      }
      let txid: string | undefined
      for (let attempt = 0; txid === undefined; attempt++) {
        if (attempt > 3) throw new Error(`${crashAt}: no splice after ${attempt} attempts`)
        const r = await payee.call<SpliceResult>('spliceOut', { amountSat: PAYOUT_SAT, address }).catch(() => undefined)
        if (r !== undefined) { txid = r.txid; break }
        await revive()
        // What became of it: resumed and signed (pending), or forgotten (started again).
        await waitFor(async () => !(await channel(payee)).splicing, `${crashAt}: the splice resumed or forgotten`)
        txid = (await channel(payee)).pendingSplices.at(-1)
        if (txid === undefined) t.comment(`${crashAt}: the splice was forgotten; started again`)
      }
      // A splice resumed after the restart is broadcast once its completion is stored: mine after that.
      await waitFor(
        async () => { const r = await btc.chain.getRawTransaction(txid!); return r.ok && r.value !== null }, `${crashAt}: broadcast`,
      )
      await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
      await payee.call('untilSpliceLocked', { txid, timeoutMs: 120_000 }).catch(async () => { await revive() })
      await waitFor(async () => {
        if (!payee.alive) await revive()
        const c = await channel(payee).catch(() => undefined)
        return c?.fundingTxid === txid && c.settled
      }, `${crashAt}: locked`)
      await revive()
      t.comment(`${crashAt}: ${died ? 'the creator died there and recovered' : 'not reached'}`)
      const after = await channel(payee)
      const feeSat = before.capacitySat - PAYOUT_SAT - after.capacitySat
      t.ok(feeSat > 0 && feeSat < 2_000, `${crashAt}: the capacity fell by the payout and a fee (${feeSat} sat)`)
      t.equal(after.localMsat, before.localMsat - (PAYOUT_SAT + feeSat) * 1000, `${crashAt}: the balance paid exactly that`)
      const tx = await btc.chain.getRawTransaction(txid)
      const script = addressScript(address)
      t.same(tx.ok && tx.value !== null && script.ok ? tx.value.tx.outputs.filter(
        o => o.scriptPubKey === script.value
      ).map(o => o.value) : [],
        [PAYOUT_SAT], `${crashAt}: the payout on-chain`)
      await waitFor(async () => (await payee.call<Balances>('balances')).onchain.totalSat === wallet + PAYOUT_SAT,
        `${crashAt}: the creator's wallet got the payout once`)
      const inv = await payee.call<{ invoice: string }>('invoice', { amountMsat: 1_000_000 })
      t.ok((await payer.call<PayResult>('pay', { invoice: inv.invoice })).ok, `${crashAt}: the channel pays after the splice`)
      t.ok(died, `${crashAt}: the creator died there`)
    }
  }
  await waitFor(async () => (await channel(payer)).settled && (await channel(payee)).settled, 'both channels settled')
  await hubAgrees(rig)
})
