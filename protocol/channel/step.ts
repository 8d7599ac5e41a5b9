// The channel state machine's single entry point (STYLE.md §1): step(state, input, signer) →
// { state, effects }. Pure: the input state is not modified; the same arguments give the same result.
//
// Durable writes per step (the persistence contract, asserted by test/unit/protocol/channel/persist-before-send.test.ts:
// "…: durable writes per step", "funding: …" and "durable writes: establishment and cooperative close";
// and by test/unit/protocol/channel/force-close.test.ts):
//   command add_htlc / fail_htlc / update_fee        0   (uncommitted updates are forgotten on disconnect)
//   command fulfill_htlc                              1   (the preimage, before the fulfill leaves; also on a
//                                                         failed channel, where the monitor claims on-chain)
//   command sign                                      1   remote_commitment  → commitment_signed
//   peer update_add_htlc / update_fail_htlc / update_fee  0
//   peer update_fulfill_htlc                          1   the preimage, the moment it is learned
//   peer commitment_signed                            1   local_commitment   → revoke_and_ack
//   peer revoke_and_ack                               1   revocation         → htlc_received / htlc_failed events
//   peer funding_created (acceptor)                   1   funding + both commitments 0 → funding_signed
//   peer funding_signed (opener)                      1   funding + both commitments 0 → broadcast funding
//   chain funding depth / peer channel_ready          1
//   funding output wrong or missing, or deadline      1   (no monitor update: abandoned, nothing to enforce)
//   command shutdown / peer shutdown (first)          1
//   each closing_signed sent, and the agreement       1 per step
//   channel failed after funding                      1   force_close; held sends are dropped (the error leaves at
//                                                         once for a peer's violation, else with this write)
//   command force_close (funded, not failed)          1   force_close → error; the monitor broadcasts our commitment
//   chain closed_onchain (not closed yet)             1   (no monitor update: the monitor told us)
//   link down with our commitment_signed still held   1   remote_commitment_withdrawn → add_rolled_back events
//   a violation (warning + disconnect)                0   (+1 as above if a commitment_signed is withdrawn)
// Splicing (protocol/channel/splice; asserted by test/unit/protocol/channel/splice/persist.test.ts):
//   stfu, splice_init/ack, tx_init_rbf/ack_rbf, tx_add_* / tx_remove_*,
//     commands splice / splice_rbf / splice_respond    0   (forgotten with the link: nothing is signed)
//   the transaction complete (sent or received the
//     last tx_complete)                              1   splice_candidate → tx_complete, commitment_signed
//   peer commitment_signed for the new funding         1   splice_local_commitment → tx_signatures if we sign first
//   command splice_witnesses                          0, or 1 when our tx_signatures leave with it (stored first)
//   peer tx_signatures                                1   splice_signed → our tx_signatures, broadcast_splice
//   tx_abort (ours or the peer's) after tx_complete   1   splice_dropped (0 before)
//   splice depth reached / peer splice_locked          1   (+ splice_locked when both are in: the promotion)
//   chain splice_double_spent (new spender / final)    1   (final: splice_dropped)
//   commitment_signed batch sent / received           1   as a single one (+ splice_local_commitment per splice)
import type { PeerMessage } from '../wire/index.ts'
import type { Txid } from '../types.ts'
import type { HtlcFailureReason } from '../wire/index.ts'
import { channelError } from '../errors.ts'
import { StepBuilder, copyState, type Step } from './effects.ts'
import { commandForceClose, onCommandError, onPeerError } from './failure.ts'
import { dropUncommitted, onLinkDown } from './disconnect.ts'
import { isFinal, isOperating } from './phase.ts'
import type { ChannelSigner } from './signer.ts'
import type { ChannelState } from './state.ts'
import { addHtlc, proposeUpdate, receiveAdd, receiveFail, receiveFee, receiveFulfill, type AddHtlcCommand } from './updates.ts'
import { receiveRevokeAndAck, signCommitment } from './commit.ts'
import {
  fundingBuilt, fundingDepth, receiveAcceptChannel, receiveChannelReady, receiveFundingCreated, receiveFundingSigned,
} from './open.ts'
import { closedOnChain, commandShutdown, receiveClosingSigned, receiveShutdown } from './close.ts'
import { onConnected, receiveReestablish } from './reestablish.ts'
import { onBlock } from './expiry.ts'
import { abandon, checkFundingDeadline, nothingAtStake, type FundingOutputSeen } from './funding-check.ts'
import { isSpliceMessage, onSpliceCommand, onSpliceDepth, onSpliceMessage, type SpliceCommand, type SpliceDepth } from './splice/route.ts'
import { onCommitmentSigned } from './splice/batch.ts'
import { spliceDoubleSpent, type SpliceDoubleSpent } from './splice/double-spent.ts'
import { afterStep, peerMayUpdate, quiescence } from './splice/quiescence.ts'

