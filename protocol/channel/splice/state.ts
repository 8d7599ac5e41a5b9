// A channel's splice state (BOLT #2 "Channel Quiescence", "Channel Splicing"): plain JSON data kept in
// ChannelState.splice, absent on a channel that never spliced.
//
// One splice at a time: BOLT #2 forbids splice_init while another splice is negotiated or not locked,
// so every pending funding transaction ("candidate") spends the channel's current funding output — a
// splice and its RBF replacements, double-spending each other. The channel's commitments keep one set
// of HTLCs and balances, on the current funding; a candidate's commitment is the same commitment with
// each side's balance moved by its contribution (`candidateSpec`), signed against the candidate's
// output (`candidateSetup`), with the same commitment number and per-commitment point: one
// revoke_and_ack revokes them all.
import type { BatchTerms, Negotiation, OwnContribution } from '../../interactive-tx/index.ts'
import type { Msat, NodeId, Sat, Txid } from '../../types.ts'
import type { CommitmentSigned, TxSignatures } from '../../wire/index.ts'
import type { ChannelSetup, ChannelState, CommitmentSpec, Side } from '../state.ts'

/** Our side of a splice as the host asks for it: what we add to (positive) or take from (negative)
 *  our balance, the wallet inputs and outputs that pay for it, and the entropy of our serial ids. */
export interface SpliceContribution extends OwnContribution {
  contributionSat: number
  /** A batched settlement's session (docs/DESIGN.md "Batched settlement"): the payout terms both
   *  sides check at tx_complete, and, for the initiator, what the peer's splice_ack must say so that
   *  every session builds the planned transaction. */
  batch?: BatchTerms & { expect?: { remoteContributionSat: number; sharedOutputScript: string } }
}

/** BOLT #2 "Channel Quiescence". `wanted`: our host asked to splice; our stfu leaves once our own
 *  updates are settled. */
export interface Quiescence {
  wanted: boolean
  sent: boolean
  received: boolean
  /** Once both sent stfu: who may send splice_init or tx_init_rbf. */
  initiator?: Side
}

/** What our host asked for; done once the channel is quiescent with us as its initiator. */
export interface SpliceRequest {
  kind: 'splice' | 'rbf'
  feeratePerKw: number
  locktime: number
  contribution: SpliceContribution
  /** Both node ids: BOLT #2 breaks a tie in "who sends tx_signatures first" by node id. */
  nodeIds: { local: NodeId; remote: NodeId }
  /** Our host cancelled it after our stfu left: quiescence is ended with tx_abort once reached. */
  cancelled?: string
}

/** The signatures on one commitment transaction (ours, from the peer). */
export interface CommitSigs { signature: string; htlcSignatures: string[] }

/** A signed splice transaction that is not locked yet: the channel's funding once it is. */
export interface FundingCandidate {
  txid: Txid
  outputIndex: number
  capacitySat: Sat
  fundingPubkey: Record<Side, string>
  contributionSat: Record<Side, number>
  feeratePerKw: number
  /** The whole transaction's fee (BOLT #2: an RBF must pay at least as much). */
  feeSat: number
  /** Who sent splice_init (or tx_init_rbf): only its initiator may RBF it with the same contribution. */
  initiator?: Side
  /** Our own outputs in it (a payout, change; not the shared output): an RBF of our splice pays them again. */
  ownOutputs?: Array<{ script: string; sats: Sat }>
  /** The peer's signatures on our commitment (number localCommit.index) spending this candidate. */
  localSigs: CommitSigs
  /** Fully signed, once both tx_signatures were exchanged: what the host broadcasts. */
  signedTx?: string
  /** The tx_signatures we sent, resent if the peer asks (channel_reestablish next_funding). */
  txSignatures?: TxSignatures
  /** One of its inputs is spent by another confirmed transaction: it can never confirm, and is dropped
   *  once that spend is final (protocol/channel/splice/double-spent.ts). */
  spentElsewhere?: { input: string; spentBy: Txid }
}

/** A splice (or RBF) being negotiated, then signed. Before `signing` nothing of it is stored: a
 *  disconnection forgets it. From `signing` on it is stored, and survives to channel_reestablish. */
export interface SpliceSession {
  stage:
    | 'awaiting_ack'      // initiator: splice_init or tx_init_rbf sent
    | 'awaiting_host'     // non-initiator: splice_init or tx_init_rbf received, our host decides our contribution
    | 'constructing'      // interactive-tx: tx_add_* / tx_complete turns
    | 'signing'           // tx complete: commitment_signed and tx_signatures for the new funding
  initiator: Side
  rbf: boolean
  feeratePerKw: number
  locktime: number
  contributionSat: Record<Side, number>
  fundingPubkey: Record<Side, string>
  nodeIds?: { local: NodeId; remote: NodeId }
  own?: SpliceContribution
  negotiation?: Negotiation
  signing?: SigningState
}

