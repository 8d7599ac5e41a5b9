import t from 'tap'
import { checkPayoutTerms, payoutAloneFeeSat, type PayoutTerms } from '../../../../protocol/settlement/peer-check.ts'
import { feeShares } from '../../../../protocol/settlement/plan.ts'
import { anchorScript } from '../../../../protocol/audit/anchor.ts'
import type { PayoutPolicy } from '../../../../protocol/settlement/types.ts'

const SCRIPT = '0014' + '11'.repeat(20)
const policy: PayoutPolicy = { payoutScript: SCRIPT, thresholdSat: 20_000, intervalBlocks: 6, keepSat: 10_000 }
const alone = payoutAloneFeeSat(SCRIPT, 2_500)
const terms: PayoutTerms = { payoutScript: SCRIPT, payoutSat: 100_000, feeSat: alone - 100, feeratePerKw: 2_500, payoutSerialId: 3 * 2 }
const check = (over: Partial<PayoutTerms>, balanceSat = 200_000): ReturnType<typeof checkPayoutTerms> =>
  checkPayoutTerms({ ...terms, ...over }, policy, balanceSat, 5_000, 10_000)

t.test('terms that pay our script, keep our balance and cost no more than a payout alone: accepted', async t => {
  t.equal(check({}), undefined)
  t.equal(check({ payoutSat: 200_000 - 10_000 - terms.feeSat }), undefined, 'exactly the kept balance left')
})

t.test('each claim of the hub that does not hold is refused with batch_terms_violated, naming it', async t => {
  const cases: Array<[string, Partial<PayoutTerms>, RegExp, number?]> = [
    ['another script', { payoutScript: '0014' + '22'.repeat(20) }, /payout script/],
    ['an odd serial id', { payoutSerialId: 7 }, /serial id 7/],
    ['a feerate above our maximum', { feeratePerKw: 10_001 }, /feerate 10001/],
    ['less than we keep left', { payoutSat: 200_000 - 10_000 - terms.feeSat + 1 }, /we keep 10000/],
    ['below our threshold', { payoutSat: 19_999 }, /threshold 20000/],
    ['a fee share above a payout alone', { feeSat: alone + 1 }, /payout alone/],
  ]
  for (const [name, over, detail] of cases) {
    const e = check(over)
    t.equal(e?.reason, 'batch_terms_violated', name)
    t.equal(e?.action, 'abort', name)
    t.match(e?.detail ?? '', detail, name)
  }
  t.match(checkPayoutTerms(terms, { ...policy, keepSat: 0 }, 105_000 + terms.feeSat, 10_000, 10_000)?.detail ?? '',
    /we keep 10000/, 'the channel reserve counts when the policy keeps less')
})

t.test('a payout alone is priced with the audit anchor a batch may carry: a batch of three with the anchor passes', async t => {
  const anchor = { script: anchorScript('ab'.repeat(32)), value: 0 as const }
  const withAnchor = feeShares([{ payoutScript: SCRIPT }], { feeratePerKw: 2_500, extraOutputs: [anchor] }).total
  t.equal(alone, withAnchor, 'the bound is a batch of one with an anchor-sized OP_RETURN')
  const three = feeShares([1, 2, 3].map(() => ({ payoutScript: SCRIPT })), { feeratePerKw: 2_500, extraOutputs: [anchor] })
  t.ok(three.perPayout.every(f => f <= alone), 'each share of a batch of three carrying the anchor is within it')
  t.equal(check({ feeSat: three.perPayout[0]! }), undefined)
})
