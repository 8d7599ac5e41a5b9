// The funding output, checked against the chain before a channel is used (DESIGN.md "What the hub
// checks before it signs"), and what becomes of a channel whose funding never shows up as agreed.
//
// funding_created only *claims* an outpoint. The host looks it up on its own node and reports what it
// found with the depth (ChainEvent `funding_depth`; host/chain/funding-output.ts): the output's script
// and value, and whether it is still unspent. This file compares that with what every commitment of
// the channel spends: the 2-of-2 P2WSH of the two funding keys (BOLT #3) holding exactly
// funding_satoshis. A transaction's outputs are fixed by its txid, so a mismatch seen once (even in the
// mempool) is final. Both sides run it: the hub on a platform's funding, the SDK on the hub's.
//
// Abandoned (phase 'abandoned'): the output is missing or wrong, or a fundee's funding did not confirm
// before its deadline. No valid commitment spends a wrong output (its script differs, or its amount,
// which the BIP 143 sighash commits to), so there is nothing to broadcast; a fundee never has coins of
// its own in an unconfirmed channel (BOLT #2 rationale: "The non-funder can simply forget the channel
// ever existed, since no funds are at risk"). The channel sends an `error`, is written once in its
// final phase, and emits channel_failed without a broadcast; the host may then forget it.
import { channelError, errorText, type ChannelError } from '../errors.ts'
import { fundingScriptPubkey } from '../tx/funding.ts'
import { bytesToHex, hexToBytes, type Sat } from '../types.ts'
import type { StepBuilder } from './effects.ts'
import { isFinal } from './phase.ts'
import { remoteParams, type ChannelSetup, type ChannelState } from './state.ts'
import type { ChainEvent } from './step.ts'

/** What the host's node shows at the funding outpoint (the transaction is known to it). */
export interface FundingOutputSeen {
  /** Hex. */
  scriptPubkey: string
  valueSat: number
  /** Already spent (a node may see only spends in its chain, not its mempool). */
  spent: boolean
}

/** The output both commitments spend: BOLT #3 "Funding Transaction Output". */
export function expectedFundingOutput (setup: ChannelSetup): { scriptPubkey: string; valueSat: Sat } {
  const script = fundingScriptPubkey(hexToBytes(setup.local.fundingPubkey), hexToBytes(remoteParams(setup).fundingPubkey))
  return { scriptPubkey: bytesToHex(script), valueSat: setup.capacitySat }
}

/** BOLT #2 (channel_ready, sender): "MUST NOT send `channel_ready` unless outpoint of given by
 *  `funding_txid` and `funding_output_index` in the `funding_created` message pays exactly
 *  `funding_satoshis` to the scriptpubkey specified in BOLT #3." `output` null: the transaction has no
 *  output at that index. */
export function checkFundingOutput (setup: ChannelSetup, output: FundingOutputSeen | null): ChannelError | undefined {
  const where = `${setup.funding?.txid ?? '?'}:${setup.funding?.outputIndex ?? '?'}`
  if (output === null) return channelError('funding_output_missing', `funding transaction has no output ${where}`)
  const want = expectedFundingOutput(setup)
  if (output.scriptPubkey !== want.scriptPubkey) return channelError(
    'funding_output_mismatch', `output ${where} pays script ${output.scriptPubkey.slice(0, 80)}, not the 2-of-2 of the funding keys`,
  )
  if (output.valueSat !== want.valueSat) return channelError(
    'funding_output_mismatch', `output ${where} holds ${output.valueSat} sat, not funding_satoshis ${want.valueSat}`,
  )
  if (output.spent) return channelError('funding_output_spent', `output ${where} was spent before the channel was ready`)
  return undefined
}

/** Confirmations before we send channel_ready. BOLT #2: the opener "is free to send this message at
 *  any time (since it presumably trusts itself)": only a funder whose policy allows it, for a peer that
 *  asked for minimum_depth 0, counts its own transaction from the mempool. */
export function requiredFundingDepth (s: ChannelState): number {
  if (s.setup.isFunder && s.setup.minimumDepth === 0 && s.policy.zeroConfOwnFunding === true) return 0
  return Math.max(1, s.setup.minimumDepth)
}

/** A fundee starts its deadline when it signs the first commitment (funding_created). */
export function fundingDeadlineFrom (s: ChannelState): number | undefined {
  return s.policy.fundingTimeoutBlocks === undefined ? undefined : s.height + s.policy.fundingTimeoutBlocks
}

/** BOLT #2 (fundee): "SHOULD forget the channel if it does not see the correct funding transaction
 *  after a timeout of 2016 blocks." Ours is policy.fundingTimeoutBlocks (limits.ts says why). */
export function checkFundingDeadline (b: StepBuilder): void {
  const s = b.state
  if (s.phase !== 'awaiting_funding_depth' || s.setup.isFunder || s.fundingDeadline === undefined || s.height < s.fundingDeadline) return
  abandon(b, channelError(
    'funding_timeout', `funding ${s.setup.funding?.txid ?? '?'} did not make the channel ready by height ${s.fundingDeadline}`,
  ))
}

/** Whether failing this channel must not broadcast anything: a fundee before its channel is ready has
 *  no coins of its own in it. */
export const nothingAtStake = (s: ChannelState): boolean => s.phase === 'awaiting_funding_depth' && !s.setup.isFunder

/** Stops a channel whose funding is not what was agreed: an `error` to the peer, one write of the final
 *  phase (no monitor update: there is nothing to enforce), and channel_failed without a broadcast. */
export function abandon (b: StepBuilder, err: ChannelError): void {
  const s = b.state
  if (isFinal(s.phase)) return
  s.phase = 'abandoned'
  s.holding = []
  if (s.localCommit !== undefined) b.persist()
  if (s.link !== 'down') b.send({ type: 'error', channel_id: s.channelId, data: errorText(err) })
  b.emit({ type: 'channel_failed', error: err, broadcastOurCommitment: false })
}

/** The chain event of a node that shows the funding exactly as agreed (simulations, tests, benches). */
export function fundingAsAgreed (setup: ChannelSetup, depth: number): Extract<ChainEvent, { type: 'funding_depth' }> {
  return { type: 'funding_depth', depth, output: { ...expectedFundingOutput(setup), spent: false } }
}
