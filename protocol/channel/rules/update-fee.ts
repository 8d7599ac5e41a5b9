// BOLT #2 "Updating Fees: `update_fee`".
import { channelError, type ChannelError } from '../../errors.ts'
import { dustExposureMsat, funderCostMsat } from '../fees.ts'
import { remoteParams, type ChannelState, type CommitmentSpec } from '../state.ts'

/** A peer's update_fee, against our next commitment `reduced` (which already has the new feerate). */
export function checkReceivedFee (s: ChannelState, feeratePerKw: number, reduced: CommitmentSpec): ChannelError | undefined {
  // BOLT #2 (update_fee, receiver): "if the sender is not responsible for paying the Bitcoin fee:
  // MUST send a `warning` and close the connection, or send an `error` and fail the channel."
  if (s.setup.isFunder) return channelError('fee_update_not_funder', 'update_fee from the side that does not pay the fee')
  // BOLT #2: "if the `update_fee` is too low for timely processing, OR is unreasonably large: MUST
  // send a `warning` and close the connection, or send an `error` and fail the channel."
  if (feeratePerKw < s.policy.minFeeratePerKw || feeratePerKw > s.policy.maxFeeratePerKw) {
    return channelError(
      'fee_out_of_range', `feerate_per_kw ${feeratePerKw} outside [${s.policy.minFeeratePerKw}, ${s.policy.maxFeeratePerKw}]`,
    )
  }
  // BOLT #2: "if the sender cannot afford the new fee rate on the receiving node's current commitment
  // transaction: SHOULD send a `warning` and close the connection, or send an `error` and fail the
  // channel." The funder keeps the reserve we asked for (our channel_reserve_satoshis).
  const local = s.setup.local
  const cost = funderCostMsat(s.setup.channelType, reduced, 'local', local.dustLimitSat)
  if (reduced.toRemoteMsat - cost < local.channelReserveSat * 1000) {
    return channelError('fee_unaffordable', `funder balance ${reduced.toRemoteMsat} msat cannot pay ${cost} msat above the reserve`)
  }
  return undefined
}

/** Our own update_fee, against the peer's next commitment `reduced` (with the new feerate). */
export function checkOfferedFee (s: ChannelState, feeratePerKw: number, reduced: CommitmentSpec): ChannelError | undefined {
  // BOLT #2: "The node _not responsible_ for paying the Bitcoin fee: MUST NOT send `update_fee`."
  if (!s.setup.isFunder) return channelError('fee_update_not_funder', 'only the funder sends update_fee', 'ignore')
  if (feeratePerKw < s.policy.minFeeratePerKw || feeratePerKw > s.policy.maxFeeratePerKw) {
    return channelError('fee_out_of_range', `feerate_per_kw ${feeratePerKw} outside our policy`, 'ignore')
  }
  const remote = remoteParams(s)
  const type = s.setup.channelType
  for (const [holder, dust] of [['local', s.setup.local.dustLimitSat], ['remote', remote.dustLimitSat]] as const) {
    const cost = funderCostMsat(type, reduced, holder, dust)
    if (reduced.toLocalMsat - cost < remote.channelReserveSat * 1000) {
      return channelError('fee_unaffordable', `we cannot pay ${cost} msat at ${feeratePerKw} sat/kw above the reserve`, 'ignore')
    }
    // BOLT #2 (update_fee, sender): "if `option_anchors` was not negotiated: if the `update_fee`
    // increases `feerate_per_kw`: if the dust balance of the remote transaction at the updated
    // `feerate_per_kw` is greater than `max_dust_htlc_exposure_msat`: MAY NOT send `update_fee`" —
    // and likewise for the local transaction.
    if (type !== 'anchors' && dustExposureMsat(type, reduced, holder, dust) > s.policy.maxDustExposureMsat) {
      return channelError('dust_exposure', `at ${feeratePerKw} sat/kw the ${holder} commitment's trimmed HTLCs exceed the cap`, 'ignore')
    }
  }
  return undefined
}
