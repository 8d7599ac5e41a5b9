// channel_reestablish with a splice in flight (BOLT #2 "Message Retransmission": the `next_funding`
// and `my_current_funding_locked` TLVs). A splice not yet signed was forgotten with the link
// (quiescence.ts spliceLinkDown); one being signed resumes here; a lost splice_locked is replaced by
// my_current_funding_locked, "handled atomically during `channel_reestablish`".
import { channelError } from '../../errors.ts'
import type { ChannelReestablish, PeerMessage } from '../../wire/index.ts'
import type { StepBuilder } from '../effects.ts'
import { failChannel } from '../failure.ts'
import type { ChannelSigner } from '../signer.ts'
import type { ChannelState } from '../state.ts'
import { buildTx, signedInputs } from '../../interactive-tx/index.ts'
import { txHex } from '../../tx/serialize.ts'
import type { Sat } from '../../types.ts'
import { lockedByPeer, spliceLockedMessage } from './locked.ts'
import { maybeSendTxSignatures } from './signing.ts'
import { spliceOf } from './state.ts'

/** Bit 0 of `next_funding.retransmit_flags`: resend `commitment_signed`. */
export const RETRANSMIT_COMMITMENT_SIGNED = 1

/** Our channel_reestablish TLVs. */
export function spliceReestablishFields (s: ChannelState): Pick<ChannelReestablish, 'next_funding' | 'my_current_funding_locked'> {
  const out: Pick<ChannelReestablish, 'next_funding' | 'my_current_funding_locked'> = {}
  const session = s.splice?.session
  const sg = session?.stage === 'signing' ? session.signing : undefined
  // BOLT #2: "if it has sent `commitment_signed` for an interactive transaction construction but it
  // has not received `tx_signatures`: MUST include the `next_funding` TLV. MUST set
  // `next_funding_txid` to the txid of that interactive transaction. if it has not received
  // `commitment_signed` for this `next_funding_txid`: MUST set the `commitment_signed` bit in
  // `retransmit_flags`."
  if (sg !== undefined && sg.received === undefined) {
    out.next_funding = {
      next_funding_txid: sg.candidate.txid, retransmit_flags: sg.candidate.localSigs === undefined ? RETRANSMIT_COMMITMENT_SIGNED : 0,
    }
  }
  // "if a splice transaction reached acceptable depth while disconnected: MUST include
  // `my_current_funding_locked` with the txid of the latest such transaction. otherwise, if it has
  // already sent `splice_locked` for any transaction: [its txid]. otherwise, if it has already sent
  // `channel_ready`: MUST include `my_current_funding_locked` with the txid of the channel funding
  // transaction." The announcement_signatures bit stays 0: our channels are not announced.
  const locked = s.splice?.localLocked ?? (s.channelReady.sent ? s.setup.funding?.txid : undefined)
  if (locked !== undefined) out.my_current_funding_locked = { my_current_funding_locked_txid: locked, retransmit_flags: 0 }
  return out
}

/** Whether either side's channel_reestablish names a splice: then channel_ready is not retransmitted
 *  (BOLT #2: "if `next_commitment_number` is 1 in both ... and none of those `channel_reestablish`
 *  messages contain `my_current_funding_locked` or `next_funding` for a splice transaction"). */
export function spliceInReestablish (s: ChannelState, m: ChannelReestablish): boolean {
  const sp = s.splice
  const ours = sp !== undefined && (sp.candidates.length > 0 || sp.session?.stage === 'signing' || sp.localLocked !== undefined)
  const theirLocked = m.my_current_funding_locked?.my_current_funding_locked_txid
  return ours || m.next_funding !== undefined || (theirLocked !== undefined && theirLocked !== s.setup.funding?.txid)
}

/** "A receiving node: if splice transactions are pending and `my_current_funding_locked` matches one of
 *  those splice transactions, for which it hasn't received `splice_locked` yet: MUST process
 *  `my_current_funding_locked` as if it was receiving `splice_locked` for this `txid`." Done before
 *  anything is retransmitted: a commitment_signed resent after it is for the locked funding only. */
export function applyFundingLocked (b: StepBuilder, signer: ChannelSigner, m: ChannelReestablish): void {
  const txid = m.my_current_funding_locked?.my_current_funding_locked_txid
  const sp = b.state.splice
  if (txid === undefined || sp === undefined || sp.remoteLocked === txid) return
  // The splice we are still signing (our next_funding names it): the peer completed it, and it reached
  // the peer's depth while we were apart. Its tx_signatures follow this message; the lock is the
  // peer's splice_locked for it, kept until we complete it too (it is never sent again).
  if (sp.session?.stage === 'signing' && sp.session.signing?.candidate.txid === txid) {
    sp.remoteLocked = txid
    b.persist()
    return
  }
  if (!sp.candidates.some(c => c.txid === txid)) return
  lockedByPeer(b, signer, txid, 'my_current_funding_locked')
}

