// BOLT #2 "Batching channel messages" and commitment_signed with pending splices: "If there are `N`
// pending splice transactions (with `N` greater than `0`): MUST send `start_batch` first with
// `batch_size` set to `N + 1` and `message_type` set to `132` (`commitment_signed`). MUST send
// `commitment_signed` for the current channel funding output. MUST send `commitment_signed` for each
// of the splice transactions. MUST set `funding_txid` in each `commitment_signed` message to match the
// funding transaction spent by that commitment transaction."
//
// The receiver groups the batch and processes it as one commitment_signed: every pending funding must
// be signed, and one revoke_and_ack answers them all.
import { channelError, type ChannelError } from '../../errors.ts'
import { MAX_COMMITMENT_BATCH_SIZE } from '../../limits.ts'
import { COMMITMENT_SIGNED_MESSAGE_TYPE } from '../../wire/splice-messages.ts'
import type { CommitmentSigned, PeerMessage, StartBatch } from '../../wire/index.ts'
import type { MonitorUpdateBody, StepBuilder } from '../effects.ts'
import { onPeerError } from '../failure.ts'
import type { ChannelSigner } from '../signer.ts'
import type { ChannelState, CommitmentSpec, NextRemoteCommit } from '../state.ts'
import { receiveCommitmentSigned } from '../commit.ts'
import { checkCandidateSigs, receiveSpliceCommitSig } from './signing.ts'
import { dropDoubleSpent } from './double-spent.ts'
import { candidateSetup, candidateSpec, spliceOf, type FundingCandidate } from './state.ts'

/** Our commitment_signed for each pending candidate of the peer's commitment `number`. */
export function signCandidates (
  s: ChannelState, signer: ChannelSigner, number: number, perCommitmentPoint: string, spec: CommitmentSpec,
): CommitmentSigned[] {
  return (s.splice?.candidates ?? []).map(c => {
    const sigs = signer.signCommitment(
      candidateSetup(s.setup, c), { holder: 'remote', number, perCommitmentPoint, spec: candidateSpec(spec, c) },
    )
    return {
      type: 'commitment_signed', channel_id: s.channelId, signature: sigs.signature, htlc_signatures: sigs.htlcSignatures,
      funding_txid: c.txid,
    }
  })
}

/** What a signed commitment sends (and resends): the one commitment_signed, or the batch. */
export function commitmentMessages (s: ChannelState, next: Pick<NextRemoteCommit, 'message' | 'batch'>): PeerMessage[] {
  if (next.batch === undefined || next.batch.length === 0) return [next.message]
  return [
    { type: 'start_batch', channel_id: s.channelId, batch_size: 1 + next.batch.length, message_type: COMMITMENT_SIGNED_MESSAGE_TYPE },
    next.message,
    ...next.batch,
  ]
}

export function receiveStartBatch (b: StepBuilder, msg: StartBatch): void {
  const sp = spliceOf(b.state)
  if (sp.batch !== undefined) return onPeerError(b, channelError('commitment_batch_invalid', 'start_batch inside a batch'))
  // BOLT #2 (start_batch receiver): "If `message_type` is missing or not set to the type for
  // `commitment_signed`: MUST ignore the `start_batch` message and process the following messages
  // sequentially."
  if (msg.message_type !== COMMITMENT_SIGNED_MESSAGE_TYPE) return
  // "If `batch_size` is not strictly greater than 1: MUST ignore the `start_batch` message. SHOULD send
  // a `warning`."
  if (msg.batch_size <= 1) return onPeerError(b, channelError('commitment_batch_invalid', `start_batch of ${msg.batch_size}`, 'warn'))
  // "If `batch_size` is strictly greater than 20: MUST send a `warning` and close the connection".
  if (msg.batch_size > MAX_COMMITMENT_BATCH_SIZE) return onPeerError(
    b, channelError('commitment_batch_invalid', `batch_size ${msg.batch_size} > ${MAX_COMMITMENT_BATCH_SIZE}`),
  )
  sp.batch = { size: msg.batch_size, received: [] }
}

/** Every commitment_signed goes through here: the new funding's of a splice being signed, a member of
 *  a batch, or a plain one. */
