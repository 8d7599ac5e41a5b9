// Signing a negotiated splice (BOLT #2 "Splice Transaction Construction": commitment_signed and
// tx_signatures). Each side first signs the other's commitment on the new funding (construct.ts);
// once it holds the peer's signature on its own, it may give its signatures of the splice
// transaction — the first signer at once, the second when the first's arrive. Both tx_signatures
// exchanged, the candidate joins the channel's pending fundings, quiescence ends and the transaction
// is broadcast.
//
// Durable writes:
//   recv commitment_signed (the new funding's)   1  splice_local_commitment → tx_signatures if we sign first
//   our tx_signatures leaves (first signer)       1  the message, stored before it leaves: once sent we
//                                                    may never forget the splice (tx_abort rationale)
//   both exchanged                                1  splice_signed (the complete transaction) → broadcast_splice
import { compareBytes } from '../../crypto/hash.ts'
import { channelError, type ChannelError } from '../../errors.ts'
import { buildTx, checkWitnesses, signedInputs, withWitnesses } from '../../interactive-tx/index.ts'
import { fundingWitnessScript } from '../../tx/script.ts'
import { SIGHASH_ALL, txHex } from '../../tx/serialize.ts'
import { witnessSig } from '../../tx/sign.ts'
import { hexToBytes, type Txid } from '../../types.ts'
import type { CommitmentSigned, TxSignatures } from '../../wire/index.ts'
import type { StepBuilder } from '../effects.ts'
import { untrimmedHtlcs } from '../fees.ts'
import { onCommandError, onPeerError } from '../failure.ts'
import type { ChannelSigner, CommitmentRef } from '../signer.ts'
import { commits, type ChannelSetup } from '../state.ts'
import { abortNegotiation } from './abort.ts'
import { endQuiescence } from './quiescence.ts'
import { candidateSetup, candidateSpec, spliceOf, type FundingCandidate, type SpliceSession } from './state.ts'

/** The peer's signatures on our commitment `ref` against `setup` (a candidate's): BOLT #2
 *  commitment_signed receiver rules, as rules/commitment.ts for the current funding. */
export function checkCandidateSigs (
  setup: ChannelSetup, signer: ChannelSigner, ref: CommitmentRef, msg: Pick<CommitmentSigned, 'signature' | 'htlc_signatures'>,
): ChannelError | undefined {
  const untrimmed = untrimmedHtlcs(setup.channelType, ref.spec, 'local', setup.local.dustLimitSat).length
  if (msg.htlc_signatures.length !== untrimmed) return channelError(
    'wrong_htlc_signature_count',
    `num_htlcs ${msg.htlc_signatures.length} ≠ ${untrimmed} HTLC outputs in commitment ${ref.number} on ${setup.funding?.txid}`,
  )
  const r = signer.checkCommitment(setup, ref, msg.signature, msg.htlc_signatures)
  if (r !== 'ok') return channelError(
    r === 'bad_signature' ? 'bad_signature' : 'wrong_htlc_signature_count',
    `invalid signature for commitment ${ref.number} on ${setup.funding?.txid}`,
  )
  return undefined
}

const signingSession = (b: StepBuilder): SpliceSession & { signing: NonNullable<SpliceSession['signing']> } | undefined => {
  const session = b.state.splice?.session
  return session?.stage === 'signing' && session.signing !== undefined ? session as never : undefined
}

/** The peer's commitment_signed for the new funding (BOLT #2: the receiving node "MUST NOT respond
 *  with `revoke_and_ack`"; "If it should sign first ...: MUST send `tx_signatures`"). */
