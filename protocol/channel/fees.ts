// BOLT #3 fee and trimming arithmetic in the channel's terms: specs are in our (local) perspective,
// and whether an HTLC is offered or received depends on whose commitment (the holder) it is in.
// The formulas themselves are protocol/tx/fees.ts's.
import { ANCHOR_OUTPUT_SAT, commitmentBaseFeeSat, isHtlcTrimmed } from '../tx/fees.ts'
import { hexToBytes } from '../types.ts'
import type { ChannelType } from '../wire/index.ts'
import type { CommitmentSpec, Htlc, Side } from './state.ts'

/** BOLT #3 "Trimmed Outputs": an HTLC offered by the holder is trimmed below the holder's dust limit
 *  plus the HTLC-timeout fee; a received one, plus the HTLC-success fee. */
export function isTrimmed (type: ChannelType, h: Htlc, holder: Side, dustLimitSat: number, feeratePerKw: number): boolean {
  const direction = h.offerer === holder ? 'offered' : 'received'
  return isHtlcTrimmed(
    { direction, id: h.id, amountMsat: h.amountMsat, paymentHash: EMPTY, cltvExpiry: h.cltvExpiry }, type, feeratePerKw, dustLimitSat,
  )
}
const EMPTY = hexToBytes('')

/** The HTLCs that get an output in the holder's commitment. */
export function untrimmedHtlcs (type: ChannelType, spec: CommitmentSpec, holder: Side, dustLimitSat: number): Htlc[] {
  return spec.htlcs.filter(h => !isTrimmed(type, h, holder, dustLimitSat, spec.feeratePerKw))
}

/** What the funder pays out of its balance for the holder's commitment: the base fee plus, with
 *  anchors, both anchor outputs (BOLT #3 "Fee Payment"). In msat. */
export function funderCostMsat (type: ChannelType, spec: CommitmentSpec, holder: Side, dustLimitSat: number): number {
  const n = untrimmedHtlcs(type, spec, holder, dustLimitSat).length
  const anchors = type === 'anchors' ? 2 * ANCHOR_OUTPUT_SAT : 0
  return (commitmentBaseFeeSat(type, spec.feeratePerKw, n) + anchors) * 1000
}

/** BOLT #2 "Bounding exposure to trimmed in-flight HTLCs": the value of the holder commitment's
 *  HTLCs that are trimmed at `feeratePerKw` (its "dust balance"), in msat. */
export function dustExposureMsat (
  type: ChannelType, spec: CommitmentSpec, holder: Side, dustLimitSat: number, feeratePerKw = spec.feeratePerKw,
): number {
  return spec.htlcs.reduce((a, h) => (isTrimmed(type, h, holder, dustLimitSat, feeratePerKw) ? a + h.amountMsat : a), 0)
}

/** The closing transaction's weight estimate for the initial closing_signed fee: version, one funding
 *  input with a 2-of-2 witness and two P2WSH-sized outputs (BOLT #3 "Closing Transaction";
 *  4 × 158 + 1 + 224 witness ≈ 857; rounded up). */
export const CLOSING_TX_WEIGHT = 880