export type Command =
  | AddHtlcCommand
  | { type: 'fulfill_htlc'; id: number; preimage: string }
  | { type: 'fail_htlc'; id: number; reason: HtlcFailureReason; detail?: string }
  | { type: 'update_fee'; feeratePerKw: number }
  /** Sign the peer's next commitment with every update so far (the host decides the batching). */
  | { type: 'sign' }
  /** Opener: the funding tx is built (not broadcast); its txid and the funding output's index. */
  | { type: 'funding_built'; txid: Txid; outputIndex: number }
  | { type: 'shutdown'; scriptPubkey?: string }
  /** Fail the channel and close it with our latest commitment (failure.ts forceCloseOutcome says
   *  what it does in each phase). `reason`: who decided and why. */
  | { type: 'force_close'; reason: string }
  /** Quiescence and splicing (protocol/channel/splice/route.ts). */
  | SpliceCommand

export type ChainEvent =
  | { type: 'block'; height: number }
  /** What the host's node shows of the funding tx, once it knows the tx: its confirmations (0: in the
   *  mempool) and the output at the funding index (null: it has none). host/chain/funding-output.ts. */
  | { type: 'funding_depth'; depth: number; output: FundingOutputSeen | null }
  /** What the host's node shows of a pending splice transaction: its confirmations. */
  | SpliceDepth
  /** A pending splice transaction's input spent by another confirmed transaction. */
  | SpliceDoubleSpent
  /** The host's chain monitor: every output of the funding output's spend is irrevocably resolved. */
  | { type: 'closed_onchain' }

export type ChannelInput =
  | { kind: 'peer'; msg: PeerMessage }
  | { kind: 'command'; cmd: Command }
  | { kind: 'chain'; event: ChainEvent }
  /** The host finished durable write `writeId` (and every earlier one). */
  | { kind: 'persisted'; writeId: number }
  | { kind: 'connected' }
  | { kind: 'disconnected' }
  /** The host restarted and loaded this state from its store: every write in it is durable; the
   *  connection is gone. */
  | { kind: 'restored' }

export function step (state: ChannelState, input: ChannelInput, signer: ChannelSigner): Step {
  const b = new StepBuilder(copyState(state))
  switch (input.kind) {
    case 'peer': onPeerMessage(b, signer, input.msg); break
    case 'command': onCommand(b, signer, input.cmd); break
    case 'chain': onChain(b, signer, input.event); break
    case 'persisted': onPersisted(b, input.writeId); break
    case 'connected': onConnected(b, signer); break
    case 'disconnected': if (b.state.link !== 'down') onLinkDown(b); break
    case 'restored': onRestored(b); break
  }
  afterStep(b)
  return b.done()
}

function onPersisted (b: StepBuilder, writeId: number): void {
  const w = b.state.writes
  if (writeId > w.issued) throw new Error(`persisted(${writeId}) but only ${w.issued} writes were issued`)
  w.acked = Math.max(w.acked, writeId)
  b.release()
}

function onRestored (b: StepBuilder): void {
  const s = b.state
  s.writes.acked = s.writes.issued
  s.link = 'up' // so that dropUncommitted runs its full rollback
  dropUncommitted(b)
  b.release()
}

function onCommand (b: StepBuilder, signer: ChannelSigner, cmd: Command): void {
  switch (cmd.type) {
    case 'add_htlc': return addHtlc(b, cmd)
    case 'fulfill_htlc': return proposeUpdate(b, { kind: 'fulfill', id: cmd.id, preimage: cmd.preimage })
    case 'fail_htlc': return proposeUpdate(
      b, { kind: 'fail', id: cmd.id, reason: cmd.reason, ...(cmd.detail !== undefined ? { detail: cmd.detail } : {}) },
    )
    case 'update_fee': return proposeUpdate(b, { kind: 'fee', feeratePerKw: cmd.feeratePerKw })
    case 'sign': return signCommitment(b, signer)
    case 'funding_built': return fundingBuilt(b, signer, cmd.txid, cmd.outputIndex)
    case 'shutdown':
      // BOLT #2 (splice_init): a splice is not started after shutdown; nor is a shutdown sent in the
      // middle of one (the closing transaction would spend the funding output the splice spends).
      if (quiescence(b.state) !== 'none' || (b.state.splice?.candidates.length ?? 0) > 0) return onCommandError(
        b, 'shutdown', channelError('channel_quiescent', 'a splice is in progress', 'ignore'),
      )
      return commandShutdown(b, signer, cmd.scriptPubkey)
    case 'force_close': return commandForceClose(b, cmd.reason)
    default: return onSpliceCommand(b, signer, cmd)
  }
}

