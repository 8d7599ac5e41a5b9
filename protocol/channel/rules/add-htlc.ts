// BOLT #2 "Adding an HTLC: `update_add_htlc`": the receiver's rules (a peer's add) and the sender's
// (our own add command), each quoted above the code that implements it.
//
// Both sides evaluate the same commitment: the receiver its own next commitment, reduce(localCommit,
// our acked updates, their proposed updates + this add); the sender the receiver's next commitment,
// reduce(latest remote commitment, our proposed updates + this add, their acked updates). With an
// ordered transport these contain the same updates, so a sender that passes its checks never trips
// the receiver's.
import { CLTV_EXPIRY_LIMIT } from '../../limits.ts'
import { channelError, type ChannelError } from '../../errors.ts'
import { dustExposureMsat, funderCostMsat, isTrimmed } from '../fees.ts'
import { inFlightMsat } from '../spec.ts'
import { remoteParams, type ChannelState, type CommitmentSpec, type Htlc, type Side } from '../state.ts'

const count = (spec: CommitmentSpec, offerer: Side): number => spec.htlcs.filter(h => h.offerer === offerer).length
const balance = (spec: CommitmentSpec, side: Side): number => (side === 'local' ? spec.toLocalMsat : spec.toRemoteMsat)

/** Checks that need no commitment: the sender's shutdown and the id sequence. */
export function checkAddOrder (s: ChannelState, id: number): ChannelError | undefined {
  // BOLT #2 (shutdown): a sending node "MUST NOT send an `update_add_htlc` after a `shutdown`".
  if (s.closing.remoteScript !== undefined) return channelError('update_after_shutdown', 'update_add_htlc after the peer sent shutdown')
  // BOLT #2 (update_add_htlc, receiver): "if the sender did not previously acknowledge the commitment
  // of that HTLC: MUST ignore a repeated `id` value after a reconnection. if other `id` violations
  // occur: MAY send a `warning` and close the connection, or send an `error` and fail the channel."
  // Uncommitted adds are forgotten on disconnect (disconnect.ts), so a retransmitted add arrives
  // with exactly the next id; any other id is a violation.
  if (id !== s.nextRemoteHtlcId) return channelError('bad_htlc_id', `id ${id}, expected ${s.nextRemoteHtlcId}`)
  return undefined
}

/** A peer's update_add_htlc against our next commitment `reduced` (which already contains it).
 *  Returns a violation, or undefined. */
export function checkReceivedAdd (s: ChannelState, htlc: Htlc, reduced: CommitmentSpec): ChannelError | undefined {
  const local = s.setup.local
  const type = s.setup.channelType
  // BOLT #2 (update_add_htlc, receiver): "receiving an `amount_msat` equal to 0, OR less than its own
  // `htlc_minimum_msat`: SHOULD send a `warning` and close the connection, or send an `error` and fail
  // the channel."
  if (htlc.amountMsat === 0 || htlc.amountMsat < local.htlcMinimumMsat) {
    return channelError('amount_below_minimum', `amount_msat ${htlc.amountMsat} < htlc_minimum_msat ${local.htlcMinimumMsat}`)
  }
  // BOLT #2: "if sending node sets `cltv_expiry` to greater or equal to 500000000: SHOULD send a
  // `warning` and close the connection, or send an `error` and fail the channel."
  if (htlc.cltvExpiry >= CLTV_EXPIRY_LIMIT) return channelError('bad_cltv', `cltv_expiry ${htlc.cltvExpiry} ≥ ${CLTV_EXPIRY_LIMIT}`)
  // BOLT #2: "if a sending node adds more than receiver `max_accepted_htlcs` HTLCs to its local
  // commitment transaction, OR adds more than receiver `max_htlc_value_in_flight_msat` worth of
  // offered HTLCs to its local commitment transaction: SHOULD send a `warning` and close the
  // connection, or send an `error` and fail the channel."
  if (count(reduced, 'remote') > local.maxAcceptedHtlcs) {
    return channelError('too_many_htlcs', `${count(reduced, 'remote')} HTLCs > max_accepted_htlcs ${local.maxAcceptedHtlcs}`)
  }
  if (inFlightMsat(reduced, 'remote') > local.maxHtlcValueInFlightMsat) {
    return channelError(
      'max_in_flight',
      `${inFlightMsat(reduced, 'remote')} msat in flight > max_htlc_value_in_flight_msat ${local.maxHtlcValueInFlightMsat} msat`,
    )
  }
  // BOLT #2: "receiving an `amount_msat` that the sending node cannot afford at the current
  // `feerate_per_kw` (while maintaining its channel reserve and any `to_local_anchor` and
  // `to_remote_anchor` costs): SHOULD send a `warning` and close the connection, or send an `error`
  // and fail the channel."
  // The reserve the peer must keep is the one *we* asked for (our channel_reserve_satoshis).
  const fee = s.setup.isFunder ? 0 : funderCostMsat(type, reduced, 'local', local.dustLimitSat)
  const left = reduced.toRemoteMsat - fee
  if (reduced.toRemoteMsat < local.channelReserveSat * 1000) {
    return channelError('reserve', `sender balance ${reduced.toRemoteMsat} msat < channel reserve ${local.channelReserveSat * 1000} msat`)
  }
  if (left < local.channelReserveSat * 1000) {
    return channelError(
      'insufficient_funds',
      `sender balance ${reduced.toRemoteMsat} msat cannot pay fee ${fee} msat above channel reserve ${local.channelReserveSat * 1000} msat`,
    )
  }
  return undefined
}

