// What a step asks the host to do, as data (DESIGN.md rule 1), and the builder that keeps them in the
// one safe order: persist → send → emit (DESIGN.md rule 2; STYLE.md §2).
//
// The persistence contract:
//  - A `persist` effect carries the whole new channel state and the monitor updates that go with it;
//    the host writes them in one atomic, durable batch, then calls step(state, {kind:'persisted', writeId}).
//  - Every send and emit that comes after a write not yet acknowledged is *held* in the state's outbox
//    and released, in order, by that acknowledgement. So no commitment_signed leaves before the state it
//    signs for is stored, no revoke_and_ack before the new commitment and the peer's signatures are
//    stored, and no HTLC is forwarded or failed upstream before the revocation that makes it safe is
//    stored. A stalled store stalls the channel's output, nothing else.
//  - Writes are numbered 1, 2, 3, ... and acknowledged in order. How many writes a step issues is part
//    of the contract (tests assert it): see WRITES in step.ts.
import type { Sat, Txid } from '../types.ts'
import type { ChannelError } from '../errors.ts'
import type { ErrorMessage, HtlcFailureReason, PeerMessage, WarningMessage } from '../wire/index.ts'
import type { ChannelSetup, ChannelState, CommitmentSpec, Htlc, SignedClosing } from './state.ts'
import { copySplice } from './splice/state.ts'

/** Numbered, append-only facts the chain monitor needs to enforce the channel on its own (DESIGN.md
 *  rule 3). Each is durable before the channel moves on. */
export type MonitorUpdate = { seq: number } & (
  | { kind: 'funding'; setup: ChannelSetup }
  /** Our new commitment with the peer's signatures: what we broadcast if we must close alone. */
  | {
    kind: 'local_commitment'; number: number; perCommitmentPoint: string; spec: CommitmentSpec; signature: string; htlcSignatures: string[]
  }
  /** A commitment we signed for the peer: its HTLC outputs are what we must claim if it goes on-chain. */
  | { kind: 'remote_commitment'; number: number; perCommitmentPoint: string; spec: CommitmentSpec }
  /** The commitment_signed for remote commitment `number` never left (it was still held behind its
   *  write when the link went down): the peer holds no signature for it, forget it. */
  | { kind: 'remote_commitment_withdrawn'; number: number }
  /** The peer revoked its commitment `number`: with this secret we can punish it on-chain. */
  | { kind: 'revocation'; number: number; secret: string }
  /** A preimage, stored the moment it is learned (DESIGN.md rule 2). */
  | { kind: 'preimage'; paymentHash: string; preimage: string }
  /** A mutual close we signed: the monitor watches for it. */
  | { kind: 'closing_signed'; feeSat: Sat; localScript: string; remoteScript: string }
  /** We are provably behind (data-loss protection): never broadcast our commitment. */
  | { kind: 'do_not_broadcast'; theirCurrentPoint: string }
  /** We failed the channel: close with our latest commitment. */
  | { kind: 'force_close'; reason: string }
  // ── Splicing (protocol/channel/splice). A candidate's commitments are the channel's commitments with
  //    each side's balance moved by its contribution (splice/state.ts candidateSpec), spending the
  //    candidate's output with its funding keys, at the same numbers and per-commitment points: the
  //    `remote_commitment` and `revocation` updates cover every candidate. ──
  /** A splice transaction was negotiated (stored before our commitment_signed for it leaves): a
   *  candidate for the channel's funding, until it is locked or dropped. */
  | {
    kind: 'splice_candidate'; txid: Txid; outputIndex: number; capacitySat: Sat; fundingPubkey: { local: string; remote: string };
    contributionSat: { local: number; remote: number }
  }
  /** The peer's signatures on our commitment `number` spending candidate `txid` (its spec is the
   *  `local_commitment` of that number, moved to the candidate): what we broadcast if `txid` confirms. */
  | { kind: 'splice_local_commitment'; txid: Txid; number: number; signature: string; htlcSignatures: string[] }
  /** Both sides' tx_signatures: the candidate's transaction, complete. Broadcast it (again) until it,
   *  or a replacement, confirms. It spends the old funding output: not a close. */
  | { kind: 'splice_signed'; txid: Txid; tx: string }
  /** splice_locked both ways: candidate `txid` is the channel's funding output from now on; every
   *  other candidate is dropped (they double-spend it) and nothing more is signed for the old one. */
  | { kind: 'splice_locked'; txid: Txid }
  /** A candidate forgotten before we sent tx_signatures for it (tx_abort, or the peer forgot it on
   *  reconnection): the peer cannot complete its transaction without our signature. */
  | { kind: 'splice_dropped'; txid: Txid }
)
export type MonitorUpdateBody = MonitorUpdate extends infer U ? U extends { seq: number } ? Omit<U, 'seq'> : never : never