export function receiveSpliceCommitSig (b: StepBuilder, signer: ChannelSigner, msg: CommitmentSigned): void {
  const s = b.state
  const session = signingSession(b)!
  const sg = session.signing
  const cand = sg.candidate
  if (cand.localSigs !== undefined) {
    // A retransmission after a reconnection we did not ask for: the same signatures change nothing.
    if (cand.localSigs.signature === msg.signature) return
    return onPeerError(b, channelError('unexpected_message', `a second commitment_signed for splice ${cand.txid}`))
  }
  const c = commits(s)
  const ref = {
    holder: 'local' as const, number: c.local.index, perCommitmentPoint: signer.perCommitmentPoint(c.local.index),
    spec: candidateSpec(c.local.spec, cand),
  }
  const bad = checkCandidateSigs(candidateSetup(s.setup, cand), signer, ref, msg)
  // The splice is not signed by us yet: a bad signature ends the negotiation, not the channel.
  if (bad !== undefined) return abortNegotiation(b, { ...bad, action: 'abort' })
  const localSigs = { signature: msg.signature, htlcSignatures: [...msg.htlc_signatures] }
  spliceOf(s).session = { ...session, signing: { ...sg, candidate: { ...cand, localSigs } } }
  b.persist({ kind: 'splice_local_commitment', txid: cand.txid, number: c.local.index, ...localSigs })
  maybeSendTxSignatures(b, signer)
}

/** Command `splice_witnesses`: our host's witnesses for our wallet inputs, checked as the peer will
 *  check them. */
export function commandSpliceWitnesses (b: StepBuilder, signer: ChannelSigner, txid: Txid, witnesses: string[][]): void {
  const session = signingSession(b)
  if (session === undefined || session.signing.candidate.txid !== txid || session.signing.witnesses !== undefined) {
    return onCommandError(
      b, 'splice_witnesses', channelError('unexpected_message', `no splice ${txid} waiting for our witnesses`, 'ignore'),
    )
  }
  const bad = checkWitnesses(session.negotiation!, buildTx(session.negotiation!), 'local', txid, witnesses)
  if (bad !== undefined) return onCommandError(b, 'splice_witnesses', { ...bad, action: 'ignore' })
  spliceOf(b.state).session = { ...session, signing: { ...session.signing, witnesses } }
  maybeSendTxSignatures(b, signer)
}

/** Our tx_signatures leave once we hold the peer's signature on our new commitment and our host's
 *  witnesses, and it is our turn: first signer, or the peer's have arrived. */
export function maybeSendTxSignatures (b: StepBuilder, signer: ChannelSigner): void {
  const s = b.state
  const session = signingSession(b)
  if (session === undefined || s.link !== 'up') return
  const sg = session.signing
  if (sg.candidate.localSigs === undefined || sg.witnesses === undefined || sg.candidate.txSignatures !== undefined) return
  if (!sg.weSignFirst && sg.received === undefined) return
  const built = buildTx(session.negotiation!)
  // BOLT #2 (splice tx_signatures, sender): "MUST set `shared_input_signature` to a valid ECDSA
  // signature for the `tx_add_input` spending the previous channel funding output using the
  // `funding_pubkey` that matches this input."
  const msg: TxSignatures = {
    type: 'tx_signatures', channel_id: s.channelId, txid: built.txid, witnesses: sg.witnesses,
    shared_input_signature: signer.signFundingInput(s.setup, built.tx, built.sharedInputIndex!),
  }
  const signing = { ...sg, candidate: { ...sg.candidate, txSignatures: msg } }
  spliceOf(s).session = { ...session, signing }
  if (sg.received !== undefined) return finish(b, msg, true)
  b.persist()
  b.send(msg)
}

export function receiveTxSignatures (b: StepBuilder, signer: ChannelSigner, msg: TxSignatures): void {
  const s = b.state
  const session = signingSession(b)
  if (session === undefined) {
    // A retransmission of the signatures of a splice we completed: nothing to do.
    if (s.splice?.candidates.some(c => c.txid === msg.txid) === true) return
    return onPeerError(b, channelError('interactive_tx_failed', `tx_signatures for ${msg.txid}, no splice being signed`))
  }
  const sg = session.signing
  const sent = sg.candidate.txSignatures !== undefined
  if (sg.received !== undefined) return
  if (sg.candidate.localSigs === undefined) return abortNegotiation(
    b, channelError('interactive_tx_failed', 'tx_signatures before the peer\'s commitment_signed'),
  )
  const built = buildTx(session.negotiation!)
  const bad = checkWitnesses(session.negotiation!, built, 'remote', msg.txid, msg.witnesses)
  // "MUST fail the negotiation" — unless we sent ours already: then we keep the splice and the
  // connection is dropped; the peer resends on reconnection (channel_reestablish next_funding).
  if (bad !== undefined) return sent ? onPeerError(b, { ...bad, action: 'disconnect' }) : abortNegotiation(b, bad)
  // BOLT #2 (splice tx_signatures, receiver): "If `shared_input_signature` is not set: MUST send an
  // `error` and fail the channel. If `shared_input_signature` is not valid or non-compliant with the
  // LOW-S-standard rule: MUST send an `error` and fail the channel."
  const sig = msg.shared_input_signature
  if (sig === undefined || !signer.checkFundingInput(s.setup, built.tx, built.sharedInputIndex!, sig)) {
    return onPeerError(b, channelError(
      'splice_shared_signature_invalid',
      sig === undefined ? 'no shared_input_signature' : 'shared_input_signature does not sign the shared input',
    ))
  }
  spliceOf(s).session = { ...session, signing: { ...sg, received: msg } }
  if (sent) return finish(b, sg.candidate.txSignatures!, false)
  if (sg.witnesses === undefined) b.emit({ type: 'splice_peer_signed', txid: msg.txid })
  maybeSendTxSignatures(b, signer)
}