/** Our policy on a received HTLC that is valid but that we will not take: failed once committed
 *  (BOLT #2 "Bounding exposure to trimmed in-flight HTLCs": "SHOULD fail this HTLC once it's
 *  committed"; and an expiry outside our CLTV window, BOLT #4 `expiry_too_soon`/`incorrect_cltv_expiry`). */
export function receivedAddPolicy (
  s: ChannelState, htlc: Htlc, reduced: CommitmentSpec,
): 'temporary_channel_failure' | 'expiry_too_soon' | 'incorrect_cltv_expiry' | undefined {
  const type = s.setup.channelType
  const cap = s.policy.maxDustExposureMsat
  // BOLT #2: "if the HTLC's `amount_msat` is smaller than the remote `dust_limit_satoshis` plus the
  // HTLC-timeout fee at `feerate_per_kw`: if the `amount_msat` plus the dust balance of the remote
  // transaction is greater than `max_dust_htlc_exposure_msat`: SHOULD fail this HTLC once it's
  // committed" — and the same for the local transaction with the HTLC-success fee.
  for (const [holder, dust] of [['local', s.setup.local.dustLimitSat], ['remote', remoteParams(s).dustLimitSat]] as const) {
    if (isTrimmed(type, htlc, holder, dust, reduced.feeratePerKw) && dustExposureMsat(type, reduced, holder, dust) > cap) {
      return 'temporary_channel_failure'
    }
  }
  if (htlc.cltvExpiry < s.height + s.policy.minCltvExpiryDelta) return 'expiry_too_soon'
  if (htlc.cltvExpiry > s.height + s.policy.maxCltvExpiryDelta) return 'incorrect_cltv_expiry'
  return undefined
}