/** What happened, for the host (payment router, SDK events). */
export type ChannelEvent =
  | { type: 'funding_needed'; capacitySat: Sat; fundingScriptPubkeys: { local: string; remote: string } }
  | { type: 'channel_ready' }
  /** An HTLC the peer offered is irrevocably committed: the host may fulfill, fail or forward it. */
  | { type: 'htlc_received'; htlc: Htlc }
  /** The peer fulfilled our HTLC: the preimage is stored; the host may fulfill upstream now. */
  | { type: 'htlc_fulfilled'; id: number; paymentHash: string; preimage: string }
  /** The peer's failure of our HTLC is irrevocably committed: the host may fail upstream now.
   *  `detail`: the peer's own words with its update_fail_htlc, if it sent any (bounded by the wire schema). */
  | { type: 'htlc_failed'; id: number; paymentHash: string; reason: HtlcFailureReason; detail?: string }
  /** The removal of an HTLC the peer offered is irrevocably committed (accounting). */
  | { type: 'htlc_settled'; id: number; fulfilled: boolean }
  /** Our policy failed an incoming HTLC once committed (dust exposure, CLTV window). */
  | { type: 'htlc_auto_failed'; id: number; reason: HtlcFailureReason }
  /** A local add was undone by a disconnect before the peer held a signature for it: the host may
   *  retry or fail upstream. `violation`: the link was dropped because the peer broke the protocol. */
  | { type: 'add_rolled_back'; htlc: Htlc; violation?: ChannelError }
  /** A local command was refused (values, not throws). */
  | { type: 'command_failed'; command: string; error: ChannelError }
  | { type: 'reestablished'; retransmitted: number }
  | { type: 'shutdown_complete' }
  /** Both signed the same closing transaction: `tx` is it, with both signatures, to broadcast (it is
   *  in the state too: state.closing.signedTx). */
  | { type: 'closing_agreed'; feeSat: Sat; toLocalSat: Sat; toRemoteSat: Sat; tx: SignedClosing }
  | { type: 'channel_failed'; error: ChannelError; broadcastOurCommitment: boolean }
  // ── Quiescence and splicing (protocol/channel/splice) ──
  /** stfu sent or received: arm a timer of QUIESCENCE_TIMEOUT_SECONDS and step `quiescence_timeout`
   *  with this `seq` when it fires (a later quiescence has another seq). */
  | { type: 'quiescence_started'; seq: number }
  /** The peer asks to splice (or to RBF the pending splice): answer with the `splice_respond` command
   *  (our contribution, 0 to take no part) or `splice_reject`. `requireConfirmedInputs`: BOLT #2 "MUST
   *  NOT send a `tx_add_input` that contains an unconfirmed input" — our wallet inputs, if any, must be
   *  confirmed. */
  | {
    type: 'splice_requested'; rbf: boolean; remoteContributionSat: number; feeratePerKw: number; capacitySat: Sat;
    requireConfirmedInputs: boolean
  }
  /** The splice transaction is negotiated and stored; our commitment_signed for it is on its way. */
  | {
    type: 'splice_negotiated'; txid: Txid; capacitySat: Sat; contributionSat: { local: number; remote: number };
    feeSat: { local: number; remote: number }
  }
  /** Sign our wallet inputs of the splice transaction (SIGHASH_ALL) and answer with the
   *  `splice_witnesses` command, one witness per input in this order. */
  | {
    type: 'splice_sign_inputs'; txid: Txid; tx: string;
    inputs: Array<{ index: number; txid: Txid; vout: number; valueSat: Sat; script: string }>
  }
  /** The peer's tx_signatures for the splice we are signing arrived, and ours wait for our host's
   *  witnesses (a batched settlement's hub: every peer's shared_input_signature completes the other
   *  channels' inputs, protocol/settlement/witnesses.ts). */
  | { type: 'splice_peer_signed'; txid: Txid }
  /** Both tx_signatures exchanged and stored: the transaction is complete (broadcast_splice follows). */
  | { type: 'splice_signed'; txid: Txid }
  /** splice_locked sent and received: the candidate is the channel's funding. */
  | { type: 'splice_locked'; txid: Txid; capacitySat: Sat }
  /** The splice negotiation ended without a transaction (tx_abort, a refusal, a disconnection). */
  | { type: 'splice_aborted'; reason: string; byPeer: boolean }
  /** A signed candidate dropped: an input of its transaction is spent elsewhere, so it can never
   *  confirm (protocol/channel/splice/double-spent.ts). The channel stays on its current funding. */
  | { type: 'splice_double_spent'; txid: Txid; reason: string }

