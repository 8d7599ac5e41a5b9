// End to end, real everything (btcd regtest, the hub process, two SDK clients over WebSockets): a
// creator's splice-out is not mined, and the creator replaces it at a higher feerate (spliceRbf, BOLT #2
// tx_init_rbf). The replacement is in btcd's mempool and the original is gone from it; once mined, the
// replacement confirms and locks. Payments before, between and after all succeed; the payout is on the
// chain once, exact to the sat; the higher fee is the creator's alone (the initiator's). The refusals:
// a feerate below 25/24 of the replaced one's, the replaced txid, an unknown txid, a locked splice, a bad
// argument; and the hub's admin route refuses to replace a splice that is not its own.
import t from 'tap'
import { z } from 'zod'
import { useBtcd } from '../../helpers/btcd.ts'
import { hubChannelStates, startHubPlatformCreator, waitFor } from '../../helpers/hub.ts'
import { admin } from '../monitor/helpers.ts'
import { addressScript } from '../../../host/wallet/address.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH, RBF_FEERATE_DENOMINATOR, RBF_FEERATE_NUMERATOR } from '../../../protocol/limits.ts'
import { ClientError } from '../../../client-sdk/index.ts'

const PAYOUT_SAT = 150_000
const FIRST_FEERATE = 1_000
const RBF_FEERATE = 2_500

