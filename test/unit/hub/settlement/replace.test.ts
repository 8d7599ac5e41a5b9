// When a broadcast payout batch is replaced (hub/settlement/replace.ts) and how a replacement that
// does not complete is undone: a batch in the chain or not waited long enough is not replaced; at the
// cap none is; a failed replacement counts the wait again from its height; undoing one makes the last
// replaced transaction current again, stage broadcast, and keeps the older ones.
import t from 'tap'
import { dueReplacement, isReplacement, withoutReplacement } from '../../../../hub/settlement/replace.ts'
import { batchRecordSchema, signedTxs, withCurrent, type BatchRecord } from '../../../../hub/settlement/record.ts'

const CONFIG = { rbfAfterBlocks: 2, maxFeeratePerKw: 1_500 }
const payout = (payoutSat: number, feeSat: number) => ({
  channel_id: 'aa'.repeat(32), node_id: '02' + '11'.repeat(32), funding_txid: 'bb'.repeat(32), funding_vout: 0, capacity_sat: 400_000,
  new_capacity_sat: 400_000 - payoutSat - feeSat, payout_script: '0014' + '22'.repeat(20), payout_sat: payoutSat, fee_sat: feeSat,
})

function record (o: Partial<BatchRecord> = {}): BatchRecord {
  return batchRecordSchema.parse({
    id: 0, stage: 'broadcast', round: 1, started_height: 100, round_height: 100, feerate_per_kw: 1_000, locktime: 100,
    payouts: [payout(100_000, 500)], anchor: null, txid: 'c1'.repeat(32), vbytes: 200, tx_hex: '01', dropped: [],
    broadcast_height: 100, confirmed_height: null, reason: null, ...o,
  })
}

t.test('a record stored before replacements existed reads with none', async t => {
  const r = record()
  t.same(r.replaced, [])
  t.equal(r.replace_failed, null)
})

t.test('due: broadcast, not in the chain, waited rbfAfterBlocks, below the cap', async t => {
  const b = record()
  t.equal(dueReplacement([b], () => 0, CONFIG, 101), undefined, 'not waited long enough')
  t.same(dueReplacement([b], () => 0, CONFIG, 102), { batch: b, feeratePerKw: 1_260 })
  t.equal(dueReplacement([b], () => 1, CONFIG, 110), undefined, 'one of its transactions is in the chain')
  t.equal(dueReplacement([record({ stage: 'confirmed' })], () => 0, CONFIG, 110), undefined, 'done')
  t.equal(dueReplacement([record({ feerate_per_kw: 1_300 })], () => 0, CONFIG, 110), undefined, 'the next feerate is above the cap')
  const failed = record({ replace_failed: { height: 105, reason: 'a channel failed' } })
  t.equal(dueReplacement([failed], () => 0, CONFIG, 106), undefined, 'a failed replacement: the wait counts from its height')
  t.equal(dueReplacement([failed], () => 0, CONFIG, 107)?.feeratePerKw, 1_260)
})

t.test('undoing a replacement: the last replaced transaction current again, broadcast, the older ones kept', async t => {
  const first = record()
  const second = { ...record({ txid: 'c2'.repeat(32), feerate_per_kw: 1_250, payouts: [payout(99_800, 700)], broadcast_height: 102 }) }
  const replacing = record({
    stage: 'negotiating', txid: 'c3'.repeat(32), feerate_per_kw: 1_500, payouts: [payout(99_600, 900)], tx_hex: null,
    broadcast_height: null, replaced: [...signedTxs(first), ...signedTxs(second)],
  })
  t.ok(isReplacement(replacing))
  t.notOk(isReplacement(first))
  const undone = withoutReplacement(replacing, 104, 'the hub restarted while the batch was negotiated')
  t.equal(undone.stage, 'broadcast')
  t.equal(undone.txid, second.txid, 'the last replaced one is current')
  t.equal(undone.feerate_per_kw, 1_250)
  t.same(undone.payouts, second.payouts, 'with its payouts')
  t.equal(undone.broadcast_height, 102)
  t.same(undone.replaced.map(x => x.txid), [first.txid], 'the older one kept')
  t.same(undone.replace_failed, { height: 104, reason: 'the hub restarted while the batch was negotiated' })
  t.throws(() => withoutReplacement(first, 104, 'x'), /replaces nothing/)
})

t.test('the transaction that confirmed becomes current, the others kept as replaced', async t => {
  const first = record()
  const second = record({ txid: 'c2'.repeat(32), feerate_per_kw: 1_250, payouts: [payout(99_800, 700)], replaced: signedTxs(first) })
  const won = withCurrent(second, signedTxs(first)[0]!)
  t.equal(won.txid, first.txid)
  t.same(won.payouts, first.payouts, 'its payouts are the ones counted')
  t.same(won.replaced.map(x => x.txid), [second.txid])
})
