// BOLT #2 "Message Retransmission": channel_reestablish. One pure decision function over our state
// and the peer's message, with a closed set of outcomes; then what each outcome does.
import type { ChannelReestablish, PeerMessage } from '../wire/index.ts'
import { channelError } from '../errors.ts'
import { FIRST_COMMITMENT_INDEX } from '../keys/index.ts'
import type { StepBuilder } from './effects.ts'
import { failChannel, onPeerError } from './failure.ts'
import type { ChannelSigner } from './signer.ts'
import { ZERO_SECRET, type ChannelState } from './state.ts'
import { revokeMessage } from './commit.ts'
import { updateToWire, flushHolding } from './updates.ts'
import { channelReadyMessage } from './open.ts'
import { maybeReplyShutdown, maybeStartClosing, shutdownMessage } from './close.ts'
import { isOperating } from './phase.ts'
import { commitmentMessages } from './splice/batch.ts'
import {
  applyFundingLocked, lockAnnouncement, nextFundingMessages, noteReestablishSent, resumeSigning, spliceInReestablish,
  spliceReestablishFields,
} from './splice/reestablish.ts'

export type ReestablishOutcome =
  /** Both sides agree on every commitment and revocation; resend what the peer missed, in order. */
  | { kind: 'in_sync'; retransmit: PeerMessage[] }
  /** The peer proved (with our own per-commitment secret) that we revoked a state we do not have:
   *  our commitment may be revoked, so we must never broadcast it (data-loss protection). */
  | { kind: 'we_are_provably_behind'; theirCurrentPoint: string }
  /** The peer claims commitments we do not know, without proof: a claim we cannot check. */
  | { kind: 'we_may_be_behind'; detail: string }
  /** The peer's secret does not match what we revealed: it is lying or corrupt. */
  | { kind: 'peer_lying'; detail: string }
  /** The peer lost state (it is behind what it signed or revoked): our latest commitment is safe. */
  | { kind: 'peer_behind'; detail: string }

/** What we send on reconnection. */
export function reestablishMessage (s: ChannelState, signer: ChannelSigner): ChannelReestablish {
  const local = s.localCommit?.index ?? 0
  const remote = s.remoteCommit?.index ?? 0
  return {
    type: 'channel_reestablish',
    channel_id: s.channelId,
    // BOLT #2: "MUST set `next_commitment_number` to the commitment number of the next
    // `commitment_signed` it expects to receive."
    next_commitment_number: local + 1,
    // "MUST set `next_revocation_number` to the commitment number of the next `revoke_and_ack`
    // message it expects to receive."
    next_revocation_number: remote,
    // "if `next_revocation_number` equals 0: MUST set `your_last_per_commitment_secret` to all
    // zeroes; otherwise: MUST set `your_last_per_commitment_secret` to the last
    // `per_commitment_secret` it received"
    your_last_per_commitment_secret: remote === 0 ? ZERO_SECRET : s.lastRemoteSecret,
    my_current_per_commitment_point: signer.perCommitmentPoint(local),
    ...spliceReestablishFields(s),
  }
}

