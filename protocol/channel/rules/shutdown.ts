// BOLT #2 "Closing Initiation: `shutdown`" and "Legacy Closing Negotiation: `closing_signed`":
// receiver rules.
import { channelError, type ChannelError } from '../../errors.ts'
import type { ChannelState } from '../state.ts'

/** BOLT #2 (shutdown, sender): "MUST set `scriptpubkey` in one of the following forms: 1. `OP_0`
 *  `20` 20-bytes (version 0 pay to witness pubkey hash), OR 2. `OP_0` `32` 32-bytes (version 0 pay to
 *  witness script hash), OR 3. if (and only if) `option_shutdown_anysegwit` is negotiated: `OP_1`
 *  through `OP_16` inclusive, followed by a single push of 2 to 40 bytes". We accept all three
 *  (anysegwit is assumed: P2TR payout addresses must work). */
export function isAllowedShutdownScript (hex: string): boolean {
  const b = hex.match(/../g)?.map(x => parseInt(x, 16)) ?? []
  if (b.length === 22 && b[0] === 0x00 && b[1] === 20) return true
  if (b.length === 34 && b[0] === 0x00 && b[1] === 32) return true
  const v = b[0] ?? 0
  const len = b[1] ?? 0
  return v >= 0x51 && v <= 0x60 && len >= 2 && len <= 40 && b.length === 2 + len
}

export function checkReceivedShutdown (s: ChannelState, script: string): ChannelError | undefined {
  // BOLT #2 (shutdown, receiver): "if it hasn't received a `funding_signed` (if it is a funder) or a
  // `funding_created` (if it is a fundee): SHOULD send an `error` and fail the channel."
  if (s.localCommit === undefined) return channelError('unexpected_message', 'shutdown before the channel is funded', 'close')
  // "if the `scriptpubkey` is not in one of the above forms: SHOULD send a `warning`." We also refuse
  // to sign a close paying to it, so the connection is dropped until the peer sends a valid one.
  if (!isAllowedShutdownScript(script)) return channelError(
    'bad_shutdown_script', `scriptpubkey ${script.slice(0, 20)}… is not P2WPKH, P2WSH or segwit v1+`,
  )
  // "if ... the receiving node received a non-zero-length `shutdown_scriptpubkey` in `open_channel` or
  // `accept_channel`, and that `shutdown_scriptpubkey` is not equal to `scriptpubkey`: MAY send a
  // `warning`. MUST fail the connection."
  const upfront = s.setup.remote?.upfrontShutdownScript
  if (upfront !== undefined && upfront !== '' && upfront !== script) return channelError(
    'bad_shutdown_script', 'scriptpubkey differs from upfront_shutdown_script',
  )
  // "MUST NOT send multiple `shutdown` messages." (A retransmission after reconnection repeats it.)
  if (s.closing.remoteScript !== undefined && s.closing.remoteScript !== script) return channelError(
    'bad_shutdown_script', 'a second, different shutdown',
  )
  return undefined
}

/** BOLT #2 (closing_signed, receiver, fee_range): the fee the peer proposes against our range. */
export function checkClosingFee (
  fee: number, ours: { min: number; max: number }, theirs: { min: number; max: number } | undefined,
): ChannelError | undefined {
  // "if there is no overlap between that and its own `fee_range`: SHOULD send a warning; MUST fail the
  // channel if it doesn't receive a satisfying `fee_range` after a reasonable amount of time"
  if (theirs !== undefined && (theirs.max < ours.min || theirs.min > ours.max)) {
    return channelError('closing_fee_no_overlap', `fee ranges [${theirs.min}, ${theirs.max}] and [${ours.min}, ${ours.max}] do not overlap`)
  }
  if (fee < ours.min || fee > ours.max) return channelError(
    'closing_fee_out_of_range', `fee_satoshis ${fee} outside our range [${ours.min}, ${ours.max}]`,
  )
  return undefined
}
