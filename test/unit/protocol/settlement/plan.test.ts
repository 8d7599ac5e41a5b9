import t from 'tap'
import { feeShares, maxPayoutsPerBatch, planBatch, type DueCandidate } from '../../../../protocol/settlement/plan.ts'
import { payoutWeight, sharedWeight } from '../../../../protocol/settlement/weight.ts'
import { feeForWeight } from '../../../../protocol/tx/fees.ts'
import type { Sat, Txid } from '../../../../protocol/types.ts'

const P2WPKH = '0014' + '11'.repeat(20)
const P2TR = '5120' + '22'.repeat(32)
const OP_RETURN = '6a20' + '33'.repeat(32)

function due (k: number, balanceSat: number, over: Partial<DueCandidate> = {}): DueCandidate {
  return {
    channelId: k.toString(16).padStart(64, '0'), funding: { txid: k.toString(16).padStart(64, 'a') as Txid, vout: 0 },
    capacitySat: 1_000_000 as Sat, balanceSat, keepSat: 10_000, payoutScript: P2WPKH, thresholdSat: 20_000, ...over,
  }
}
const params = { feeratePerKw: 2_500, dustLimitSat: 546, maxFeeSharePercent: 5, maxChannels: 100, extraOutputs: [] }

t.test('plan: each payout is its balance above what it keeps, less its fee share; the new capacity loses both', async t => {
  const plan = planBatch([due(1, 500_000), due(2, 300_000), due(3, 100_000)], params)
  t.equal(plan.payouts.length, 3)
  t.same(plan.deferred, [])
  for (const p of plan.payouts) {
    const gross = { 1: 490_000, 2: 290_000, 3: 90_000 }[parseInt(p.channelId, 16)]!
    t.equal(p.payoutSat + p.feeSat, gross, `${p.channelId}: payout + fee = balance − keep`)
    t.equal(p.newCapacitySat, 1_000_000 - gross)
  }
  t.same(plan.payouts.map(p => parseInt(p.channelId, 16)), [1, 2, 3], 'largest payouts first')
})

t.test('fee shares add up to exactly the fee of the whole weight, and each pays at least its own bytes', async t => {
  const members = [{ payoutScript: P2WPKH }, { payoutScript: P2TR }, { payoutScript: P2WPKH }]
  const extraOutputs = [{ script: OP_RETURN, value: 0 as const }]
  const s = feeShares(members, { feeratePerKw: 2_345, extraOutputs })
  const weight = sharedWeight(3, 7, [OP_RETURN]) + members.reduce((a, m) => a + payoutWeight(m.payoutScript), 0)
  t.equal(s.weight, weight)
  t.equal(s.total, feeForWeight(2_345, weight))
  t.equal(s.perPayout.reduce((a, f) => a + f, 0), s.total)
  members.forEach((m, k) => t.ok(s.perPayout[k]! >= feeForWeight(2_345, payoutWeight(m.payoutScript)), `payout ${k} pays its bytes`))
  t.ok(s.perPayout[1]! > s.perPayout[0]!, 'a longer payout script pays more')
})

t.test('below the threshold: deferred with its reason, not lost', async t => {
  const plan = planBatch([due(1, 500_000), due(2, 25_000)], params)
  t.same(plan.payouts.map(p => parseInt(p.channelId, 16)), [1])
  t.equal(plan.deferred.length, 1)
  t.equal(plan.deferred[0]!.reason, 'below_threshold')
  t.equal(plan.deferred[0]!.channelId, due(2, 0).channelId)
})

t.test('a payout whose fee share is too large a part of it is deferred, and the others pay the shared bytes', async t => {
  const small = due(2, 31_000, { thresholdSat: 1_000 })
  const alone = planBatch([due(1, 500_000)], params)
  const plan = planBatch([due(1, 500_000), small], { ...params, feeratePerKw: 25_000 })
  t.same(plan.deferred.map(d => [parseInt(d.channelId, 16), d.reason]), [[2, 'fee_too_high']])
  t.equal(plan.payouts.length, 1)
  const fee = feeShares([{ payoutScript: P2WPKH }], { feeratePerKw: 25_000, extraOutputs: [] })
  t.equal(plan.payouts[0]!.feeSat, fee.perPayout[0], 'the remaining payout is charged as a batch of one')
  t.equal(alone.payouts[0]!.payoutSat + alone.payouts[0]!.feeSat, 490_000)
})

t.test('a payout that would be dust after its fee is deferred as below_dust', async t => {
  const plan = planBatch([due(1, 10_700, { thresholdSat: 1 })], { ...params, maxFeeSharePercent: 10_000 })
  t.same(plan.deferred.map(d => d.reason), ['below_dust'])
  t.same(plan.payouts, [])
})

t.test('the batch cap: the smallest payouts beyond it wait as batch_full; BOLT #2 252 outputs bound it', async t => {
  t.equal(maxPayoutsPerBatch(0), 126)
  t.equal(maxPayoutsPerBatch(1), 125)
  const plan = planBatch([due(1, 100_000), due(2, 300_000), due(3, 200_000)], { ...params, maxChannels: 2 })
  t.same(plan.payouts.map(p => parseInt(p.channelId, 16)), [2, 3])
  t.same(plan.deferred.map(d => [parseInt(d.channelId, 16), d.reason]), [[1, 'batch_full']])
  const many = Array.from({ length: 130 }, (_, k) => due(k + 1, 200_000 + k))
  const big = planBatch(many, { ...params, maxChannels: 1_000, extraOutputs: [{ script: OP_RETURN, value: 0 }] })
  t.equal(big.payouts.length, 125)
  t.equal(big.deferred.filter(d => d.reason === 'batch_full').length, 5)
})
