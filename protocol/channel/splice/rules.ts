// BOLT #2 "Channel Splicing": the rules on a splice's amounts, shared by the receiver of splice_init,
// splice_ack, tx_init_rbf and tx_ack_rbf, by the tx_complete check, and by our own commands (the same
// rule for the peer's proposal and for ours, so a splice we start never trips the peer's checks).
// Balances are read from our local commitment: while quiescent (no update pending on either side) both
// commitments hold the same balances.
import { channelError, type ChannelError } from '../../errors.ts'
import { MAX_FUNDING_SATOSHIS, RBF_FEERATE_DENOMINATOR, RBF_FEERATE_NUMERATOR } from '../../limits.ts'
import { funderCostMsat } from '../fees.ts'
import { commits, remoteParams, type ChannelState, type Side } from '../state.ts'
import { candidateSpec } from './state.ts'

/** A side's balance on the current funding, in whole satoshis. */
export function balanceSat (s: ChannelState, side: Side): number {
  const spec = commits(s).local.spec
  return Math.floor((side === 'local' ? spec.toLocalMsat : spec.toRemoteMsat) / 1000)
}

/** BOLT #2 (splice_init / splice_ack / tx_init_rbf / tx_ack_rbf receiver): "If
 *  `funding_contribution_satoshis` is negative and its absolute value is greater than the sending
 *  node's current channel balance: MUST send a `warning` and close the connection or send an `error`
 *  and fail the channel." */
export function checkContribution (s: ChannelState, side: Side, contributionSat: number): ChannelError | undefined {
  const balance = balanceSat(s, side)
  if (contributionSat < 0 && -contributionSat > balance) {
    return channelError(
      'splice_contribution_exceeds_balance',
      `${side === 'local' ? 'our' : 'the peer\'s'} contribution ${contributionSat} sat exceeds its balance of ${balance} sat`,
    )
  }
  return undefined
}

/** The channel's capacity once both contributions are applied, if we accept it: above our smallest
 *  channel, and below 2^24 sat (we negotiate no large channels: limits.ts MAX_FUNDING_SATOSHIS). */
export function checkNewCapacity (s: ChannelState, contributionSat: Record<Side, number>): ChannelError | undefined {
  const cap = s.setup.capacitySat + contributionSat.local + contributionSat.remote
  if (cap > MAX_FUNDING_SATOSHIS) return channelError('splice_rejected', `new capacity ${cap} sat > ${MAX_FUNDING_SATOSHIS}`)
  if (cap < s.policy.minFundingSat) return channelError(
    'splice_rejected', `new capacity ${cap} sat < our minimum channel ${s.policy.minFundingSat}`,
  )
  return undefined
}

/** BOLT #2 (splice_init receiver): "If the `funding_feerate_perkw` is unacceptable: MUST respond with
 *  `tx_abort`." Acceptable is our update_fee policy: a splice confirms as fast as its feerate lets it,
 *  and a commitment below the floor would not propagate either. */
export function checkSpliceFeerate (s: ChannelState, feeratePerKw: number): ChannelError | undefined {
  if (feeratePerKw < s.policy.minFeeratePerKw || feeratePerKw > s.policy.maxFeeratePerKw) {
    return channelError(
      'splice_feerate_unacceptable',
      `funding feerate ${feeratePerKw} sat/kw outside [${s.policy.minFeeratePerKw}, ${s.policy.maxFeeratePerKw}]`,
    )
  }
  return undefined
}

/** BOLT #2 (tx_init_rbf sender): "MUST set `feerate` greater than or equal to 25/24 times the `feerate`
 *  of the previously constructed transaction, rounded down"; the recipient "MUST respond with
 *  `tx_abort` if: the `feerate` is not greater than or equal to 25/24 times `feerate` of the last
 *  successfully constructed transaction". */
export function checkRbfFeerate (s: ChannelState, feeratePerKw: number): ChannelError | undefined {
  const last = s.splice?.candidates.at(-1)
  if (last === undefined) return channelError('unexpected_message', 'RBF without a pending splice')
  const min = Math.floor((last.feeratePerKw * RBF_FEERATE_NUMERATOR) / RBF_FEERATE_DENOMINATOR)
  if (feeratePerKw < min) return channelError(
    'splice_rbf_feerate_too_low', `feerate ${feeratePerKw} < 25/24 × ${last.feeratePerKw} = ${min}`,
  )
  return undefined
}

/** BOLT #2 (splice tx_complete receiver): "MUST compute the channel balance for each side by adding
 *  their respective `funding_contribution_satoshis` to their previous channel balance. MUST fail the
 *  negotiation by sending `tx_abort` if: ... Either side has added an output other than the channel
 *  funding output and the balance for that side is less than the channel reserve that matches the new
 *  channel capacity." A side that splices out (a negative contribution) takes funds out too.
 *  Reserves are the ones negotiated when the channel opened: each side keeps the absolute reserve the
 *  other asked for, whatever the capacity. And the funder must still be able to pay for the
 *  commitment transaction (BOLT #3 "Fee Payment"), or its commitment on the new funding would have no
 *  fee. */
export function checkSpliceBalances (
  s: ChannelState, contributionSat: Record<Side, number>, addedOutputs: Record<Side, boolean>,
): ChannelError | undefined {
  const spec = candidateSpec(commits(s).local.spec, { contributionSat })
  const funder: Side = s.setup.isFunder ? 'local' : 'remote'
  for (const side of ['local', 'remote'] as const) {
    const balance = side === 'local' ? spec.toLocalMsat : spec.toRemoteMsat
    const reserveSat = side === 'local' ? remoteParams(s).channelReserveSat : s.setup.local.channelReserveSat
    const fee = side === funder ? Math.max(
      funderCostMsat(s.setup.channelType, spec, 'local', s.setup.local.dustLimitSat),
      funderCostMsat(s.setup.channelType, spec, 'remote', remoteParams(s).dustLimitSat),
    ) : 0
    const who = side === 'local' ? 'we' : 'the peer'
    if (balance < fee) return channelError(
      'splice_below_reserve', `${who} would keep ${balance} msat, less than the commitment fee ${fee} msat`,
    )
    const takesOut = contributionSat[side] < 0 || addedOutputs[side]
    if (takesOut && balance < reserveSat * 1000 + fee) {
      return channelError(
        'splice_below_reserve', `${who} would keep ${balance} msat after taking funds out, below the reserve of ${reserveSat} sat`,
      )
    }
  }
  return undefined
}
