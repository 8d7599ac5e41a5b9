// The data of a payout batch (docs/DESIGN.md "Batched settlement"): an account's payout policy, a
// channel due for a payout as the scheduler sees it, and the planned batch. Plain JSON values.
import type { Sat, Txid } from '../types.ts'

/** What an account asks of its payouts (set through the SDK, bounded by the operator's config). */
export interface PayoutPolicy {
  /** Where payouts go: a standard output script, hex. */
  payoutScript: string
  /** A payout is due once the balance above `keepSat` reaches this. */
  thresholdSat: number
  /** At least this many blocks between two payouts of the account. */
  intervalBlocks: number
  /** The balance left in the channel after a payout. */
  keepSat: number
  /** Close the channel once it had no payment for this many blocks (absent: never). */
  closeIdleBlocks?: number
}

/** One channel the scheduler found due: its current funding and the account's balance in it. */
export interface DueChannel {
  channelId: string
  funding: { txid: Txid; vout: number }
  capacitySat: Sat
  /** The account's (the peer's) balance, whole satoshis. */
  balanceSat: number
  /** The least the account must keep: the policy's keepSat, raised to the channel reserve. */
  keepSat: number
  payoutScript: string
}

/** A payout the batch makes: `payoutSat` to the account's script, `feeSat` its share of the fee.
 *  The account's balance moves by −(payoutSat + feeSat): its splice contribution. */
export interface PlannedPayout {
  channelId: string
  funding: { txid: Txid; vout: number }
  capacitySat: Sat
  payoutScript: string
  payoutSat: Sat
  feeSat: Sat
  /** The new funding output's value: capacity − payout − fee. */
  newCapacitySat: Sat
}

/** Why a due payout is not in this batch: it stays in the channel for the next window. */
export type DeferReason =
  | 'below_threshold'      // the balance above what is kept is below the policy's threshold
  | 'fee_too_high'         // its fee share is above settlement.maxFeeSharePercent of the payout
  | 'below_dust'           // what is left after the fee is below the dust limit
  | 'batch_full'           // the batch reached its channel cap or BOLT #2's 252 inputs/outputs

export interface Deferred { channelId: string; reason: DeferReason; detail: string }

/** An output every batch carries besides the payouts (the audit anchor's OP_RETURN). */
export interface ExtraOutput { script: string; value: 0 }

export interface BatchParams {
  feeratePerKw: number
  dustLimitSat: number
  /** A payout's fee share may be at most this percent of it (else deferred). */
  maxFeeSharePercent: number
  maxChannels: number
  extraOutputs: readonly ExtraOutput[]
}

export interface BatchPlan {
  payouts: PlannedPayout[]
  deferred: Deferred[]
  /** The estimated weight (largest signatures) the fees are computed from. */
  weight: number
  feeSat: Sat
}
