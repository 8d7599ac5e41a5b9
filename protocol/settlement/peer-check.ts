// The peer's check of the terms the hub proposes for its channel in a payout batch, before it joins
// the splice (docs/DESIGN.md "Batched settlement", the peer's checks). The hub's claims — the payout,
// the fee share, the feerate — are checked against the account's own policy and its balance as the
// peer's channel state says; the complete transaction is checked later, at tx_complete
// (protocol/interactive-tx/batch.ts).
import { channelError, type ChannelError } from '../errors.ts'
import { anchorScript, GENESIS_COMMITMENT } from '../audit/anchor.ts'
import { feeShares } from './plan.ts'
import type { PayoutPolicy } from './types.ts'

/** What the hub proposes for this channel (hub-specific message `payout_proposal`). */
export interface PayoutTerms {
  payoutScript: string
  payoutSat: number
  feeSat: number
  feeratePerKw: number
  /** The serial id of the payout output in the batch transaction (protocol/settlement/build.ts). */
  payoutSerialId: number
}

/** Why the peer refuses the terms, or undefined. `balanceSat`: its balance in the channel now, whole
 *  satoshis; `reserveSat`: the channel reserve it must keep; `maxFeeratePerKw`: the most it accepts. */
export function checkPayoutTerms (
  terms: PayoutTerms, policy: PayoutPolicy, balanceSat: number, reserveSat: number, maxFeeratePerKw: number,
): ChannelError | undefined {
  const bad = (detail: string): ChannelError => channelError('batch_terms_violated', detail)
  if (terms.payoutScript !== policy.payoutScript) return bad('the payout does not go to our policy\'s payout script')
  if (terms.payoutSerialId % 2 !== 0) return bad(`payout serial id ${terms.payoutSerialId} is not the initiator's (even)`)
  if (terms.feeratePerKw > maxFeeratePerKw) return bad(`feerate ${terms.feeratePerKw} sat/kw above our maximum ${maxFeeratePerKw}`)
  const kept = balanceSat - terms.payoutSat - terms.feeSat
  const keep = Math.max(policy.keepSat, reserveSat)
  if (kept < keep) return bad(`the payout of ${terms.payoutSat} sat and fee of ${terms.feeSat} sat leave ${kept} sat, we keep ${keep}`)
  if (terms.payoutSat < policy.thresholdSat) return bad(`a payout of ${terms.payoutSat} sat is below our threshold ${policy.thresholdSat}`)
  // Batching must never cost more than paying this payout alone in a batch of one (carrying, as every
  // batch may, the hub's audit anchor: its bytes are shared by the payouts, docs/DESIGN.md fee rule).
  const alone = payoutAloneFeeSat(policy.payoutScript, terms.feeratePerKw)
  if (terms.feeSat > alone) return bad(`a fee share of ${terms.feeSat} sat is above the ${alone} sat of a payout alone`)
  return undefined
}

/** The fee of a batch of one payout to `payoutScript` that carries an audit anchor: the most a payout's
 *  fee share may be. */
export function payoutAloneFeeSat (payoutScript: string, feeratePerKw: number): number {
  return feeShares([{ payoutScript }], { feeratePerKw, extraOutputs: [{ script: anchorScript(GENESIS_COMMITMENT), value: 0 }] }).total
}
