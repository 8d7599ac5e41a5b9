// BOLT #2 "Channel Quiescence": stfu from either side, the updates it holds back, and its end.
//
// "The normal use would be to cease sending updates, then wait for all the current updates to be
// acknowledged by both peers, then start quiescence." Our host asks for quiescence by asking to
// splice (splice/initiate.ts); from then on no new HTLC of ours is offered, and our stfu leaves once
// none of our own updates is pending (afterStep, run at the end of every step). A peer's stfu is
// answered the same way. While quiescent only the splice negotiation runs; it ends quiescence when
// tx_signatures or tx_abort have been exchanged (BOLT #2 "Dependent Protocols: MUST specify all states
// that terminate quiescence"), and so does a disconnection ("Upon disconnection: the channel is no
// longer considered quiescent").
import { channelError } from '../../errors.ts'
import type { Stfu } from '../../wire/index.ts'
import type { StepBuilder } from '../effects.ts'
import { onCommandError, onPeerError } from '../failure.ts'
import type { Quiescence } from '../phase.ts'
import type { ChannelState } from '../state.ts'
import { flushHolding } from '../updates.ts'
import { startRequest } from './initiate.ts'
import { abortNegotiation } from './abort.ts'
import { spliceOf } from './state.ts'

export function quiescence (s: ChannelState): Quiescence {
  const sp = s.splice
  if (sp === undefined) return 'none'
  const q = sp.quiescence
  if (q.sent && q.received) return 'quiescent'
  if (q.sent || q.received) return 'quiescing'
  if (sp.session?.stage === 'signing') return 'signing'
  if (q.wanted) return 'requested'
  return 'none'
}

/** May we offer a new HTLC? Not once our host asked for quiescence: our stfu waits for our updates. */
export const mayAddHtlc = (s: ChannelState): boolean => quiescence(s) === 'none'

/** May our fulfill, fail or fee update leave now? BOLT #2 (stfu, sender): "MUST NOT send an update
 *  message after `stfu`"; (receiver) "SHOULD NOT send any more update messages". Held otherwise, and
 *  sent when quiescence ends. */
export function mayProposeUpdate (s: ChannelState): boolean {
  const q = quiescence(s)
  return q === 'none' || q === 'requested'
}

/** May the peer send an update now? Not after its own stfu, nor while a splice's signatures are
 *  exchanged after a reconnection. */
export function peerMayUpdate (s: ChannelState): boolean {
  const sp = s.splice
  return sp === undefined || (!sp.quiescence.received && sp.session?.stage !== 'signing')
}

/** BOLT #2 (stfu, sender): "MUST NOT send `stfu` if any of the sender's htlc additions, htlc removals
 *  or fee updates are pending for either peer." Ours are settled once both commitments hold them and
 *  both previous commitments are revoked. */
export function ourUpdatesSettled (s: ChannelState): boolean {
  return s.localChanges.proposed.length === 0 && s.localChanges.signed.length === 0 && s.localChanges.acked.length === 0
}
export function theirUpdatesSettled (s: ChannelState): boolean {
  return s.remoteChanges.proposed.length === 0 && s.remoteChanges.acked.length === 0 && s.remoteChanges.signed.length === 0
}

function start (b: StepBuilder): void {
  const sp = spliceOf(b.state)
  sp.quiescenceSeq++
  b.emit({ type: 'quiescence_started', seq: sp.quiescenceSeq })
}

function sendStfu (b: StepBuilder): void {
  const s = b.state
  const q = spliceOf(s).quiescence
  q.sent = true
  // "if it is replying to an `stfu`: MUST set `initiator` to 0; otherwise: MUST set `initiator` to 1".
  b.send({ type: 'stfu', channel_id: s.channelId, initiator: !q.received })
  if (q.received) q.initiator = 'remote'
  else start(b)
}

