// BOLT #2 "Splice Completion": splice_locked both ways, then the locked transaction replaces the
// channel's funding. "Each node: If any splice transaction reaches acceptable depth: MUST send
// `splice_locked` with the `txid` of that transaction." Acceptable is our policy
// (LocalPolicy.spliceMinimumDepth, limits.ts DEFAULT_SPLICE_MINIMUM_DEPTH); the host reports each
// candidate's depth as a chain input (`splice_depth`).
//
// "Once a node has sent and received `splice_locked`: If the `splice_txid`s match: MUST stop sending
// `commitment_signed` for RBF attempts and ancestors of this splice transaction. MAY discard RBF
// attempts and ancestor transactions." We discard them: the channel's setup, commitments and the
// commitment_signed awaiting revocation move to the candidate (promote).
//
// Durable writes: one per step that sends or receives splice_locked (what we sent must survive a
// restart: channel_reestablish my_current_funding_locked); the promotion rides on it.
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../limits.ts'
import { channelError } from '../../errors.ts'
import type { Txid } from '../../types.ts'
import type { SpliceLocked } from '../../wire/index.ts'
import type { StepBuilder } from '../effects.ts'
import { onPeerError } from '../failure.ts'
import { isOperating } from '../phase.ts'
import { commits } from '../state.ts'
import { maybeStartClosing } from '../close.ts'
import type { ChannelSigner } from '../signer.ts'
import { candidateSpec, spliceOf } from './state.ts'
import { abandonForLock } from './abort.ts'

/** Chain input: candidate `txid` has `depth` confirmations on the host's node. */
export function spliceDepth (b: StepBuilder, signer: ChannelSigner, txid: Txid, depth: number): void {
  const s = b.state
  const sp = s.splice
  if (sp === undefined || !isOperating(s.phase) || !sp.candidates.some(c => c.txid === txid)) return
  const required = s.policy.spliceMinimumDepth ?? DEFAULT_SPLICE_MINIMUM_DEPTH
  if (depth < required || sp.localLocked === txid) return
  sp.localLocked = txid
  b.persist()
  // Reached while disconnected: channel_reestablish carries it (my_current_funding_locked); while
  // reestablishing, it is sent once the peer's channel_reestablish is in (splice/reestablish.ts).
  if (s.link === 'up') { b.send(spliceLockedMessage(s.channelId, txid)); sp.lockedSent = txid }
  maybePromote(b, signer)
}

export const spliceLockedMessage = (
  channel_id: SpliceLocked['channel_id'], splice_txid: Txid,
): SpliceLocked => ({ type: 'splice_locked', channel_id, splice_txid })

export function receiveSpliceLocked (b: StepBuilder, signer: ChannelSigner, msg: SpliceLocked): void {
  lockedByPeer(b, signer, msg.splice_txid, 'splice_locked')
}

/** splice_locked, or channel_reestablish's my_current_funding_locked "as if it was receiving
 *  `splice_locked` for this `txid`". */
export function lockedByPeer (b: StepBuilder, signer: ChannelSigner, txid: Txid, what: string): void {
  const s = b.state
  // The current funding (already locked) repeats nothing new.
  if (txid === s.setup.funding?.txid) return
  const sp = spliceOf(s)
  // "If `splice_txid` doesn't match any of its pending splice transactions: MUST send a `warning` and
  // close the connection, or send an `error` and fail the channel."
  if (!sp.candidates.some(c => c.txid === txid)) return onPeerError(
    b, channelError('splice_locked_unknown', `${what} for ${txid}, no such pending splice`),
  )
  if (sp.remoteLocked === txid) return
  sp.remoteLocked = txid
  b.persist()
  maybePromote(b, signer)
}

/** "If the `splice_txid`s are for different RBF candidates: SHOULD ignore the message" — until both
 *  name the same one (after a reorg settles which confirmed). */
function maybePromote (b: StepBuilder, signer: ChannelSigner): void {
  const s = b.state
  const sp = spliceOf(s)
  const txid = sp.localLocked
  if (txid === undefined || txid !== sp.remoteLocked) return
  const c = sp.candidates.find(x => x.txid === txid)
  if (c === undefined) return
  const { local, remote } = commits(s)
  s.setup = {
    ...s.setup,
    capacitySat: c.capacitySat,
    funding: { txid: c.txid, outputIndex: c.outputIndex },
    local: { ...s.setup.local, fundingPubkey: c.fundingPubkey.local },
    remote: { ...s.setup.remote!, fundingPubkey: c.fundingPubkey.remote },
  }
  s.localCommit = {
    ...local, spec: candidateSpec(local.spec, c), signature: c.localSigs.signature, htlcSignatures: c.localSigs.htlcSignatures,
  }
  s.remoteCommit = { ...remote, spec: candidateSpec(remote.spec, c) }
  const next = s.nextRemoteCommit
  if (next !== undefined) {
    // The batch awaiting revocation: from now on (a retransmission) only the locked funding's message.
    const message = next.batch?.find(m => m.funding_txid === c.txid)
    if (message === undefined) throw new Error(`promote: no commitment_signed for ${c.txid} in the batch awaiting revocation`)
    const { batch: _dropped, ...rest } = next
    s.nextRemoteCommit = { ...rest, commit: { ...next.commit, spec: candidateSpec(next.commit.spec, c) }, message }
  }
  sp.candidates = []
  abandonForLock(b, txid)
  b.persist({ kind: 'splice_locked', txid })
  b.emit({ type: 'splice_locked', txid, capacitySat: c.capacitySat })
  maybeStartClosing(b, signer)
}
