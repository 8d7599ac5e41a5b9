// Which due payouts go into a batch, and what each pays (docs/DESIGN.md "Batched settlement"): the
// largest payouts first, up to the batch's cap; every payout pays its fee share (weight.ts); one whose
// share is too large a part of it, or that would leave less than the dust limit, is deferred — it
// stays in the channel and is planned again in the next window. Removing a payout raises the others'
// share of the shared bytes, so the plan is repeated until no payout is removed (at most once per
// payout).
import { MAX_INTERACTIVE_INPUTS_OUTPUTS } from '../limits.ts'
import { feeForWeight } from '../tx/fees.ts'
import { sat, type Sat } from '../types.ts'
import type { BatchParams, BatchPlan, Deferred, DueChannel, PlannedPayout } from './types.ts'
import { payoutWeight, sharedWeight } from './weight.ts'

/** A due channel with the policy threshold it is checked against. */
export type DueCandidate = DueChannel & { thresholdSat: number }

/** BOLT #2 (tx_complete receiver): "there are more than 252 inputs"; "there are more than 252
 *  outputs". A payout adds one input and two outputs, the extra outputs one each. */
export function maxPayoutsPerBatch (extraOutputs: number): number {
  return Math.min(MAX_INTERACTIVE_INPUTS_OUTPUTS, Math.floor((MAX_INTERACTIVE_INPUTS_OUTPUTS - extraOutputs) / 2))
}

export function planBatch (due: readonly DueCandidate[], p: BatchParams): BatchPlan {
  const deferred: Deferred[] = []
  const eligible: DueCandidate[] = []
  for (const c of due) {
    const gross = c.balanceSat - c.keepSat
    if (gross < c.thresholdSat || gross <= 0) {
      deferred.push({
        channelId: c.channelId, reason: 'below_threshold',
        detail: `${Math.max(gross, 0)} sat above the ${c.keepSat} sat kept, threshold ${c.thresholdSat} sat`,
      })
    } else {
      eligible.push(c)
    }
  }
  eligible.sort((a, b) => (b.balanceSat - b.keepSat) - (a.balanceSat - a.keepSat) || (a.channelId < b.channelId ? -1 : 1))
  const cap = Math.min(p.maxChannels, maxPayoutsPerBatch(p.extraOutputs.length))
  for (const c of eligible.slice(cap)) {
    deferred.push({ channelId: c.channelId, reason: 'batch_full', detail: `the batch holds at most ${cap} payouts` })
  }
  let members = eligible.slice(0, cap)
  for (;;) {
    const shares = feeShares(members, p)
    const keep: DueCandidate[] = []
    for (let k = 0; k < members.length; k++) {
      const c = members[k]!
      const gross = c.balanceSat - c.keepSat
      const fee = shares.perPayout[k]!
      const payout = gross - fee
      if (payout < p.dustLimitSat) {
        deferred.push({ channelId: c.channelId, reason: 'below_dust', detail: `${payout} sat after a fee of ${fee} sat` })
      } else if (fee * 100 > p.maxFeeSharePercent * payout) {
        deferred.push({
          channelId: c.channelId, reason: 'fee_too_high',
          detail: `a fee of ${fee} sat is over ${p.maxFeeSharePercent}% of a ${payout} sat payout`,
        })
      } else {
        keep.push(c)
      }
    }
    if (keep.length === members.length) {
      const payouts: PlannedPayout[] = members.map((c, k) => {
        const feeSat = shares.perPayout[k]!
        const payoutSat = c.balanceSat - c.keepSat - feeSat
        return {
          channelId: c.channelId, funding: c.funding, capacitySat: c.capacitySat, payoutScript: c.payoutScript,
          payoutSat: sat(payoutSat), feeSat: sat(feeSat), newCapacitySat: sat(c.capacitySat - payoutSat - feeSat),
        }
      })
      return { payouts, deferred, weight: shares.weight, feeSat: shares.total }
    }
    members = keep
  }
}

/** Each payout's fee: its own bytes' fee, and an equal part of the rest of the total fee (the shared
 *  bytes, and what rounding each payout's fee down left over); the remainder of that division goes to
 *  the first payouts. The shares add up to exactly the whole transaction's fee. */
export function feeShares (
  members: ReadonlyArray<Pick<DueChannel, 'payoutScript'>>, p: Pick<BatchParams, 'feeratePerKw' | 'extraOutputs'>,
): { perPayout: number[]; weight: number; total: Sat } {
  const n = members.length
  const own = members.map(m => payoutWeight(m.payoutScript))
  const weight = sharedWeight(n, 2 * n + p.extraOutputs.length, p.extraOutputs.map(o => o.script)) + own.reduce((a, w) => a + w, 0)
  const total = feeForWeight(p.feeratePerKw, weight)
  if (n === 0) return { perPayout: [], weight, total }
  const ownFee = own.map(w => feeForWeight(p.feeratePerKw, w))
  const rest = total - ownFee.reduce((a, f) => a + f, 0)
  const base = Math.floor(rest / n)
  const extra = rest - base * n
  return { perPayout: ownFee.map((f, k) => f + base + (k < extra ? 1 : 0)), weight, total }
}