export function receiveStfu (b: StepBuilder, msg: Stfu): void {
  const s = b.state
  const violation = (detail: string): void => onPeerError(b, channelError('quiescence_violation', detail))
  if (s.phase !== 'normal') return onPeerError(b, channelError('unexpected_message', `stfu in phase ${s.phase}`))
  const sp = spliceOf(s)
  const q = sp.quiescence
  // "MUST NOT send `stfu` twice."
  if (q.received) return violation('a second stfu')
  if (sp.session?.stage === 'signing') return violation('stfu while the last splice is still being signed')
  if (!theirUpdatesSettled(s)) return violation('stfu with the sender\'s own updates pending')
  if (!msg.initiator && !q.sent) return violation('stfu with initiator 0 answers no stfu of ours')
  q.received = true
  if (!q.sent) { start(b); return }
  // Both sent. Rationale: "If both sides send `stfu` simultaneously, they will both set `initiator` to
  // `1`, in which case the "initiator" is arbitrarily considered to be the channel funder".
  q.initiator = msg.initiator ? (s.setup.isFunder ? 'local' : 'remote') : 'local'
}

/** Run at the end of every step: our stfu leaves once it may ("MUST reply with `stfu` once it can do
 *  so"); a quiescent channel we initiated starts what our host asked for. */
export function afterStep (b: StepBuilder): void {
  const s = b.state
  const sp = s.splice
  if (sp === undefined || s.link !== 'up' || s.phase !== 'normal') return
  const q = sp.quiescence
  if (!q.sent && (q.wanted || q.received) && ourUpdatesSettled(s)) sendStfu(b)
  if (!(q.sent && q.received) || sp.session !== undefined || sp.abortSent === true) return
  // Quiescent on our initiative with nothing left to do (what we asked for went away on the way):
  // only we may send splice_init, so we end it, with tx_abort.
  if (sp.request === undefined) {
    if (q.initiator === 'local') abortNegotiation(b, channelError('splice_cancelled', 'nothing to splice any more'))
    return
  }
  if (q.initiator === 'local') return startRequest(b)
  // "MUST NOT send `splice_init` if it is not the quiescence initiator": the peer asked first; it
  // starts its own splice and ours is refused (the host may ask again afterwards).
  const kind = sp.request.kind
  sp.request = undefined
  q.wanted = false
  onCommandError(
    b, kind === 'rbf' ? 'splice_rbf' : 'splice',
    channelError('channel_quiescent', 'the peer became the quiescence initiator first', 'ignore'),
  )
}

/** The splice (or its abort) ended quiescence: updates flow again, starting with what waited. */
export function endQuiescence (b: StepBuilder): void {
  const s = b.state
  const sp = spliceOf(s)
  sp.quiescence = { wanted: sp.request !== undefined, sent: false, received: false }
  sp.abortSent = false
  if (s.link === 'up' && (s.phase === 'normal' || s.phase === 'shutting_down')) flushHolding(b)
}

/** The host's timer (QUIESCENCE_TIMEOUT_SECONDS) fired for quiescence period `seq`. BOLT #2: "MUST
 *  disconnect after 60 seconds of quiescence if the HTLCs are pending." */
export function quiescenceTimeout (b: StepBuilder, seq: number): void {
  const s = b.state
  const sp = s.splice
  if (sp === undefined || sp.quiescenceSeq !== seq || s.link === 'down') return
  const q = quiescence(s)
  if (q !== 'quiescing' && q !== 'quiescent' && q !== 'signing') return
  onPeerError(b, channelError('quiescence_timeout', `quiescence ${seq} did not end in time (${q})`))
}

/** The link went down: quiescence ends; a splice not yet signed is forgotten (nothing of it was
 *  stored); one being signed stays, to be finished after channel_reestablish (splice/reestablish.ts). */
export function spliceLinkDown (b: StepBuilder): void {
  const sp = b.state.splice
  if (sp === undefined) return
  sp.quiescence = { wanted: false, sent: false, received: false }
  sp.abortSent = false
  delete sp.batch
  const lost = sp.session !== undefined && sp.session.stage !== 'signing'
  if (lost) delete sp.session
  if (lost || sp.request !== undefined) b.emit({
    type: 'splice_aborted', reason: 'disconnected before the splice was signed', byPeer: false,
  })
  delete sp.request
}
