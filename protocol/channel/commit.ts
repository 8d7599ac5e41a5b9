// The commitment dance (BOLT #2 commitment_signed / revoke_and_ack). Each step here makes exactly one
// durable write, and the message it produces is held until that write is acknowledged:
//   sign                    persist {remote_commitment}  → send commitment_signed
//   recv commitment_signed  persist {local_commitment}   → send revoke_and_ack
//   recv revoke_and_ack     persist {revocation}         → emit what became irrevocable
import { channelError } from '../errors.ts'
import type { CommitmentSigned, RevokeAndAck } from '../wire/index.ts'
import type { StepBuilder } from './effects.ts'
import { onCommandError, onPeerError } from './failure.ts'
import { untrimmedHtlcs } from './fees.ts'
import { isOperating } from './phase.ts'
import { checkCommitmentHasUpdates, checkCommitmentSignatures, checkRevocation } from './rules/commitment.ts'
import type { ChannelSigner } from './signer.ts'
import { commits, type ChannelState, type Update } from './state.ts'
import { nextLocalSpec, nextRemoteSpec, proposeUpdate } from './updates.ts'
import { maybeStartClosing } from './close.ts'
import { checkCandidateCommitments, commitmentMessages, signCandidates } from './splice/batch.ts'

/** Is there anything to sign, and may we sign now (one unrevoked commitment at a time)? */
export function needsSignature (s: ChannelState): boolean {
  return isOperating(s.phase) && s.link === 'up' && s.nextRemoteCommit === undefined &&
    (s.localChanges.proposed.length > 0 || s.remoteChanges.acked.length > 0)
}

/** Local command: sign the peer's next commitment with every update so far. */
export function signCommitment (b: StepBuilder, signer: ChannelSigner): void {
  const s = b.state
  if (!isOperating(s.phase) || s.link !== 'up') return onCommandError(
    b, 'sign', channelError('unexpected_message', `cannot sign in phase ${s.phase} / link ${s.link}`, 'ignore'),
  )
  if (s.nextRemoteCommit !== undefined) return onCommandError(
    b, 'sign', channelError('unexpected_message', 'waiting for revoke_and_ack', 'ignore'),
  )
  // BOLT #2 (commitment_signed, sender): "MUST NOT send a `commitment_signed` message that does not
  // include any updates."
  if (!needsSignature(s)) return onCommandError(b, 'sign', channelError('empty_commitment', 'nothing to sign', 'ignore'))
  const c = commits(s)
  const spec = nextRemoteSpec(s)
  const number = c.remote.index + 1
  const ref = { holder: 'remote' as const, number, perCommitmentPoint: c.remoteNextPoint, spec }
  // BOLT #2: "MUST include one `htlc_signature` for every HTLC transaction corresponding to the
  // ordering of the commitment transaction" — the signer builds the transaction and knows its order.
  const sigs = signer.signCommitment(s.setup, ref)
  // BOLT #2: "MUST set `funding_txid` to the funding transaction spent by this commitment transaction."
  const message: CommitmentSigned = {
    type: 'commitment_signed', channel_id: s.channelId, signature: sigs.signature, htlc_signatures: sigs.htlcSignatures,
    funding_txid: s.setup.funding!.txid,
  }
  // With splices pending, the same commitment on each candidate's funding, in one batch (splice/batch.ts).
  const batch = signCandidates(s, signer, number, c.remoteNextPoint, spec)
  b.persist({ kind: 'remote_commitment', number, perCommitmentPoint: c.remoteNextPoint, spec })
  s.nextRemoteCommit = {
    commit: { index: number, spec, perCommitmentPoint: c.remoteNextPoint }, sentAfterLocalIndex: c.local.index, message,
    ...(batch.length > 0 ? { batch } : {}), writeId: s.writes.issued,
  }
  s.localChanges.signed = s.localChanges.proposed
  s.localChanges.proposed = []
  s.remoteChanges.signed = s.remoteChanges.acked
  s.remoteChanges.acked = []
  for (const m of commitmentMessages(s, s.nextRemoteCommit)) b.send(m)
}

/** The peer's commitment_signed for our next commitment; `batch` (by funding txid) holds the same
 *  commitment signed on each pending splice's funding (splice/batch.ts). */