/** Our own add, against the peer's next commitment `reduced` (which already contains it). */
export function checkOfferedAdd (s: ChannelState, htlc: Htlc, reduced: CommitmentSpec): ChannelError | undefined {
  const local = s.setup.local
  const remote = remoteParams(s)
  const type = s.setup.channelType
  // BOLT #2 (update_add_htlc, sender): "MUST offer `amount_msat` greater than 0. MUST NOT offer
  // `amount_msat` below the receiving node's `htlc_minimum_msat`"
  if (htlc.amountMsat <= 0 || htlc.amountMsat < remote.htlcMinimumMsat) {
    return channelError('amount_below_minimum', `amount_msat ${htlc.amountMsat} < peer's htlc_minimum_msat ${remote.htlcMinimumMsat}`)
  }
  // BOLT #2: "MUST set `cltv_expiry` less than 500000000."
  if (htlc.cltvExpiry >= CLTV_EXPIRY_LIMIT) return channelError('bad_cltv', `cltv_expiry ${htlc.cltvExpiry} ≥ ${CLTV_EXPIRY_LIMIT}`)
  // BOLT #2: "if result would be offering more than the remote's `max_accepted_htlcs` HTLCs, in the
  // remote commitment transaction: MUST NOT add an HTLC."
  if (count(reduced, 'local') > remote.maxAcceptedHtlcs) return channelError(
    'too_many_htlcs', `peer accepts at most ${remote.maxAcceptedHtlcs} HTLCs`,
  )
  // BOLT #2: "if the total value of offered HTLCs would exceed the remote's
  // `max_htlc_value_in_flight_msat`: MUST NOT add an HTLC."
  if (inFlightMsat(reduced, 'local') > remote.maxHtlcValueInFlightMsat) {
    return channelError('max_in_flight', `peer accepts at most ${remote.maxHtlcValueInFlightMsat} msat in flight`)
  }
  // BOLT #2: "if it is _responsible_ for paying the Bitcoin fee: MUST NOT offer `amount_msat` if,
  // after adding that HTLC to its commitment transaction, it cannot pay the fee for either the local
  // or remote commitment transaction at the current `feerate_per_kw` while maintaining its channel
  // reserve" ... "SHOULD NOT offer `amount_msat` if ... its remaining balance doesn't allow it to pay
  // the commitment transaction fee when receiving or sending a future additional non-dust HTLC ...
  // It is recommended that this "fee spike buffer" can handle twice the current `feerate_per_kw`".
  const reserve = remote.channelReserveSat * 1000
  if (reduced.toLocalMsat < reserve) return channelError(
    'reserve', `our balance would be ${reduced.toLocalMsat} msat, below the channel reserve of ${reserve} msat the peer requires`,
  )
  if (s.setup.isFunder) {
    const spike = {
      ...reduced, feeratePerKw: 2 * reduced.feeratePerKw,
      htlcs: [...reduced.htlcs, { ...htlc, offerer: 'local' as const, id: -1, amountMsat: (1e9) as Htlc['amountMsat'] }],
    }
    for (const [holder, dust] of [['local', local.dustLimitSat], ['remote', remote.dustLimitSat]] as const) {
      const cost = Math.max(funderCostMsat(type, reduced, holder, dust), funderCostMsat(type, spike, holder, dust))
      if (reduced.toLocalMsat - cost < reserve) {
        return channelError('insufficient_funds', `our balance ${reduced.toLocalMsat} msat cannot pay fee ${cost} msat (with fee-spike ` +
          `buffer) above the channel reserve of ${reserve} msat`)
      }
    }
  } else {
    // BOLT #2: "if it is _not responsible_ for paying the Bitcoin fee: SHOULD NOT offer `amount_msat`
    // if, once the remote node adds that HTLC to its commitment transaction, it cannot pay the fee for
    // the updated local or remote transaction at the current `feerate_per_kw` while maintaining its
    // channel reserve."
    const cost = funderCostMsat(type, reduced, 'remote', remote.dustLimitSat)
    if (balance(reduced, 'remote') - cost < local.channelReserveSat * 1000) {
      return channelError('insufficient_funds', `the funder could not pay the commitment fee ${cost} msat with this HTLC`)
    }
  }
  // BOLT #2 (max_dust_htlc_exposure_msat, when offering an HTLC): "if the `amount_msat` plus the dust
  // balance of the remote transaction is greater than `max_dust_htlc_exposure_msat`: SHOULD NOT send
  // this HTLC" — and the same for the local transaction.
  for (const [holder, dust] of [['local', local.dustLimitSat], ['remote', remote.dustLimitSat]] as const) {
    if (isTrimmed(type, htlc, holder, dust, reduced.feeratePerKw) &&
      dustExposureMsat(type, reduced, holder, dust) > s.policy.maxDustExposureMsat) {
      return channelError('dust_exposure', `HTLCs too small for an output of their own (trimmed: on-chain they would go to the miners) ` +
        `would exceed max_dust_htlc_exposure_msat ${s.policy.maxDustExposureMsat} msat in the ${holder} commitment`)
    }
  }
  return undefined
}