export type Effect =
  | { kind: 'persist'; writeId: number; state: ChannelState; monitor: MonitorUpdate[] }
  | { kind: 'send'; msg: PeerMessage }
  /** The opener's host broadcasts the funding tx it built (only after funding_signed is stored). */
  | { kind: 'broadcast_funding'; txid: Txid }
  /** Broadcast a splice transaction: both tx_signatures are exchanged and it is stored. */
  | { kind: 'broadcast_splice'; txid: Txid; tx: string }
  /** The host should close the connection (after sending what precedes this effect). */
  | { kind: 'disconnect' }
  | { kind: 'emit'; event: ChannelEvent }

export interface Step { state: ChannelState; effects: Effect[] }

/** A copy of a state that a step may modify: every object or array that steps modify in place is
 *  copied; everything else (commitments, specs, HTLCs, updates, messages) is replaced, never modified,
 *  and so is shared. test/unit/protocol/channel/purity.test.ts freezes inputs to hold every step to this. */
export function copyState (s: ChannelState): ChannelState {
  return {
    ...s,
    setup: { ...s.setup },
    localChanges: { proposed: [...s.localChanges.proposed], signed: [...s.localChanges.signed], acked: [...s.localChanges.acked] },
    remoteChanges: { proposed: [...s.remoteChanges.proposed], acked: [...s.remoteChanges.acked], signed: [...s.remoteChanges.signed] },
    channelReady: { ...s.channelReady },
    closing: { ...s.closing },
    holding: [...s.holding],
    autoFail: [...s.autoFail],
    outbox: [...s.outbox],
    writes: { ...s.writes },
    ...(s.splice !== undefined ? { splice: copySplice(s.splice) } : {}),
  }
}

/** Accumulates a step's effects against a private copy of the state. */
export class StepBuilder {
  readonly effects: Effect[] = []
  private pendingPersist: { writeId: number; monitor: MonitorUpdate[] } | undefined

  constructor (public state: ChannelState) {}

  /** Ask for one durable write of the state as it is at the end of this step, with these monitor
   *  updates. At most one write per step: later calls add monitor updates to the same batch. */
  persist (...monitor: MonitorUpdateBody[]): void {
    const numbered = monitor.map(m => ({ ...m, seq: ++this.state.monitorSeq }) as MonitorUpdate)
    if (this.pendingPersist !== undefined) { this.pendingPersist.monitor.push(...numbered); return }
    const writeId = ++this.state.writes.issued
    this.pendingPersist = { writeId, monitor: numbered }
    this.effects.push({ kind: 'persist', writeId, state: this.state, monitor: numbered })
  }

  /** A warning or error about a violation, or a disconnect: out at once, whatever is held or in flight.
   *  They reveal nothing that needs a durable write first; what they overtake in the outbox is either
   *  dropped with the link (disconnect.ts) or with the channel (failure.ts), never sent after them. */
  urgent (effect: { kind: 'send'; msg: WarningMessage | ErrorMessage } | { kind: 'disconnect' }): void {
    this.effects.push(effect)
  }

  /** A send, broadcast or emit: immediate if no write is outstanding, else held behind the latest. */
  out (effect: Exclude<Effect, { kind: 'persist' }>): void {
    const w = this.state.writes
    if (w.acked < w.issued || this.state.outbox.length > 0) this.state.outbox.push({ afterWrite: w.issued, effect })
    else this.effects.push(effect)
  }
  send (msg: PeerMessage): void { this.out({ kind: 'send', msg }) }
  emit (event: ChannelEvent): void { this.out({ kind: 'emit', event }) }

  /** Releases held effects whose write is acknowledged, in order. */
  release (): void {
    const w = this.state.writes
    while (this.state.outbox.length > 0 && this.state.outbox[0]!.afterWrite <= w.acked) {
      this.effects.push(this.state.outbox.shift()!.effect)
    }
  }

  done (): Step {
    // The persisted snapshot is the final state of the step. Steps never modify a state they are
    // given (copyState), so sharing it with the returned state is safe.
    if (this.pendingPersist !== undefined) {
      const i = this.effects.findIndex(e => e.kind === 'persist')
      this.effects[i] = {
        kind: 'persist', writeId: this.pendingPersist.writeId, state: copyState(this.state), monitor: this.pendingPersist.monitor,
      }
    }
    return { state: this.state, effects: this.effects }
  }
}
