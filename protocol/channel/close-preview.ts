// What a cooperative close would pay, asked before it starts: which side's output the closing
// transaction may leave out as dust. A balance below the dust limit is not paid to its owner at all
// (BOLT #3 closing transaction: "MUST remove any output below its own dust_limit_satoshis"), so the
// party that starts a close, or agrees to one, is told first (HubClient.close, the admin API's close).
import { sat, type Sat } from '../types.ts'
import { CLOSING_TX_WEIGHT } from './fees.ts'
import { commits, type ChannelState } from './state.ts'

/**
 * The highest closing fee the funder offers: twice the commitment feerate's fee for the closing
 * transaction, at least the floor feerate's, at most the funder's whole balance.
 */
export function funderMaxClosingFee (s: ChannelState): Sat {
  const spec = commits(s).local.spec
  const funderSat = Math.floor((s.setup.isFunder ? spec.toLocalMsat : spec.toRemoteMsat) / 1000)
  const floor = Math.floor(s.policy.minFeeratePerKw * CLOSING_TX_WEIGHT / 1000)
  const estimate = Math.floor(spec.feeratePerKw * CLOSING_TX_WEIGHT / 1000)
  return sat(Math.min(Math.max(estimate * 2, floor), funderSat))
}

/** One output a close may leave out: its owner would lose `amountSat` to the miners. */
export interface ClosingTrim {
  side: 'local' | 'remote'
  /** What the output would pay (balance rounded down, minus the fee for the funder). */
  amountSat: Sat
  /** The higher of the two sides' dust limits: either side's closing_signed may remove outputs below its own. */
  dustLimitSat: Sat
}

/**
 * The outputs a cooperative close of `s` now may leave out as dust, at the highest fee the funder
 * offers (a lower fee only makes the funder's output larger). A zero balance is not an output to lose.
 */
export function closingTrims (s: ChannelState): ClosingTrim[] {
  const spec = commits(s).local.spec
  const dustLimitSat = sat(Math.max(s.setup.local.dustLimitSat, s.setup.remote?.dustLimitSat ?? 0))
  const fee = funderMaxClosingFee(s)
  const local = Math.floor(spec.toLocalMsat / 1000) - (s.setup.isFunder ? fee : 0)
  const remote = Math.floor(spec.toRemoteMsat / 1000) - (s.setup.isFunder ? 0 : fee)
  const trims: ClosingTrim[] = []
  if (local > 0 && local < dustLimitSat) trims.push({ side: 'local', amountSat: sat(local), dustLimitSat })
  if (remote > 0 && remote < dustLimitSat) trims.push({ side: 'remote', amountSat: sat(remote), dustLimitSat })
  return trims
}