export interface SigningState {
  candidate: Omit<FundingCandidate, 'localSigs'> & { localSigs?: CommitSigs }
  weSignFirst: boolean
  /** Our commitment_signed for the candidate: resent when the peer asks (retransmit_flags bit 0). */
  commitSig: CommitmentSigned
  /** A batched settlement's initiator has not sent commitSig yet (command splice_batch_release). */
  held?: boolean
  /** Our host's witnesses for our wallet inputs (serial id order); [] when we added none. */
  witnesses?: string[][]
  /** The peer's tx_signatures, once received (checked). */
  received?: TxSignatures
}

/** A signed candidate dropped because `input` of it is spent by `spentBy` ('unknown' when the spend
 *  is deeper than the blocks the host looked at). */
export interface DroppedCandidate { txid: Txid; input: string; spentBy: Txid }

export interface SpliceState {
  quiescence: Quiescence
  /** Counts quiescence periods: the host's timer names the one it was armed for. */
  quiescenceSeq: number
  request?: SpliceRequest
  session?: SpliceSession
  /** Oldest first: the splice, then its RBF replacements. */
  candidates: FundingCandidate[]
  /** The last funding transaction we sent splice_locked for (or that reached depth while the link was
   *  down: BOLT #2 my_current_funding_locked). */
  localLocked?: Txid
  /** The last splice_locked the peer sent. */
  remoteLocked?: Txid
  /** What we last told the peer we locked on this connection (splice_locked, or channel_reestablish's
   *  my_current_funding_locked): a lock it has not heard of is announced after the reestablish. */
  lockedSent?: Txid
  /** We sent tx_abort and wait for its echo: stale tx_* messages until then are ignored (BOLT #2
   *  tx_abort rationale: the echo lets the sender "terminate the in-flight process without worrying
   *  about stale messages"). Quiescence ends with the echo. */
  abortSent?: boolean
  /** Candidates dropped as double-spent (protocol/channel/splice/double-spent.ts), oldest first, the
   *  last DROPPED_SPLICES_KEPT: stored in the write that drops them, so the hosts' accounting can
   *  reverse a dropped splice's row after a stop between that write and their own. */
  dropped?: DroppedCandidate[]
  /** An incoming start_batch being collected. Not stored on its own: dropped with the link. */
  batch?: { size: number; received: CommitmentSigned[] }
}

export function newSpliceState (): SpliceState {
  return { quiescence: { wanted: false, sent: false, received: false }, quiescenceSeq: 0, candidates: [] }
}

/** The splice state of a step's (copied) state, created on first use. */
export function spliceOf (s: ChannelState): SpliceState {
  s.splice ??= newSpliceState()
  return s.splice
}

/** A copy of the splice state that a step may modify: nested objects that steps modify in place
 *  (quiescence) are copied; everything else is replaced, never modified. */
export function copySplice (sp: SpliceState): SpliceState {
  return {
    ...sp, quiescence: { ...sp.quiescence }, candidates: [...sp.candidates],
    ...(sp.batch !== undefined ? { batch: { ...sp.batch, received: [...sp.batch.received] } } : {})
  }
}

/** A commitment spec moved to a candidate's funding: each side's balance plus its contribution. */
export function candidateSpec (spec: CommitmentSpec, c: Pick<FundingCandidate, 'contributionSat'>): CommitmentSpec {
  return {
    ...spec,
    toLocalMsat: (spec.toLocalMsat + c.contributionSat.local * 1000) as Msat,
    toRemoteMsat: (spec.toRemoteMsat + c.contributionSat.remote * 1000) as Msat,
  }
}

/** The channel setup as seen from a candidate: its outpoint, capacity and funding keys. The signer
 *  builds and signs the candidate's commitments from it. */
export function candidateSetup (
  setup: ChannelSetup, c: Pick<FundingCandidate, 'txid' | 'outputIndex' | 'capacitySat' | 'fundingPubkey'>,
): ChannelSetup {
  if (setup.remote === undefined) throw new Error('candidateSetup: no remote params')
  return {
    ...setup,
    capacitySat: c.capacitySat,
    funding: { txid: c.txid, outputIndex: c.outputIndex },
    local: { ...setup.local, fundingPubkey: c.fundingPubkey.local },
    remote: { ...setup.remote, fundingPubkey: c.fundingPubkey.remote },
  }
}

/** Every commitment spec an update must be valid for: the current funding's, and each candidate's. */
export function specsForEveryFunding (s: ChannelState, spec: CommitmentSpec): CommitmentSpec[] {
  const cands = s.splice?.candidates ?? []
  return cands.length === 0 ? [spec] : [spec, ...cands.map(c => candidateSpec(spec, c))]
}