/** The splice messages to send first, by the peer's `next_funding`; `undefined` when the channel
 *  failed instead. */
export function nextFundingMessages (b: StepBuilder, m: ChannelReestablish): PeerMessage[] | undefined {
  const s = b.state
  const sp = s.splice
  const nf = m.next_funding
  if (nf === undefined) return []
  const session = sp?.session
  const sg = session?.stage === 'signing' ? session.signing : undefined
  // "if `next_funding_txid` matches the latest interactive funding transaction:"
  if (sg !== undefined && sg.candidate.txid === nf.next_funding_txid) {
    const out: PeerMessage[] = []
    // "if it has not received `tx_signatures` for that funding transaction: if the `commitment_signed`
    // bit is set in `retransmit_flags`: MUST retransmit its `commitment_signed` for that funding
    // transaction. if it has already received `commitment_signed` and it should sign first ...: MUST
    // send its `tx_signatures`" (ours leave after, from maybeSendTxSignatures, or here if sent before).
    // A batched settlement's commitment_signed still held (docs/DESIGN.md "Batched settlement") was
    // never sent: it leaves only at splice_batch_release, once every session of the batch is complete.
    if ((nf.retransmit_flags & RETRANSMIT_COMMITMENT_SIGNED) !== 0 && sg.held !== true) out.push(sg.commitSig)
    if (sg.candidate.txSignatures !== undefined) out.push(sg.candidate.txSignatures)
    return out
  }
  // "if it has already received `tx_signatures` for that funding transaction: MUST send its
  // `tx_signatures` for that funding transaction."
  const done = sp?.candidates.find(c => c.txid === nf.next_funding_txid)
  if (done?.txSignatures !== undefined) return [done.txSignatures]
  // "if it also sets `next_funding` in its own `channel_reestablish`, but the values don't match: MUST
  // send an `error` and fail the channel."
  if (sg !== undefined && sg.received === undefined) {
    failChannel(b, channelError('peer_lying', `next_funding ${nf.next_funding_txid}, ours is ${sg.candidate.txid}`), 'now')
    return undefined
  }
  // "otherwise: MUST send `tx_abort` to let the sending node know that they can forget this funding
  // transaction." Its echo ends nothing on our side.
  spliceOf(s).abortSent = true
  return [{ type: 'tx_abort', channel_id: s.channelId, data: `unknown splice ${nf.next_funding_txid}` }]
}

/** Our channel_reestablish is leaving: what it says we locked is what the peer will know. */
export function noteReestablishSent (s: ChannelState, msg: ChannelReestablish): void {
  const txid = msg.my_current_funding_locked?.my_current_funding_locked_txid
  if (s.splice !== undefined && txid !== undefined) s.splice.lockedSent = txid
}

/** A splice that reached its depth after our channel_reestablish left (while the peer's was on its
 *  way) is announced first thing after the reestablish, before anything is resent: the peer must
 *  know of the lock before a commitment_signed that no longer signs the old funding. */
export function lockAnnouncement (b: StepBuilder): PeerMessage[] {
  const s = b.state
  const sp = s.splice
  const locked = sp?.localLocked
  if (sp === undefined || locked === undefined || locked === sp.lockedSent) return []
  sp.lockedSent = locked
  return [spliceLockedMessage(s.channelId, locked)]
}

/** After the retransmissions: a splice still being signed goes on (our tx_signatures if it is our
 *  turn; our host is asked again for witnesses it may have lost in a restart). */
export function resumeSigning (b: StepBuilder, signer: ChannelSigner): void {
  const s = b.state
  const sp = s.splice
  const session = sp?.session
  if (session?.stage !== 'signing' || session.signing === undefined) return
  sp!.quiescenceSeq++
  b.emit({ type: 'quiescence_started', seq: sp!.quiescenceSeq })
  if (session.signing.witnesses === undefined) {
    const built = buildTx(session.negotiation!)
    const ours = signedInputs(session.negotiation!, 'local')
    b.emit({ type: 'splice_sign_inputs', txid: built.txid, tx: txHex(built.tx), inputs: ours.map(({ index, input }) => ({
      index, txid: input.txid, vout: input.vout, valueSat: input.valueSat as Sat, script: input.script,
    })) })
  }
  maybeSendTxSignatures(b, signer)
}
