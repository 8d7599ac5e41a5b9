// BOLT #2 "Channel Establishment v1": the receiver's rules for open_channel and accept_channel.
import { getCurve } from '../../crypto/index.ts'
import { channelError, type ChannelError } from '../../errors.ts'
import { MAX_ACCEPTED_HTLCS_LIMIT, MAX_FUNDING_SATOSHIS, MIN_DUST_LIMIT_SATOSHIS } from '../../limits.ts'
import { hexToBytes } from '../../types.ts'
import type { AcceptChannel, OpenChannel } from '../../wire/index.ts'
import { funderCostMsat } from '../fees.ts'
import type { LocalPolicy } from '../state.ts'

type Params = Pick<OpenChannel, 'dust_limit_satoshis' | 'channel_reserve_satoshis' | 'to_self_delay' | 'max_accepted_htlcs' |
  'funding_pubkey' | 'revocation_basepoint' | 'payment_basepoint' | 'delayed_payment_basepoint' | 'htlc_basepoint' |
    'first_per_commitment_point'>

/** Rules that apply to both messages ("Other fields have the same requirements as their
 *  counterparts in `open_channel`"). */
function checkCommon (m: Params, policy: LocalPolicy): ChannelError | undefined {
  // BOLT #2 (open_channel, receiver): "The receiving node MUST fail the channel if: ...
  // `to_self_delay` is unreasonably large."
  if (m.to_self_delay > policy.maxToSelfDelay) return channelError(
    'to_self_delay_too_large', `to_self_delay ${m.to_self_delay} > ${policy.maxToSelfDelay}`,
  )
  // "`max_accepted_htlcs` is greater than 483." (and 0 would make the channel useless)
  if (m.max_accepted_htlcs > MAX_ACCEPTED_HTLCS_LIMIT || m.max_accepted_htlcs === 0) return channelError(
    'max_accepted_htlcs_out_of_range', `max_accepted_htlcs ${m.max_accepted_htlcs}`,
  )
  // "`funding_pubkey`, `revocation_basepoint`, `htlc_basepoint`, `payment_basepoint`, or
  // `delayed_payment_basepoint` are not valid secp256k1 pubkeys in compressed format."
  const curve = getCurve()
  for (const k of [
    'funding_pubkey', 'revocation_basepoint', 'payment_basepoint', 'delayed_payment_basepoint', 'htlc_basepoint',
    'first_per_commitment_point',
  ] as const) {
    if (!curve.isPubkey(hexToBytes(m[k]))) return channelError('invalid_field', `${k} is not a valid secp256k1 point`, 'close')
  }
  // "`dust_limit_satoshis` is greater than `channel_reserve_satoshis`." / "`dust_limit_satoshis` is
  // smaller than `354 satoshis`"
  if (m.dust_limit_satoshis > m.channel_reserve_satoshis) return channelError(
    'reserve_out_of_range', `dust_limit_satoshis ${m.dust_limit_satoshis} > channel_reserve_satoshis ${m.channel_reserve_satoshis}`,
  )
  if (m.dust_limit_satoshis < MIN_DUST_LIMIT_SATOSHIS) return channelError(
    'dust_limit_out_of_range', `dust_limit_satoshis ${m.dust_limit_satoshis} < ${MIN_DUST_LIMIT_SATOSHIS}`,
  )
  return undefined
}