/** The decision. Pure: the same state and message always give the same outcome. */
export function decideReestablish (s: ChannelState, m: ChannelReestablish, signer: ChannelSigner): ReestablishOutcome {
  const L = s.localCommit?.index ?? 0
  const R = s.remoteCommit?.index ?? 0
  const next = s.nextRemoteCommit
  const nrn = m.next_revocation_number
  const ncn = m.next_commitment_number

  // ── Their view of our commitments (next_revocation_number + the secret proving it). ──
  // BOLT #2 (receiver): "if `next_revocation_number` is greater than expected above, AND
  // `your_last_per_commitment_secret` is correct for that `next_revocation_number` minus 1: MUST NOT
  // broadcast its commitment transaction. SHOULD send an `error` to request the peer to fail the
  // channel. otherwise: if `your_last_per_commitment_secret` does not match the expected values:
  // SHOULD send an `error` and fail the channel."
  if (nrn > L) {
    // BOLT #2: "A commitment number is a 48-bit incrementing counter": beyond that no secret exists.
    if (nrn - 1 > FIRST_COMMITMENT_INDEX) return {
      kind: 'peer_lying', detail: `next_revocation_number ${nrn} is not a 48-bit commitment number`,
    }
    if (signer.perCommitmentSecret(nrn - 1) === m.your_last_per_commitment_secret) {
      return { kind: 'we_are_provably_behind', theirCurrentPoint: m.my_current_per_commitment_point }
    }
    return { kind: 'peer_lying', detail: `next_revocation_number ${nrn} > ${L} without a valid secret` }
  }
  const expectedSecret = nrn === 0 ? ZERO_SECRET : signer.perCommitmentSecret(nrn - 1)
  if (m.your_last_per_commitment_secret !== expectedSecret) {
    return { kind: 'peer_lying', detail: `your_last_per_commitment_secret is not our secret ${nrn - 1}` }
  }
  // "if `next_revocation_number` is equal to the commitment number of the last `revoke_and_ack` the
  // receiving node sent ... MUST re-send the `revoke_and_ack`. otherwise: if `next_revocation_number`
  // is not equal to 1 greater than the commitment number of the last `revoke_and_ack` the receiving
  // node has sent: SHOULD send an `error` and fail the channel."
  // Our last revoke_and_ack revoked L-1; "its commitment number" in this sense is L-1.
  let resendRevoke = false
  if (L >= 1 && nrn === L - 1) resendRevoke = true
  else if (nrn !== L) return { kind: 'peer_behind', detail: `next_revocation_number ${nrn}, we revoked up to ${L - 1}` }

  // ── Their view of their own commitments (next_commitment_number). ──
  // "if `next_commitment_number` is equal to the commitment number of the last `commitment_signed`
  // message the receiving node has sent: MUST reuse the same commitment number for its next
  // `commitment_signed`. otherwise: if `next_commitment_number` is not equal to the commitment number
  // of the next `commitment_signed` that the receiving node would send: SHOULD send an `error` and
  // fail the channel."
  let resendCommit = false
  const expectedNcn = next !== undefined ? next.commit.index + 1 : R + 1
  if (next !== undefined && ncn === next.commit.index) resendCommit = true
  else if (ncn > expectedNcn) return { kind: 'we_may_be_behind', detail: `next_commitment_number ${ncn} > ${expectedNcn}` }
  else if (ncn < expectedNcn) return { kind: 'peer_behind', detail: `next_commitment_number ${ncn} < ${expectedNcn}` }

  const retransmit: PeerMessage[] = []
  // BOLT #2: "if `next_commitment_number` is 1 in both the `channel_reestablish` it sent and
  // received ...: MUST retransmit `channel_ready`."
  if (ncn === 1 && L === 0 && s.channelReady.sent && !spliceInReestablish(s, m)) retransmit.push(channelReadyMessage(s, signer))
  const commitMsgs = (): PeerMessage[] => next === undefined ? [] : [
    ...s.localChanges.signed.map(u => updateToWire(s, u)), ...commitmentMessages(s, next)
  ]
  if (resendRevoke && resendCommit) {
    // "MUST retransmit `revoke_and_ack` and `commitment_signed` in the same relative order as
    // initially transmitted." We signed after revoking iff our local index had already reached L.
    if (next!.sentAfterLocalIndex < L) retransmit.push(...commitMsgs(), revokeMessage(s, signer))
    else retransmit.push(revokeMessage(s, signer), ...commitMsgs())
  } else if (resendRevoke) retransmit.push(revokeMessage(s, signer))
  else if (resendCommit) retransmit.push(...commitMsgs())
  // "upon reconnection: if it has sent a previous `shutdown`: MUST retransmit `shutdown`."
  if (s.closing.localScript !== undefined) retransmit.push(shutdownMessage(s))
  return { kind: 'in_sync', retransmit }
}

