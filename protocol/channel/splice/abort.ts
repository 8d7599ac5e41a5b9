// BOLT #2 "The `tx_abort` Message": ending a splice negotiation without a transaction, ours or the
// peer's, and its echo. A sending node "MUST NOT have already transmitted `tx_signatures`"; a receiving
// node "if they have not sent `tx_signatures`: SHOULD forget the current negotiation and reset their
// state. if they have not sent `tx_abort`: MUST echo back `tx_abort`."
import { channelError, type ChannelError } from '../../errors.ts'
import { MAX_ERROR_TEXT_CHARS } from '../../limits.ts'
import type { TxAbort } from '../../wire/index.ts'
import type { StepBuilder } from '../effects.ts'
import { failChannel, onPeerError } from '../failure.ts'
import { endQuiescence } from './quiescence.ts'
import { spliceOf } from './state.ts'

/** tx_abort's `data`, within what the receiver's schema takes (as for `error`). */
const text = (err: ChannelError): string => `${err.reason}: ${err.detail}`.slice(0, MAX_ERROR_TEXT_CHARS)

/** We end the negotiation (a receiver rule "MUST fail the negotiation", our host's refusal, or a
 *  splice we can no longer make once quiescent). Nothing of it was signed by us: a stored candidate
 *  is dropped. After tx_signatures we may not abort: the peer could complete the transaction, so we
 *  disconnect instead and resume on reconnection. Quiescence ends when the peer echoes tx_abort. */
export function abortNegotiation (b: StepBuilder, err: ChannelError): void {
  const s = b.state
  const sp = spliceOf(s)
  const session = sp.session
  if (session?.signing?.candidate.txSignatures !== undefined) return onPeerError(b, { ...err, action: 'disconnect' })
  if (session?.stage === 'signing') b.persist({ kind: 'splice_dropped', txid: session.signing!.candidate.txid })
  delete sp.session
  delete sp.request
  sp.quiescence.wanted = false
  if (s.link === 'up') {
    b.send({ type: 'tx_abort', channel_id: s.channelId, data: text(err) })
    sp.abortSent = true
  }
  b.emit({ type: 'splice_aborted', reason: text(err), byPeer: false })
}

/** A splice locked while an RBF of it is being negotiated or signed: BOLT #2 tx_init_rbf rationale,
 *  "If the previous transaction confirms in the middle of an RBF attempt, the attempt MUST be
 *  abandoned." Its transaction double-spends the locked one and can never confirm, so it is dropped
 *  even after tx_signatures. The peer, which receives our splice_locked first, abandons it too; our
 *  tx_abort then crosses its own, each taken as the other's echo. */
export function abandonForLock (b: StepBuilder, lockedTxid: string): void {
  const s = b.state
  const sp = spliceOf(s)
  const session = sp.session
  const request = sp.request
  if (session === undefined && request === undefined) return
  const reason = `splice_rejected: ${lockedTxid} is locked`
  if (session === undefined) {
    // An RBF asked for but not started: once our stfu is out, quiescence must still end — the
    // cancelled request does it with tx_abort when reached (initiate.ts startRequest).
    if (sp.quiescence.sent) { sp.request = { ...request!, cancelled: reason }; return }
    delete sp.request
    sp.quiescence.wanted = false
    b.emit({ type: 'splice_aborted', reason, byPeer: false })
    return
  }
  if (session.stage === 'signing') b.persist({ kind: 'splice_dropped', txid: session.signing!.candidate.txid })
  delete sp.session
  delete sp.request
  sp.quiescence.wanted = false
  if (s.link === 'up' && sp.abortSent !== true) {
    b.send({ type: 'tx_abort', channel_id: s.channelId, data: reason })
    sp.abortSent = true
  }
  b.emit({ type: 'splice_aborted', reason, byPeer: false })
}

export function receiveTxAbort (b: StepBuilder, msg: TxAbort): void {
  const s = b.state
  const sp = spliceOf(s)
  // Our own tx_abort, echoed: the negotiation is over on both sides.
  if (sp.abortSent === true) return endQuiescence(b)
  const session = sp.session
  if (session?.signing?.candidate.txSignatures !== undefined) {
    // We sent tx_signatures: the peer holds every signature it needs to complete and broadcast the
    // splice ("MUST NOT forget the channel until any inputs to the negotiated tx have been spent").
    // Going on without the candidate would revoke the commitment we hold for it; keeping it needs
    // signatures the peer no longer sends. The channel closes: our monitor holds the commitment of
    // the old funding and the candidate's, whichever output stays unspent.
    return failChannel(
      b,
      channelError('splice_aborted_after_signing', `tx_abort after our tx_signatures for ${session.signing!.candidate.txid}: ${msg.data}`),
    )
  }
  if (session?.stage === 'signing') b.persist({ kind: 'splice_dropped', txid: session.signing!.candidate.txid })
  const had = session !== undefined || sp.request !== undefined
  delete sp.session
  delete sp.request
  b.send({ type: 'tx_abort', channel_id: s.channelId, data: '' })
  endQuiescence(b)
  // BOLT #2: "if `data` is not composed solely of printable ASCII characters ...: SHOULD NOT print out
  // `data` verbatim" — the wire schema refused control characters; the host logs it as text.
  if (had) b.emit({ type: 'splice_aborted', reason: msg.data, byPeer: true })
}
