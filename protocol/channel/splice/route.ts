// The splice's messages, commands and chain input, routed to the file of each concern (the channel
// machine's step.ts calls these, as it calls updates.ts or close.ts).
import type { Txid } from '../../types.ts'
import type { PeerMessage } from '../../wire/index.ts'
import type { StepBuilder } from '../effects.ts'
import type { ChannelSigner } from '../signer.ts'
import { receiveTxAbort } from './abort.ts'
import { receiveStartBatch } from './batch.ts'
import { receiveTxConstruction } from './construct.ts'
import {
  commandSplice, commandSpliceAbort, commandSpliceReject, commandSpliceRespond, receiveSpliceAck, receiveSpliceInit, receiveTxInitRbf,
  type SpliceCommandArgs,
} from './initiate.ts'
import { receiveSpliceLocked, spliceDepth } from './locked.ts'
import { quiescenceTimeout, receiveStfu } from './quiescence.ts'
import { commandSpliceBatchRelease, commandSpliceWitnesses, receiveTxSignatures } from './signing.ts'
import type { SpliceContribution } from './state.ts'
import type { NodeId } from '../../types.ts'

export const SPLICE_MESSAGE_TYPES = [
  'stfu', 'splice_init', 'splice_ack', 'splice_locked', 'start_batch', 'tx_add_input', 'tx_add_output', 'tx_remove_input',
  'tx_remove_output', 'tx_complete', 'tx_signatures', 'tx_abort', 'tx_init_rbf', 'tx_ack_rbf',
] as const
export type SpliceMessage = Extract<PeerMessage, { type: (typeof SPLICE_MESSAGE_TYPES)[number] }>
export const isSpliceMessage = (m: PeerMessage): m is SpliceMessage => (SPLICE_MESSAGE_TYPES as readonly string[]).includes(m.type)

/** Messages of a negotiation that may cross our tx_abort: dropped until its echo (BOLT #2 tx_abort
 *  rationale: the echo lets us end "without worrying about stale messages"). */
const STALE_AFTER_ABORT: ReadonlySet<string> = new Set([
  'splice_ack', 'tx_ack_rbf', 'tx_add_input', 'tx_add_output', 'tx_remove_input', 'tx_remove_output', 'tx_complete', 'tx_signatures',
])

export function onSpliceMessage (b: StepBuilder, signer: ChannelSigner, msg: SpliceMessage): void {
  if (b.state.splice?.abortSent === true && STALE_AFTER_ABORT.has(msg.type)) return
  switch (msg.type) {
    case 'stfu': return receiveStfu(b, msg)
    case 'splice_init': return receiveSpliceInit(b, msg)
    case 'tx_init_rbf': return receiveTxInitRbf(b, msg)
    case 'splice_ack':
    case 'tx_ack_rbf': return receiveSpliceAck(b, msg)
    case 'tx_add_input':
    case 'tx_add_output':
    case 'tx_remove_input':
    case 'tx_remove_output':
    case 'tx_complete': return receiveTxConstruction(b, signer, msg)
    case 'tx_signatures': return receiveTxSignatures(b, signer, msg)
    case 'tx_abort': return receiveTxAbort(b, msg)
    case 'splice_locked': return receiveSpliceLocked(b, signer, msg)
    case 'start_batch': return receiveStartBatch(b, msg)
  }
}

/** The host's splice commands (README "Host contract"). */
export type SpliceCommand =
  /** Splice in (positive contribution) or out (negative), once the channel is quiescent. */
  | ({ type: 'splice' } & SpliceCommandArgs)
  /** Replace the pending splice at a higher feerate (BOLT #2 tx_init_rbf). */
  | ({ type: 'splice_rbf' } & SpliceCommandArgs)
  /** Answer to `splice_requested`: our contribution to the peer's splice (0 to take no part). */
  | { type: 'splice_respond'; contribution: SpliceContribution; nodeIds: { local: NodeId; remote: NodeId } }
  /** Answer to `splice_requested`: refuse (tx_abort). */
  | { type: 'splice_reject'; reason: string }
  /** Cancel our splice (or the peer's we joined) before its transaction is complete (tx_abort). */
  | { type: 'splice_abort'; reason: string }
  /** Answer to `splice_sign_inputs`: one witness (hex items) per listed input, in its order. */
  | { type: 'splice_witnesses'; txid: Txid; witnesses: string[][] }
  /** The timer armed at `quiescence_started` fired. */
  | { type: 'quiescence_timeout'; seq: number }
  /** Every session of our batched settlement is complete: send the held commitment_signed. */
  | { type: 'splice_batch_release'; txid: Txid }

export function onSpliceCommand (b: StepBuilder, signer: ChannelSigner, cmd: SpliceCommand): void {
  switch (cmd.type) {
    case 'splice': return commandSplice(b, 'splice', cmd)
    case 'splice_rbf': return commandSplice(b, 'rbf', cmd)
    case 'splice_respond': return commandSpliceRespond(b, cmd.contribution, cmd.nodeIds)
    case 'splice_reject': return commandSpliceReject(b, cmd.reason)
    case 'splice_abort': return commandSpliceAbort(b, cmd.reason)
    case 'splice_witnesses': return commandSpliceWitnesses(b, signer, cmd.txid, cmd.witnesses)
    case 'quiescence_timeout': return quiescenceTimeout(b, cmd.seq)
    case 'splice_batch_release': return commandSpliceBatchRelease(b, cmd.txid)
  }
}

/** Chain input: a candidate splice transaction's depth on the host's node. */
export interface SpliceDepth { type: 'splice_depth'; txid: Txid; depth: number }
export const onSpliceDepth = (b: StepBuilder, signer: ChannelSigner, e: SpliceDepth): void => spliceDepth(b, signer, e.txid, e.depth)
