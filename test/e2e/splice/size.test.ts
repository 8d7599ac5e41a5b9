// What a splice saves on-chain: a creator's payout by splice-out against the same payout by a
// cooperative close and a reopen of the channel (the closing transaction, then the hub's funding of the
// new channel), and a hub top-up against a close and a reopen at the larger size. Sizes in vbytes of
// the real transactions on btcd, printed in the test's output; the splice is the smaller.
import t from 'tap'
import { useBtcd } from '../../helpers/btcd.ts'
import { requestHubChannel, startHubPlatformCreator, waitFor } from '../../helpers/hub.ts'
import { admin } from '../monitor/helpers.ts'
import { parseTx, txWeight } from '../../../protocol/tx/serialize.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../../protocol/limits.ts'
import type { Btcd } from '../../helpers/btcd.ts'

async function vsizeOf (btc: Btcd, txid: string): Promise<number> {
  const r = await btc.chain.getRawTransaction(txid)
  if (!r.ok || r.value === null) throw new Error(`no transaction ${txid}`)
  return Math.ceil(txWeight(parseTx(r.value.tx.hex)) / 4)
}

t.test('e2e: a splice-out and a top-up are smaller on-chain than a cooperative close and a reopen of the channel', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(
    btc, t, { name: 'e2e-splice-size', hubSat: 5_000_000, platformCapacitySat: 2_000_000 },
  )
  for (let i = 0; i < 10; i++) {
    const r = await platform.pay((await creator.createInvoice({ amountMsat: 30_000_000 })).invoice)
    t.ok(r.ok, `payment ${i}`)
  }
  await waitFor(() => creator.channels()[0]!.settled, 'settled')

  const out = await creator.spliceOut({ amountSat: 100_000, address: creator.newAddress() })
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  await creator.untilSpliceLocked({ txid: out.txid, timeoutMs: 60_000 })
  const spliceOutVb = await vsizeOf(btc, out.txid)

  const channelId = creator.channels()[0]!.channelId
  const up = await admin(hub, '/channels/splice-in', { channel_id: channelId, amount_sat: 500_000 })
  t.equal(up.status, 200, 'the hub tops the channel up')
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  await creator.untilSpliceLocked({ txid: up.body.txid, timeoutMs: 60_000 })
  const topUpVb = await vsizeOf(btc, up.body.txid)

  // The same channel closed cooperatively, then reopened by the hub.
  await waitFor(() => creator.channels()[0]!.settled, 'settled')
  const closed = await creator.close()
  t.ok(closed.ok, 'closed cooperatively')
  const closingTxid = closed.ok ? closed.closed[0]!.closingTxid : ''
  await btc.mine(1)
  const closeVb = await vsizeOf(btc, closingTxid)
  await waitFor(() => creator.channels().every(c => c.phase !== 'normal'), 'the channel is closing')
  await requestHubChannel(btc, creator)
  const reopened = creator.channels().find(c => c.phase === 'normal')!
  const fundingVb = await vsizeOf(btc, reopened.fundingTxid!)

  const reopenVb = closeVb + fundingVb
  t.comment(`splice-out: ${spliceOutVb} vB (1 shared input, new funding + payout outputs)`)
  t.comment(`top-up splice-in: ${topUpVb} vB (shared input + 1 wallet input, new funding + change outputs)`)
  t.comment(`cooperative close ${closeVb} vB + reopen (hub funding) ${fundingVb} vB = ${reopenVb} vB`)
  t.comment(`saved: splice-out ${reopenVb - spliceOutVb} vB (${Math.round(100 * (reopenVb - spliceOutVb) / reopenVb)} %), ` +
    `top-up ${reopenVb - topUpVb} vB (${Math.round(100 * (reopenVb - topUpVb) / reopenVb)} %)`)
  t.ok(spliceOutVb < reopenVb, `a splice-out (${spliceOutVb} vB) is smaller than a close and a reopen (${reopenVb} vB)`)
  t.ok(topUpVb < reopenVb, `a top-up (${topUpVb} vB) is smaller than a close and a reopen (${reopenVb} vB)`)
})