/** Link came up: send our channel_reestablish and wait for theirs before anything else. */
export function onConnected (b: StepBuilder, signer: ChannelSigner): void {
  const s = b.state
  if (s.link !== 'down') return
  // BOLT #2: "if a channel is in an error state: SHOULD retransmit the error packet and ignore any
  // other packets for that channel."
  if (s.phase === 'failed' || s.phase === 'awaiting_remote_close') {
    s.link = 'up'
    b.send({ type: 'error', channel_id: s.channelId, data: `channel failed (${s.phase})` })
    return
  }
  // Before funding_signed/funding_created there is nothing to re-establish: the open starts over.
  // Nor after the close is resolved on-chain: there is no channel left to talk about.
  if (s.localCommit === undefined || s.phase === 'closed') return
  s.link = 'reestablishing'
  const msg = reestablishMessage(s, signer)
  noteReestablishSent(s, msg)
  b.send(msg)
}

export function receiveReestablish (b: StepBuilder, signer: ChannelSigner, m: ChannelReestablish): void {
  const s = b.state
  const outcome = decideReestablish(s, m, signer)
  switch (outcome.kind) {
    case 'in_sync': {
      s.link = 'up'
      // A splice the peer locked while we were apart is locked first: what we resend then signs only
      // the funding both now use (splice/reestablish.ts).
      const promoted = s.splice?.candidates.length ?? 0
      applyFundingLocked(b, signer, m)
      const again = (s.splice?.candidates.length ?? 0) !== promoted ? decideReestablish(s, m, signer) : outcome
      const retransmit = again.kind === 'in_sync' ? again.retransmit : outcome.retransmit
      const next = nextFundingMessages(b, m)
      if (next === undefined) return
      const first = [...lockAnnouncement(b), ...next]
      for (const msg of [...first, ...retransmit]) b.send(msg)
      b.emit({ type: 'reestablished', retransmitted: first.length + retransmit.length })
      resumeSigning(b, signer)
      if (isOperating(s.phase)) {
        flushHolding(b)
        maybeReplyShutdown(b)
        maybeStartClosing(b, signer)
      }
      return
    }
    case 'we_are_provably_behind': {
      // Data-loss protection: never broadcast our (possibly revoked) commitment; ask the peer to close.
      s.phase = 'awaiting_remote_close'
      s.link = 'up'
      b.persist({ kind: 'do_not_broadcast', theirCurrentPoint: outcome.theirCurrentPoint })
      const err = channelError('we_are_behind', 'your channel_reestablish proves we lost state: please close the channel')
      b.send({ type: 'error', channel_id: s.channelId, data: `${err.reason}: ${err.detail}` })
      b.emit({ type: 'channel_failed', error: err, broadcastOurCommitment: false })
      return
    }
    case 'we_may_be_behind':
      // The peer says we signed commitments for it that we do not know of, and proves nothing. Our
      // store says otherwise (persist before send: we never sign a commitment we have not stored), and
      // the check above shows our latest commitment unrevoked (a peer holding a later secret of ours
      // proves it with next_revocation_number). Believing the claim would hand the peer our money:
      // never broadcasting our commitment and waiting for the peer to close locks our side of the
      // channel for as long as the peer likes, and with an HTLC we offered in it, the peer lets the
      // upstream payment time out on-chain, then claims the HTLC from its own commitment with the
      // preimage while we can no longer time it out. So the claim changes nothing: a warning and a
      // disconnect. Our HTLC deadlines and our owner's force close keep working on our latest
      // commitment. (BOLT #2 asks for "an `error`" here only as a SHOULD.)
      return onPeerError(b, channelError('we_may_be_behind', outcome.detail))
    case 'peer_lying':
      return failChannel(b, channelError('peer_lying', outcome.detail))
    case 'peer_behind':
      return failChannel(b, channelError('peer_behind', outcome.detail))
  }
}