export function receiveCommitmentSigned (
  b: StepBuilder, signer: ChannelSigner, msg: CommitmentSigned, batch?: ReadonlyMap<string, CommitmentSigned>,
): void {
  const s = b.state
  const empty = checkCommitmentHasUpdates(s)
  if (empty !== undefined) return onPeerError(b, empty)
  const c = commits(s)
  const spec = nextLocalSpec(s)
  const number = c.local.index + 1
  const ref = { holder: 'local' as const, number, perCommitmentPoint: signer.perCommitmentPoint(number), spec }
  const untrimmed = untrimmedHtlcs(s.setup.channelType, spec, 'local', s.setup.local.dustLimitSat).length
  const bad = checkCommitmentSignatures(s, signer, ref, untrimmed, msg.signature, msg.htlc_signatures)
  if (bad !== undefined) return onPeerError(b, bad)
  const cands = checkCandidateCommitments(s, signer, number, ref.perCommitmentPoint, spec, batch)
  if ('error' in cands) return onPeerError(b, cands.error)
  if (s.splice !== undefined && cands.candidates.length > 0) s.splice.candidates = cands.candidates
  const settled = s.localChanges.acked
  s.localCommit = { index: number, spec, signature: msg.signature, htlcSignatures: [...msg.htlc_signatures] }
  s.remoteChanges.acked = [...s.remoteChanges.acked, ...s.remoteChanges.proposed]
  s.remoteChanges.proposed = []
  s.localChanges.acked = []
  // BOLT #2 (revoke_and_ack, sender): "MUST set `per_commitment_secret` to the secret used to generate
  // keys for the previous commitment transaction. MUST set `next_per_commitment_point` to the values
  // for its next commitment transaction."
  b.persist({
    kind: 'local_commitment', number, perCommitmentPoint: ref.perCommitmentPoint, spec, signature: msg.signature,
    htlcSignatures: [...msg.htlc_signatures],
  }, ...cands.monitor)
  b.send(revokeMessage(s, signer))
  // Our removals just became irrevocable: they are in both latest commitments, both predecessors revoked.
  emitSettled(b, settled)
  maybeStartClosing(b, signer)
}

/** The revoke_and_ack for our current local commitment (also what reestablish retransmits). */
export function revokeMessage (s: ChannelState, signer: ChannelSigner): RevokeAndAck {
  const n = commits(s).local.index
  return {
    type: 'revoke_and_ack', channel_id: s.channelId, per_commitment_secret: signer.perCommitmentSecret(n - 1),
    next_per_commitment_point: signer.perCommitmentPoint(n + 1),
  }
}

function emitSettled (b: StepBuilder, ours: readonly Update[]): void {
  for (const u of ours) {
    if (u.kind === 'fulfill' || u.kind === 'fail') b.emit({ type: 'htlc_settled', id: u.id, fulfilled: u.kind === 'fulfill' })
  }
}

export function receiveRevokeAndAck (b: StepBuilder, signer: ChannelSigner, msg: RevokeAndAck): void {
  const s = b.state
  const bad = checkRevocation(s, signer, msg.per_commitment_secret, msg.next_per_commitment_point)
  if (bad !== undefined) return onPeerError(b, bad)
  const next = s.nextRemoteCommit!
  const revoked = commits(s).remote.index
  // The commitment being revoked still holds our HTLCs that the peer's committed fails now remove.
  const before = commits(s).remote.spec
  s.remoteCommit = next.commit
  s.nextRemoteCommit = undefined
  s.remoteNextPoint = msg.next_per_commitment_point
  s.lastRemoteSecret = msg.per_commitment_secret
  s.localChanges.acked = [...s.localChanges.acked, ...s.localChanges.signed]
  s.localChanges.signed = []
  const committed = s.remoteChanges.signed
  s.remoteChanges.signed = []
  b.persist({ kind: 'revocation', number: revoked, secret: msg.per_commitment_secret })
  // The peer's updates in `committed` are now irrevocably committed on both sides (BOLT #2
  // "Forwarding HTLCs"): only now may the host forward an HTLC or fail one upstream.
  for (const u of committed) {
    if (u.kind === 'add') {
      const refuse = s.autoFail.find(a => a.id === u.htlc.id)
      if (refuse !== undefined) {
        s.autoFail = s.autoFail.filter(a => a !== refuse)
        b.emit({ type: 'htlc_auto_failed', id: u.htlc.id, reason: refuse.reason })
        proposeUpdate(b, { kind: 'fail', id: u.htlc.id, reason: refuse.reason })
      } else {
        b.emit({ type: 'htlc_received', htlc: u.htlc })
      }
    } else if (u.kind === 'fail') {
      const h = before.htlcs.find(x => x.offerer === 'local' && x.id === u.id)
      b.emit({
        type: 'htlc_failed', id: u.id, paymentHash: h?.paymentHash ?? '', reason: u.reason,
        ...(u.detail !== undefined ? { detail: u.detail } : {})
      })
    }
  }
  maybeStartClosing(b, signer)
}