/** Both tx_signatures: the transaction is complete. "MUST consider the channel no longer quiescent."
 *  `send`: ours leave now (we sign second), behind the write that stores the transaction. */
function finish (b: StepBuilder, ours: TxSignatures, send: boolean): void {
  const s = b.state
  const sp = spliceOf(s)
  const session = signingSession(b)!
  const sg = session.signing
  const theirs = sg.received!
  const n = session.negotiation!
  const built = buildTx(n)
  const witnesses = new Map<number, Uint8Array[]>()
  signedInputs(n, 'local').forEach(({ index }, k) => witnesses.set(index, ours.witnesses[k]!.map(hexToBytes)))
  signedInputs(n, 'remote').forEach(({ index }, k) => witnesses.set(index, theirs.witnesses[k]!.map(hexToBytes)))
  // BOLT #3 funding witness: "0 <signature_for_pubkey1> <signature_for_pubkey2>", pubkey1 the
  // lexicographically lesser funding key, then the witness script.
  const mine = { pubkey: hexToBytes(s.setup.local.fundingPubkey), sig: hexToBytes(ours.shared_input_signature!) }
  const peer = { pubkey: hexToBytes(s.setup.remote!.fundingPubkey), sig: hexToBytes(theirs.shared_input_signature!) }
  const [first, second] = compareBytes(mine.pubkey, peer.pubkey) <= 0 ? [mine, peer] : [peer, mine]
  witnesses.set(built.sharedInputIndex!, [
    new Uint8Array(0), witnessSig(first.sig, SIGHASH_ALL), witnessSig(second.sig, SIGHASH_ALL),
    fundingWitnessScript(mine.pubkey, peer.pubkey),
  ])
  const tx = txHex(withWitnesses(built.tx, witnesses))
  const candidate: FundingCandidate = { ...sg.candidate, localSigs: sg.candidate.localSigs!, txSignatures: ours, signedTx: tx }
  sp.candidates = [...sp.candidates, candidate]
  delete sp.session
  b.persist({ kind: 'splice_signed', txid: candidate.txid, tx })
  if (send) b.send(ours)
  b.out({ kind: 'broadcast_splice', txid: candidate.txid, tx })
  b.emit({ type: 'splice_signed', txid: candidate.txid })
  endQuiescence(b)
}

/** Command `splice_batch_release`: every session of our batched settlement is complete; our held
 *  commitment_signed for `txid` goes out, and the peer may sign. */
export function commandSpliceBatchRelease (b: StepBuilder, txid: Txid): void {
  const session = signingSession(b)
  if (session === undefined || session.signing.candidate.txid !== txid || session.signing.held !== true) {
    return onCommandError(
      b, 'splice_batch_release', channelError('unexpected_message', `no batch splice ${txid} holding its commitment_signed`, 'ignore'),
    )
  }
  const { held: _, ...signing } = session.signing
  spliceOf(b.state).session = { ...session, signing }
  // Stored before it leaves: after a restart the session knows the peer may have signed, so it is
  // finished, never aborted (a peer that signed and then receives tx_abort fails its channel).
  b.persist()
  if (b.state.link === 'up') b.send(signing.commitSig)
}