function onChain (b: StepBuilder, signer: ChannelSigner, e: ChainEvent): void {
  switch (e.type) {
    case 'block': onBlock(b, e.height); return checkFundingDeadline(b)
    case 'funding_depth': return fundingDepth(b, signer, e.depth, e.output)
    case 'splice_depth': return onSpliceDepth(b, signer, e)
    case 'splice_double_spent': return spliceDoubleSpent(b, e)
    case 'closed_onchain': return closedOnChain(b)
  }
}

const unexpected = (b: StepBuilder, what: string): void =>
  onPeerError(b, channelError('unexpected_message', `${what} in phase ${b.state.phase} (link ${b.state.link})`))

function onPeerMessage (b: StepBuilder, signer: ChannelSigner, msg: PeerMessage): void {
  const s = b.state
  if (msg.type === 'error') {
    // BOLT #1: on `error` for a channel, "MUST fail the channel".
    if (!isFinal(s.phase)) return onPeerError(b, channelError('peer_error', msg.data))
    return
  }
  if (msg.type === 'warning') return
  if (isFinal(s.phase)) return // we already failed or closed: ignore everything but errors
  // The host routes messages by channel id; one for another channel here is a host bug or a peer
  // mixing channels up, never something to apply.
  const id = 'channel_id' in msg ? msg.channel_id : 'temporary_channel_id' in msg ? msg.temporary_channel_id : undefined
  if (id !== undefined && id !== s.channelId && id !== s.temporaryChannelId) return unexpected(
    b, `${msg.type} for channel ${id.slice(0, 16)}…`,
  )
  if (s.link === 'down') return unexpected(b, msg.type)
  // BOLT #2: "MUST wait to receive the other node's `channel_reestablish` message before sending any
  // other messages for that channel." Likewise we accept nothing else first.
  if (s.link === 'reestablishing' && msg.type !== 'channel_reestablish') return unexpected(b, msg.type)
  // BOLT #2 (commitment_signed, with splices): the sender "MUST NOT send any other message before it
  // has sent the batch of `commitment_signed` messages".
  if (s.splice?.batch !== undefined && msg.type !== 'commitment_signed') return onPeerError(
    b, channelError('commitment_batch_invalid', `${msg.type} inside a batch of commitment_signed`),
  )
  switch (msg.type) {
    case 'accept_channel': return s.phase === 'awaiting_accept' ? receiveAcceptChannel(b, msg) : unexpected(b, msg.type)
    case 'funding_created': return s.phase === 'awaiting_funding_created' ? receiveFundingCreated(b, signer, msg) : unexpected(b, msg.type)
    case 'funding_signed': return s.phase === 'awaiting_funding_signed' ? receiveFundingSigned(b, signer, msg) : unexpected(b, msg.type)
    case 'channel_ready': return receiveChannelReady(b, msg)
    case 'channel_reestablish': return s.link === 'reestablishing' ? receiveReestablish(b, signer, msg) : unexpected(b, msg.type)
    case 'shutdown':
      // A retransmitted shutdown (BOLT #2: "if it has sent a previous `shutdown`: MUST retransmit") is redundant.
      if (s.phase === 'negotiating_close' && msg.scriptpubkey === s.closing.remoteScript) return
      // BOLT #2 (shutdown, receiver): "if it hasn't sent a `channel_ready` yet: MAY reply to a
      // `shutdown` message with a `shutdown`". A fundee whose funding has not confirmed does not: it
      // would sign a closing tx for an output it has not seen, and keep the channel past its deadline.
      if (nothingAtStake(s) && !s.channelReady.sent) return abandon(
        b, channelError('unexpected_message', 'shutdown before the funding confirmed: nothing to close', 'close'),
      )
      return isOperating(s.phase) || s.phase === 'awaiting_funding_depth' ? receiveShutdown(b, signer, msg) : unexpected(b, msg.type)
    case 'closing_signed': return receiveClosingSigned(b, signer, msg)
    default: break
  }
  if (!isOperating(s.phase)) return unexpected(b, msg.type)
  if (isSpliceMessage(msg)) return onSpliceMessage(b, signer, msg)
  // BOLT #2 (stfu, sender): "MUST NOT send an update message after `stfu`."
  if (msg.type.startsWith('update_') && !peerMayUpdate(s)) return onPeerError(
    b, channelError('quiescence_violation', `${msg.type} after the peer's stfu`),
  )
  switch (msg.type) {
    case 'update_add_htlc': return receiveAdd(b, msg)
    case 'update_fulfill_htlc': return receiveFulfill(b, msg)
    case 'update_fail_htlc': return receiveFail(b, msg)
    case 'update_fee': return receiveFee(b, msg)
    case 'commitment_signed': return onCommitmentSigned(b, signer, msg)
    case 'revoke_and_ack': return receiveRevokeAndAck(b, signer, msg)
    default: return unexpected(b, msg.type)
  }
}