t.test('e2e: a splice-out replaced at a higher feerate (spliceRbf): the replacement confirms and locks, exact to the sat', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(
    btc, t, { name: 'e2e-splice-rbf', hubSat: 5_000_000, platformCapacitySat: 3_000_000 },
  )
  const mempool = async (): Promise<string[]> => {
    const r = await btc.chain.rpc.request('getrawmempool', [], z.array(z.string()), { idempotent: true })
    if (!r.ok) throw new Error(`getrawmempool: ${r.error.detail}`)
    return r.value
  }

  let received = 0
  creator.on('payment_received', () => { received++ })
  let paidMsat = 0
  let payments = 0
  const pay = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const inv = await creator.createInvoice({ amountMsat: 4_000_000 + (payments * 7_919) % 1_000_000 })
      const r = await platform.pay(inv.invoice)
      payments++
      if (!r.ok) { t.fail(`payment ${payments}: ${r.reason} ${r.detail}`); continue }
      paidMsat += r.amountMsat
    }
  }

  await pay(60)
  await waitFor(() => creator.channels()[0]!.settled, 'the creator\'s channel settled')
  const before = creator.channels()[0]!
  t.equal(before.localMsat, paidMsat, 'the creator holds what it was paid')

  const address = creator.newAddress()
  const payoutScript = addressScript(address)
  const walletBefore = creator.balances().onchain.totalSat
  const first = await creator.spliceOut({ amountSat: PAYOUT_SAT, address, feerateSatPerKw: FIRST_FEERATE })
  t.ok((await mempool()).includes(first.txid), 'the splice is in btcd\'s mempool')
  await pay(10)

  // ── refusals ──
  const refusal = async (args: Parameters<typeof creator.spliceRbf>[0]): Promise<unknown> => {
    try { await creator.spliceRbf(args); return 'resolved' } catch (e) { return e }
  }
  const tooLow = Math.floor((FIRST_FEERATE * RBF_FEERATE_NUMERATOR) / RBF_FEERATE_DENOMINATOR) - 1
  const low = await refusal({ txid: first.txid, feerateSatPerKw: tooLow })
  t.ok(low instanceof ClientError && low.reason === 'splice_refused', `a feerate below 25/24 is refused: ${String(low)}`)
  t.match(String(low), /25\/24/, '… saying why')
  const unknown = await refusal({ txid: '22'.repeat(32), feerateSatPerKw: RBF_FEERATE })
  t.ok(unknown instanceof ClientError && unknown.reason === 'no_channel', `an unknown txid is refused: ${String(unknown)}`)
  const bad = await refusal({ txid: first.txid, feerateSatPerKw: 1 })
  t.ok(bad instanceof TypeError && /feerateSatPerKw/.test(bad.message), `a bad feerate names the field: ${String(bad)}`)
  const notOurs = await admin(hub, '/channels/splice-rbf', { channel_id: before.channelId, txid: first.txid, feerate_per_kw: RBF_FEERATE })
  t.match(notOurs, { status: 409, body: { error: /peer's/ } }, 'the hub does not replace the creator\'s splice')
  const noSuch = await admin(
    hub, '/channels/splice-rbf', { channel_id: before.channelId, txid: '33'.repeat(32), feerate_per_kw: RBF_FEERATE },
  )
  t.equal(noSuch.status, 404, 'the admin route: no such pending splice')
  const badBody = await admin(hub, '/channels/splice-rbf', { channel_id: before.channelId, txid: first.txid, feerate_per_kw: 1 })
  t.match(badBody, { status: 400, body: { error: /feerate_per_kw/ } }, 'the admin route: a bad feerate names the field')
  await pay(5)

  // ── the replacement ──
  const rbf = await creator.spliceRbf({ txid: first.txid, feerateSatPerKw: RBF_FEERATE })
  t.not(rbf.txid, first.txid, 'a new transaction')
  t.equal(rbf.kind, 'out')
  t.equal(rbf.amountSat, PAYOUT_SAT, 'the same payout')
  t.ok(rbf.feeSat > first.feeSat, `a higher fee: ${rbf.feeSat} > ${first.feeSat} sat`)
  t.equal(rbf.contributionSat, -(PAYOUT_SAT + rbf.feeSat), 'the creator\'s balance pays the payout and the higher fee')
  t.equal(rbf.capacitySat, before.capacitySat - PAYOUT_SAT - rbf.feeSat, 'the new capacity')
  const pool = await mempool()
  t.ok(pool.includes(rbf.txid), 'the replacement is in btcd\'s mempool')
  t.notOk(pool.includes(first.txid), 'the original is gone from it')
  const replaced = await refusal({ txid: first.txid, feerateSatPerKw: RBF_FEERATE * 2 })
  t.ok(replaced instanceof ClientError && replaced.reason === 'splice_refused', `the replaced txid is refused: ${String(replaced)}`)
  await pay(10)

  // ── confirmed and locked ──
  const waitingOnOriginal = creator.untilSpliceLocked({ txid: first.txid, timeoutMs: 60_000 }).then(() => 'locked', (e: unknown) => e)
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  const locked = await creator.untilSpliceLocked({ txid: rbf.txid, timeoutMs: 60_000 })
  t.equal(locked.capacitySat, rbf.capacitySat, 'the replacement locked')
  const original = await waitingOnOriginal
  t.ok(original instanceof ClientError && original.reason === 'splice_aborted', `a wait for the original ends: ${String(original)}`)
  t.match(String(original), new RegExp(`${rbf.txid}.* locked instead`), '… naming the replacement that locked')
  const gone = await btc.chain.getRawTransaction(first.txid)
  t.ok(gone.ok && gone.value === null, 'the original never confirmed')
  const lockedRbf = await refusal({ txid: rbf.txid, feerateSatPerKw: RBF_FEERATE * 2 })
  t.ok(lockedRbf instanceof ClientError && lockedRbf.reason === 'no_channel', `a locked splice is not replaced: ${String(lockedRbf)}`)
  await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.link === 'up', 'channels up')
  await pay(20)
  t.equal(received, payments, `the creator received all ${payments} payments`)

  // On-chain: the replacement spends the old funding, pays the payout once, and its whole fee is the creator's.
  const tx = await btc.chain.getRawTransaction(rbf.txid)
  t.ok(tx.ok && tx.value !== null && tx.value.confirmations >= DEFAULT_SPLICE_MINIMUM_DEPTH, 'the replacement confirmed')
  const outs = tx.ok && tx.value !== null ? tx.value.tx.outputs : []
  t.same(
    outs.filter(o => payoutScript.ok && o.scriptPubKey === payoutScript.value).map(o => o.value), [PAYOUT_SAT], 'the payout, to the sat',
  )
  t.ok(tx.ok && tx.value !== null && tx.value.tx.inputs.some(i => i.txid === before.fundingTxid), 'it spent the old funding output')
  t.equal(before.capacitySat - outs.reduce((a, o) => a + o.value, 0), rbf.feeSat, 'the transaction\'s fee is the creator\'s fee')
  await waitFor(() => creator.balances().onchain.totalSat === walletBefore + PAYOUT_SAT, 'the creator\'s wallet holds the payout once')

  await waitFor(() => creator.channels()[0]!.settled, 'the creator\'s channel settled')
  const after = creator.channels()[0]!
  t.equal(after.fundingTxid, rbf.txid, 'the channel\'s funding is the replacement')
  t.equal(after.capacitySat, rbf.capacitySat)
  t.equal(after.localMsat, paidMsat - (PAYOUT_SAT + rbf.feeSat) * 1000, 'creator balance = paid − payout − the higher fee, to the msat')
  t.equal(after.remoteMsat, before.remoteMsat - (paidMsat - before.localMsat), 'the hub\'s balance paid only the payments')
  await hub.stop()
  const hs = (await hubChannelStates(hub)).get(after.channelId)!
  t.equal(hs.setup.funding?.txid, rbf.txid, 'the hub\'s channel spends the replacement\'s output')
  t.same(
    [hs.localCommit!.spec.toRemoteMsat, hs.localCommit!.spec.toLocalMsat], [after.localMsat, after.remoteMsat], 'hub and creator agree',
  )
})