/** The acceptor's checks of open_channel, given our own channel_reserve_satoshis and dust limit. */
export function checkOpenChannel (
  m: OpenChannel, policy: LocalPolicy, chainHash: string, ourReserveSat: number, ourDustLimitSat: number,
): ChannelError | undefined {
  // "the `chain_hash` value is set to a hash of a chain that is unknown to the receiver."
  if (m.chain_hash !== chainHash) return channelError('wrong_chain', 'chain_hash is not our chain')
  // "`funding_satoshis` is greater than or equal to 2^24 and the receiver does not support
  // `option_support_large_channel`." / MAY fail if "`funding_satoshis` is too small."
  if (m.funding_satoshis > MAX_FUNDING_SATOSHIS || m.funding_satoshis < policy.minFundingSat) return channelError(
    'funding_out_of_range', `funding_satoshis ${m.funding_satoshis}`,
  )
  // "`push_msat` is greater than `funding_satoshis` * 1000."
  if (m.push_msat > m.funding_satoshis * 1000) return channelError('push_exceeds_funding', `push_msat ${m.push_msat} > funding`)
  // "it considers `feerate_per_kw` too small for timely processing or unreasonably large."
  if (m.feerate_per_kw < policy.minFeeratePerKw || m.feerate_per_kw > policy.maxFeeratePerKw) return channelError(
    'feerate_out_of_range', `feerate_per_kw ${m.feerate_per_kw}`,
  )
  const common = checkCommon(m, policy)
  if (common !== undefined) return common
  // Our reserve must not be dust for the opener either (BOLT #2 accept_channel sender: "MUST set
  // `channel_reserve_satoshis` greater than or equal to `dust_limit_satoshis` from the `open_channel`").
  if (ourReserveSat < m.dust_limit_satoshis) return channelError(
    'reserve_out_of_range', `our reserve ${ourReserveSat} < their dust limit ${m.dust_limit_satoshis}`,
  )
  if (m.channel_reserve_satoshis < ourDustLimitSat) return channelError(
    'reserve_out_of_range', `their reserve ${m.channel_reserve_satoshis} < our dust limit ${ourDustLimitSat}`,
  )
  // "the funder's amount for the initial commitment transaction is not sufficient for full fee payment."
  const funderMsat = m.funding_satoshis * 1000 - m.push_msat
  const spec = { htlcs: [], toLocalMsat: 0 as never, toRemoteMsat: 0 as never, feeratePerKw: m.feerate_per_kw }
  if (funderMsat < funderCostMsat(m.channel_type, spec, 'local', ourDustLimitSat)) return channelError(
    'funding_out_of_range', 'the funder cannot pay the initial commitment fee',
  )
  // "both `to_local` and `to_remote` amounts for the initial commitment transaction are less than or
  // equal to `channel_reserve_satoshis`."
  if (funderMsat <= m.channel_reserve_satoshis * 1000 && m.push_msat <= m.channel_reserve_satoshis * 1000) return channelError(
    'reserve_out_of_range', 'both initial balances are within the reserve',
  )
  return undefined
}

/** The opener's checks of accept_channel against the open_channel it sent. */
export function checkAcceptChannel (m: AcceptChannel, open: OpenChannel, policy: LocalPolicy): ChannelError | undefined {
  // BOLT #2 (accept_channel, receiver): "if `minimum_depth` is unreasonably large: MAY fail the channel."
  if (m.minimum_depth > policy.maxMinimumDepth) return channelError('minimum_depth_too_large', `minimum_depth ${m.minimum_depth}`)
  // "if `channel_reserve_satoshis` is less than `dust_limit_satoshis` within the `open_channel`
  // message: MUST fail the channel. if `channel_reserve_satoshis` from the `open_channel` message is
  // less than `dust_limit_satoshis`: MUST fail the channel."
  if (m.channel_reserve_satoshis < open.dust_limit_satoshis) return channelError(
    'reserve_out_of_range', 'accept reserve below our dust limit',
  )
  if (open.channel_reserve_satoshis < m.dust_limit_satoshis) return channelError(
    'reserve_out_of_range', 'our reserve below their dust limit',
  )
  // "if `channel_type` does not match the `channel_type` from `open_channel`: MUST fail the channel."
  if (m.channel_type !== open.channel_type) return channelError(
    'unsupported_channel_type', `channel_type ${m.channel_type} ≠ ${open.channel_type}`,
  )
  return checkCommon(m, policy)
}
