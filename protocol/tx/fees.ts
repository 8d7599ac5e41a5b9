// BOLT #3 "Fees": expected weights, second-stage fees, trimming. Constants carry their source.
import { sat, type Sat } from '../types.ts'
import type { ChannelType, CommitmentHtlc } from './types.ts'

/** BOLT #3: "The amount of the output is fixed at 330 sats, the default dust limit for P2WSH." */
export const ANCHOR_OUTPUT_SAT = 330 as Sat

/** BOLT #3: "Commitment weight (no option_anchors): 724", "(option_anchors): 1124". */
export const COMMITMENT_BASE_WEIGHT: Record<ChannelType, number> = { static_remotekey: 724, anchors: 1124 }
/** BOLT #3: "+ 172 * num-untrimmed-htlc-outputs". */
export const HTLC_OUTPUT_WEIGHT = 172
/** BOLT #3: "HTLC-timeout weight (no option_anchors): 663", "(option_anchors): 666". */
export const HTLC_TIMEOUT_WEIGHT: Record<ChannelType, number> = { static_remotekey: 663, anchors: 666 }
/** BOLT #3: "HTLC-success weight (no option_anchors): 703", "(option_anchors): 706". */
export const HTLC_SUCCESS_WEIGHT: Record<ChannelType, number> = { static_remotekey: 703, anchors: 706 }

/** fee = feerate_per_kw × weight / 1000, rounded down (BOLT #3 everywhere). */
export function feeForWeight (feeratePerKw: number, weight: number): Sat {
  return sat(Math.floor((feeratePerKw * weight) / 1000))
}

/** BOLT #3: HTLC-timeout fee "If option_anchors applies: MUST be 0. Otherwise ... feerate_per_kw by 663 / 1000". */
export function htlcTimeoutFeeSat (channelType: ChannelType, feeratePerKw: number): Sat {
  return channelType === 'anchors' ? sat(0) : feeForWeight(feeratePerKw, HTLC_TIMEOUT_WEIGHT.static_remotekey)
}

/** BOLT #3: HTLC-success fee "If option_anchors applies: MUST be 0. Otherwise ... by 703 / 1000". */
export function htlcSuccessFeeSat (channelType: ChannelType, feeratePerKw: number): Sat {
  return channelType === 'anchors' ? sat(0) : feeForWeight(feeratePerKw, HTLC_SUCCESS_WEIGHT.static_remotekey)
}

/**
 * BOLT #3 "Trimmed Outputs": an offered HTLC is trimmed "if the HTLC amount minus the HTLC-timeout fee
 * would be less than dust_limit_satoshis set by the transaction owner"; a received one likewise with
 * the HTLC-success fee. Amounts are rounded down to whole satoshis first.
 */
export function isHtlcTrimmed (htlc: CommitmentHtlc, channelType: ChannelType, feeratePerKw: number, dustLimitSat: number): boolean {
  const fee = htlc.direction === 'offered' ? htlcTimeoutFeeSat(channelType, feeratePerKw) : htlcSuccessFeeSat(channelType, feeratePerKw)
  return Math.floor(htlc.amountMsat / 1000) - fee < dustLimitSat
}

/**
 * BOLT #3 base commitment fee: "Start with weight = 724 (1124 if option_anchors applies). For each
 * committed HTLC, if that output is not trimmed ..., add 172 to weight. Multiply feerate_per_kw by
 * weight, divide by 1000 (rounding down)."
 */
export function commitmentBaseFeeSat (channelType: ChannelType, feeratePerKw: number, untrimmedHtlcCount: number): Sat {
  return feeForWeight(feeratePerKw, COMMITMENT_BASE_WEIGHT[channelType] + HTLC_OUTPUT_WEIGHT * untrimmedHtlcCount)
}
