// A split's amounts (protocol/split/shares.ts): the rounding rule of client-sdk/README.md, exact to the
// msat, and every refusal naming its field.
import t from 'tap'
import { MAX_SPLIT_RECIPIENTS } from '../../../../protocol/limits.ts'
import { splitAmounts, type Share } from '../../../../protocol/split/shares.ts'

const to = (i: number): string => `02${String(i).padStart(64, '0')}`
const amounts = (total: number, shares: Share[]): number[] => {
  const r = splitAmounts(total, shares)
  if (!r.ok) throw new Error(`${r.error.field}: ${r.error.detail}`)
  return r.value
}
const refusal = (total: number, shares: Share[]): string => {
  const r = splitAmounts(total, shares)
  return r.ok ? 'accepted' : `${r.error.field}: ${r.error.detail}`
}

t.test('ppm shares: floor each, the remainder one msat each to the first legs, summing to the total', async t => {
  t.same(
    amounts(100_000, [{ to: to(1), ppm: 700_000 }, { to: to(2), ppm: 200_000 }, { to: to(3), ppm: 100_000 }]), [70_000, 20_000, 10_000],
  )
  // 10 / 3: floors 3, 3, 3; the 1 msat left goes to the first leg.
  t.same(amounts(10, [{ to: to(1), ppm: 333_334 }, { to: to(2), ppm: 333_333 }, { to: to(3), ppm: 333_333 }]), [4, 3, 3])
  // 11 msat in thirds: floors 3, 3, 3; two msat left: the first two legs.
  t.same(amounts(11, [{ to: to(1), ppm: 333_333 }, { to: to(2), ppm: 333_333 }, { to: to(3), ppm: 333_334 }]), [4, 4, 3])
  for (const total of [1_000, 999_999, 123_456_789, Number.MAX_SAFE_INTEGER]) {
    const legs = amounts(total, [{ to: to(1), ppm: 1 }, { to: to(2), ppm: 499_999 }, { to: to(3), ppm: 500_000 }])
    t.equal(legs.reduce((a, b) => a + b, 0), total, `${total} msat: the legs sum to the total`)
    t.ok(legs.every(Number.isSafeInteger), `${total} msat: every leg is a safe integer (no float rounding)`)
  }
})

t.test('msat shares are taken as given and must sum to the total', async t => {
  t.same(amounts(1_000, [{ to: to(1), msat: 999 }, { to: to(2), msat: 1 }]), [999, 1])
  t.equal(refusal(1_000, [{ to: to(1), msat: 998 }, { to: to(2), msat: 1 }]), 'shares: the msat shares sum to 999, not the total 1000')
})

t.test('refusals name the field', async t => {
  t.equal(refusal(0, [{ to: to(1), msat: 1 }]), 'total: must be a positive safe integer (msat)')
  t.equal(refusal(10, []), `shares: must have 1 to ${MAX_SPLIT_RECIPIENTS} entries (MAX_SPLIT_RECIPIENTS)`)
  const many = Array.from({ length: MAX_SPLIT_RECIPIENTS + 1 }, (_, i) => ({ to: to(i), msat: 1 }))
  t.match(refusal(MAX_SPLIT_RECIPIENTS + 1, many), /^shares: must have 1 to/)
  t.equal(refusal(10, [{ to: to(1), ppm: 500_000 }, { to: to(1), ppm: 500_000 }]), 'shares.1.to: names the recipient of shares.0 again')
  t.equal(refusal(10, [{ to: to(1), ppm: 500_000 }, { to: to(2), msat: 5 }]), 'shares: must be all ppm shares or all msat shares')
  t.equal(refusal(10, [{ to: to(1), ppm: 500_000 }, { to: to(2), ppm: 400_000 }]), 'shares: the ppm shares sum to 900000, not 1000000')
  t.equal(refusal(10, [{ to: to(1), ppm: 0 }, { to: to(2), ppm: 1_000_000 }]), 'shares.0.ppm: must be an integer from 1 to 1000000')
  t.equal(refusal(10, [{ to: to(1), ppm: 0.5 }, { to: to(2), ppm: 999_999.5 }]), 'shares.0.ppm: must be an integer from 1 to 1000000')
  // 1 ppm of 10 msat floors to 0 and the remainder goes to the first leg: 1 msat. With the tiny share last, 0.
  t.equal(
    refusal(10, [{ to: to(1), ppm: 999_999 }, { to: to(2), ppm: 1 }]), 'shares.1: comes to 0 msat of 10: every leg must be at least 1 msat',
  )
})