export function onCommitmentSigned (b: StepBuilder, signer: ChannelSigner, msg: CommitmentSigned): void {
  const s = b.state
  const sp = s.splice
  const session = sp?.session
  // The commitment_signed of a splice we just aborted, crossing our tx_abort: stale, dropped.
  if (sp?.abortSent === true && msg.funding_txid !== undefined && msg.funding_txid !== s.setup.funding?.txid) return
  if (session?.stage === 'signing' && msg.funding_txid !== undefined && msg.funding_txid === session.signing?.candidate.txid &&
    sp?.batch === undefined) {
    return receiveSpliceCommitSig(b, signer, msg)
  }
  if (sp?.batch !== undefined) {
    // "MUST group the next `batch_size` messages and process them together."
    const batch = { ...sp.batch, received: [...sp.batch.received, msg] }
    if (batch.received.length < batch.size) { sp.batch = batch; return }
    delete sp.batch
    return receiveBatch(b, signer, batch.received)
  }
  // A lone commitment_signed from a peer that dropped every candidate as double-spent before us.
  if (sp !== undefined && sp.candidates.length > 0 && sp.candidates.every(c => c.spentElsewhere !== undefined)) {
    for (const c of sp.candidates) {
      dropDoubleSpent(b, c.txid, c.spentElsewhere!, 'the peer dropped it')
    }
  }
  // "If there are pending splice transactions and the sending node did not send `start_batch`
  // followed by a batch of `commitment_signed` messages: MUST send an `error` and fail the channel."
  if ((b.state.splice?.candidates.length ?? 0) > 0) return onPeerError(
    b, channelError('commitment_batch_missing', `a lone commitment_signed with ${b.state.splice!.candidates.length} splice(s) pending`),
  )
  receiveCommitmentSigned(b, signer, msg)
}

/** "If `funding_txid` is missing in one of the `commitment_signed` messages: MUST send an `error` and
 *  fail the channel. If there are pending splice transactions: MUST validate each `commitment_signed`
 *  based on `funding_txid`. If `commitment_signed` is missing for a funding transaction: MUST send an
 *  `error` and fail the channel. ... Otherwise (no pending splice transactions): MUST ignore
 *  `commitment_signed` where `funding_txid` does not match the current funding transaction." The
 *  pending fundings are read now, at the end of the batch: one that was locked while the batch came
 *  in counts as the current funding (bolt02/splicing-test.md "concurrent splice_locked"). */
function receiveBatch (b: StepBuilder, signer: ChannelSigner, msgs: CommitmentSigned[]): void {
  const s = b.state
  const byFunding = new Map<string, CommitmentSigned>()
  for (const m of msgs) {
    if (m.funding_txid === undefined) return onPeerError(
      b, channelError('commitment_batch_missing', 'a commitment_signed of the batch has no funding_txid'),
    )
    byFunding.set(m.funding_txid, m)
  }
  const current = s.setup.funding!.txid
  const main = byFunding.get(current)
  if (main === undefined) return onPeerError(
    b, channelError('commitment_batch_missing', `no commitment_signed for the current funding ${current}`),
  )
  // A candidate whose input our host saw spent elsewhere may be gone from the peer's batch: the peer
  // saw the spend final first and dropped it (splice/double-spent.ts). It can never confirm: dropped.
  for (const c of s.splice?.candidates ?? []) {
    if (!byFunding.has(c.txid) && c.spentElsewhere !== undefined) {
      dropDoubleSpent(b, c.txid, c.spentElsewhere, 'the peer dropped it')
    }
  }
  const missing = (s.splice?.candidates ?? []).find(c => !byFunding.has(c.txid))
  if (missing !== undefined) return onPeerError(
    b, channelError('commitment_batch_missing', `no commitment_signed for splice ${missing.txid}`),
  )
  receiveCommitmentSigned(b, signer, main, byFunding)
}

/** The peer's signatures on each candidate's version of our next commitment `number` (spec `spec` on
 *  the current funding): the candidates with their new signatures and the monitor updates, or the
 *  first bad one. */
export function checkCandidateCommitments (
  s: ChannelState, signer: ChannelSigner, number: number, perCommitmentPoint: string, spec: CommitmentSpec, byFunding: ReadonlyMap<string,
  CommitmentSigned> | undefined,
): { error: ChannelError } | { candidates: FundingCandidate[]; monitor: MonitorUpdateBody[] } {
  const candidates: FundingCandidate[] = []
  const monitor: MonitorUpdateBody[] = []
  for (const c of s.splice?.candidates ?? []) {
    const msg = byFunding?.get(c.txid)
    if (msg === undefined) return { error: channelError('commitment_batch_missing', `no commitment_signed for splice ${c.txid}`) }
    const bad = checkCandidateSigs(
      candidateSetup(s.setup, c), signer, { holder: 'local', number, perCommitmentPoint, spec: candidateSpec(spec, c) }, msg,
    )
    if (bad !== undefined) return { error: bad }
    const localSigs = { signature: msg.signature, htlcSignatures: [...msg.htlc_signatures] }
    candidates.push({ ...c, localSigs })
    monitor.push({ kind: 'splice_local_commitment', txid: c.txid, number, ...localSigs })
  }
  return { candidates, monitor }
}
