// The splice transaction's construction (BOLT #2 "Splice Transaction Construction"): the peer's tx_*
// messages go to the negotiation (protocol/interactive-tx), each answered with one of ours; when both
// sent consecutive tx_complete, the splice rules on the whole transaction are checked, the candidate
// is stored, and our commitment_signed for the new funding leaves (BOLT #2: "After exchanging
// `tx_complete`, both peers send `commitment_signed` to commit to the splice transaction by creating a
// commitment transaction spending the new channel funding output").
//
// Durable writes: one, when the transaction is complete — the candidate and our commitment for it
// ("MUST remember the details of this splice transaction"), before our commitment_signed (and our
// final tx_complete, if ours completes it) leaves.
import { channelError } from '../../errors.ts'
import {
  buildTx, receiveTxMessage, replyMessage, signedInputs, weSignFirst, type Reply, type TxConstructionMessage,
} from '../../interactive-tx/index.ts'
import { txHex } from '../../tx/serialize.ts'
import type { Sat } from '../../types.ts'
import type { CommitmentSigned } from '../../wire/index.ts'
import type { StepBuilder } from '../effects.ts'
import { onPeerError } from '../failure.ts'
import type { ChannelSigner } from '../signer.ts'
import { commits } from '../state.ts'
import { abortNegotiation } from './abort.ts'
import { checkSpliceBalances } from './rules.ts'
import { candidateSetup, candidateSpec, spliceOf, type SigningState } from './state.ts'

export function receiveTxConstruction (b: StepBuilder, signer: ChannelSigner, msg: TxConstructionMessage): void {
  const s = b.state
  const sp = spliceOf(s)
  const session = sp.session
  if (session?.stage !== 'constructing' || session.negotiation === undefined) {
    return onPeerError(b, channelError('interactive_tx_failed', `${msg.type} with no transaction being negotiated`))
  }
  const r = receiveTxMessage(session.negotiation, msg)
  if (!r.ok) return onPeerError(b, r.error)
  sp.session = { ...session, negotiation: r.negotiation }
  if (r.negotiation.done) return completed(b, signer, r.reply)
  if (r.reply !== undefined) b.send(replyMessage(r.reply, s.channelId))
}

/** The transaction is final (our `finalReply`, a tx_complete, still to send if ours completed it). */
function completed (b: StepBuilder, signer: ChannelSigner, finalReply: Reply | undefined): void {
  const s = b.state
  const sp = spliceOf(s)
  const session = sp.session!
  const n = session.negotiation!
  const built = buildTx(n)
  const addedOutputs = {
    local: n.outputs.some(o => o.by === 'local' && !o.shared), remote: n.outputs.some(o => o.by === 'remote' && !o.shared),
  }
  const bad = checkSpliceBalances(s, session.contributionSat, addedOutputs)
  if (bad !== undefined) return abortNegotiation(b, bad)
  const last = sp.candidates.at(-1)
  // BOLT #2 (splice tx_complete receiver): "This is an RBF attempt and the transaction's total fees is
  // less than the last successfully negotiated splice transaction's fees."
  if (session.rbf && last !== undefined && built.feeSat.total < last.feeSat) {
    return abortNegotiation(
      b, channelError('splice_rbf_fee_too_low', `fee ${built.feeSat.total} sat < the replaced splice's ${last.feeSat}`),
    )
  }
  const candidate = {
    txid: built.txid,
    outputIndex: built.sharedOutputIndex,
    capacitySat: n.params.sharedOutput.valueSat,
    fundingPubkey: session.fundingPubkey,
    contributionSat: session.contributionSat,
    feeratePerKw: session.feeratePerKw,
    feeSat: built.feeSat.total,
    initiator: session.initiator,
    ownOutputs: n.outputs.filter(o => o.by === 'local' && !o.shared).map(o => ({ script: o.script, sats: o.sats })),
  }
  // BOLT #2 (splice commitment_signed, sender): "MUST create a commitment transaction that spends the
  // splice funding output and: Adds `funding_contribution_satoshis` from `splice_init` and
  // `splice_ack` to the main balance of their respective sender. Uses the same feerate as the existing
  // commitment transaction. Uses the same `commitment_number` as the existing commitment transaction."
  const c = commits(s)
  const spec = candidateSpec(c.remote.spec, candidate)
  const sigs = signer.signCommitment(
    candidateSetup(s.setup, candidate), { holder: 'remote', number: c.remote.index, perCommitmentPoint: c.remote.perCommitmentPoint, spec },
  )
  const commitSig: CommitmentSigned = {
    type: 'commitment_signed', channel_id: s.channelId, signature: sigs.signature, htlc_signatures: sigs.htlcSignatures,
    funding_txid: built.txid,
  }
  const ours = signedInputs(n, 'local')
  // A batched settlement's initiator holds its commitment_signed until every session of the batch is
  // complete (command splice_batch_release): the peer signs only after it, so a batch that loses a peer
  // before then is aborted everywhere with nothing signed (docs/DESIGN.md "Batched settlement").
  const held = session.initiator === 'local' && session.own?.batch !== undefined
  // Our witnesses come from the host (splice_sign_inputs): for our wallet inputs, and in a batch from
  // the coordinator, which also learns from it that the session is complete; a batch of one channel
  // has no input of ours to sign, and still waits for it.
  const asksHost = ours.length > 0 || held
  const signing: SigningState = {
    candidate, weSignFirst: weSignFirst(n, session.nodeIds!), commitSig, ...(!asksHost ? { witnesses: [] } : {}),
    ...(held ? { held: true } : {}),
  }
  sp.session = { ...session, stage: 'signing', signing }
  b.persist({
    kind: 'splice_candidate', txid: candidate.txid, outputIndex: candidate.outputIndex, capacitySat: candidate.capacitySat,
    fundingPubkey: candidate.fundingPubkey, contributionSat: candidate.contributionSat,
  })
  if (finalReply !== undefined) b.send(replyMessage(finalReply, s.channelId))
  if (!held) b.send(commitSig)
  b.emit({
    type: 'splice_negotiated', txid: built.txid, capacitySat: candidate.capacitySat, contributionSat: candidate.contributionSat,
    feeSat: { local: built.feeSat.local, remote: built.feeSat.remote },
  })
  if (asksHost) {
    b.emit({ type: 'splice_sign_inputs', txid: built.txid, tx: txHex(built.tx), inputs: ours.map(({ index, input }) => ({
      index, txid: input.txid, vout: input.vout, valueSat: input.valueSat as Sat, script: input.script,
    })) })
  }
}
