// The channel's state: plain, JSON-serialisable data (the host stores it whole in each `persist`
// effect). Amounts are in the channel's *local* perspective everywhere: `toLocalMsat` is always our
// balance and an HTLC's `offerer` is always 'local' (we offered it) or 'remote', whichever
// commitment (ours or theirs) a spec describes. Only BOLT #3 trimming depends on whose commitment it
// is (the "holder"), and that is passed separately.
import type { ChannelId, Msat, NodeId, Sat, Txid } from '../types.ts'
import type { ChannelType, CommitmentSigned, HtlcFailureReason, HtlcMetadata, OpenChannel } from '../wire/index.ts'
import type { Link, Phase } from './phase.ts'
import type { Effect } from './effects.ts'
import type { SpliceState } from './splice/state.ts'

export type Side = 'local' | 'remote'
export const other = (s: Side): Side => (s === 'local' ? 'remote' : 'local')

export interface Htlc {
  offerer: Side
  id: number
  amountMsat: Msat
  paymentHash: string
  cltvExpiry: number
  recipient: NodeId
  metadata?: HtlcMetadata
}

/** What one commitment transaction contains, before BOLT #3 fees and trimming are applied. */
export interface CommitmentSpec {
  htlcs: Htlc[]
  toLocalMsat: Msat
  toRemoteMsat: Msat
  feeratePerKw: number
}

/** One `update_*` message, as data. Who sent it is given by the list it sits in. */
export type Update =
  | { kind: 'add'; htlc: Htlc }
  | { kind: 'fulfill'; id: number; preimage: string }
  | { kind: 'fail'; id: number; reason: HtlcFailureReason; detail?: string }
  | { kind: 'fee'; feeratePerKw: number }

/** Our updates, by how far they have travelled (BOLT #2 "Normal Operation", states 1–5). */
export interface LocalChanges {
  /** Sent, not yet covered by a commitment_signed of ours. Dropped by both sides on disconnect. */
  proposed: Update[]
  /** In the commitment we signed for the peer; waiting for its revoke_and_ack. */
  signed: Update[]
  /** The peer revoked the commitment without them: they are due in our next commitment. */
  acked: Update[]
}
/** The peer's updates, by how far they have travelled. */
export interface RemoteChanges {
  /** Received, not yet covered by a commitment_signed of the peer. Dropped on disconnect. */
  proposed: Update[]
  /** In our latest commitment and we revoked the previous one: due in the peer's next commitment. */
  acked: Update[]
  /** In the commitment we signed for the peer; irrevocable on both sides once it revokes. */
  signed: Update[]
}

/** One side's channel parameters (BOLT #2 open_channel / accept_channel). "Local" params constrain
 *  what the *peer* may do to us (our htlc_minimum_msat is the smallest HTLC we accept, our reserve
 *  is what the peer must keep), exactly as in BOLT #2. */
export interface SideParams {
  dustLimitSat: Sat
  maxHtlcValueInFlightMsat: Msat
  channelReserveSat: Sat
  htlcMinimumMsat: Msat
  toSelfDelay: number
  maxAcceptedHtlcs: number
  fundingPubkey: string
  revocationBasepoint: string
  paymentBasepoint: string
  delayedPaymentBasepoint: string
  htlcBasepoint: string
  upfrontShutdownScript?: string
}

/** Our own policy knobs (config, with defaults in limits.ts): they never go on the wire. */
export interface LocalPolicy {
  /** BOLT #2 max_dust_htlc_exposure_msat: cap on trimmed HTLC value in either commitment. */
  maxDustExposureMsat: Msat
  minFeeratePerKw: number
  maxFeeratePerKw: number
  /** An incoming HTLC must expire at least this many blocks after the current height. */
  minCltvExpiryDelta: number
  /** ... and at most this many blocks after it (longer locks our funds for too long). */
  maxCltvExpiryDelta: number
  maxToSelfDelay: number
  maxMinimumDepth: number
  minFundingSat: Sat
  /** Confirmations of a splice transaction before we send splice_locked (limits.ts
   *  DEFAULT_SPLICE_MINIMUM_DEPTH when absent). */
  spliceMinimumDepth?: number
  /** Fundee: blocks from funding_created to wait for the funding to confirm before abandoning the
   *  channel (BOLT #2 "SHOULD forget the channel"; protocol/channel/funding-check.ts). */
  fundingTimeoutBlocks: number
  /** Funder: when the peer asked for minimum_depth 0, our own funding transaction counts once our node
   *  has it (zero-conf: only our own coins are at stake). Never for a channel the peer funded. */
  zeroConfOwnFunding: boolean
}

/** Everything fixed once the channel is funded: what both commitments are built from. */
export interface ChannelSetup {
  chainHash: string
  channelType: ChannelType
  /** We opened the channel: we pay the commitment fee (BOLT #3 "Fee Payment"). */
  isFunder: boolean
  capacitySat: Sat
  pushMsat: Msat
  minimumDepth: number
  funding?: { txid: Txid; outputIndex: number }
  /** Where our funds go on a mutual close, unless the shutdown command names another script. */
  localShutdownScript: string
  local: SideParams
  /** Unknown until accept_channel arrives (opener in `awaiting_accept`). */
  remote?: SideParams
}

export interface LocalCommit {
  index: number
  spec: CommitmentSpec
  /** The peer's signatures: with them we can broadcast this commitment alone. */
  signature: string
  htlcSignatures: string[]
}
export interface RemoteCommit {
  index: number
  spec: CommitmentSpec
  perCommitmentPoint: string
}
/** A commitment we signed for the peer that it has not yet revoked the previous one for. */
export interface NextRemoteCommit {
  commit: RemoteCommit
  /** Our local commitment index when we sent it: orders commitment_signed against revoke_and_ack on
   *  retransmission (BOLT #2: "in the same relative order as initially transmitted"). */
  sentAfterLocalIndex: number
  /** The exact message, so a retransmission is byte-identical. */
  message: CommitmentSigned
  /** While splices are pending: the commitment_signed for each candidate, sent after `message` in one
   *  start_batch (protocol/channel/splice/batch.ts). */
  batch?: CommitmentSigned[]
  /** The write that stores this commitment: its commitment_signed is held until that write is
   *  acknowledged, so before then the peer cannot have it (disconnect.ts withdraws it). */
  writeId?: number
}

/** A local command waiting for the link to come back (fulfill/fail/fee survive a disconnect). */
export type HeldUpdate = Extract<Update, { kind: 'fulfill' | 'fail' | 'fee' }>

/** Closing negotiation (BOLT #2 closing_signed with fee_range). */
export interface ClosingState {
  /** Set once we sent shutdown (BOLT #2: "MUST NOT send multiple `shutdown` messages"). */
  localScript?: string
  /** Set once the peer sent shutdown. */
  remoteScript?: string
  /** Our fee range and last proposal, once we sent closing_signed. */
  ourRange?: { min: Sat; max: Sat }
  lastSentFeeSat?: Sat
  lastReceivedFeeSat?: Sat
  /** The agreed fee, once both signed the same closing tx. */
  agreedFeeSat?: Sat
  /** The closing transaction with both signatures, once agreed: stored with the agreement, so a host
   *  that restarts before it broadcast it still can (closing-tx.ts). */
  signedTx?: SignedClosing
}

/** A cooperative closing transaction both sides signed, ready to broadcast, and what it pays. */
export interface SignedClosing {
  txid: Txid
  /** The whole transaction, witnesses included, hex. */
  hex: string
  /** What it pays us and the peer (0: no output, that balance was below the dust limit). */
  localSat: Sat
  remoteSat: Sat
  /** What it pays the miners: the capacity minus its outputs (the agreed fee, the msat both outputs
   *  round away, and any balance left out as dust). */
  feeSat: Sat
  /** fee_satoshis both closing_signed agreed on. */
  agreedFeeSat: Sat
  /** Balances left out as dust, by side. */
  trimmedLocalSat: Sat
  trimmedRemoteSat: Sat
  /** The variant both signed: outputs below this dust limit are left out (BOLT #3: the peer removes
   *  outputs below its own dust limit, so this is the peer's or ours). */
  dustLimitSat: Sat
}

export interface ChannelState {
  phase: Phase
  link: Link
  /** temporary_channel_id until funding_created/funding_signed, then the real channel_id. */
  channelId: ChannelId
  temporaryChannelId: ChannelId
  setup: ChannelSetup
  policy: LocalPolicy
  /** Latest block height the host told us about (CLTV checks). */
  height: number
  /** Establishment only: the open_channel sent (opener) or received (acceptor). */
  pendingOpen?: OpenChannel
  /** Establishment only: the peer's first_per_commitment_point (commitment 0). */
  remoteFirstPoint?: string
  /** Fundee: the height at which a funding that has not made the channel ready abandons it. */
  fundingDeadline?: number
  localCommit?: LocalCommit
  remoteCommit?: RemoteCommit
  nextRemoteCommit?: NextRemoteCommit
  /** The peer's per-commitment point for commitment number remoteCommit.index + 1 (the next one we
   *  sign for it; nextRemoteCommit, when present, already uses it). */
  remoteNextPoint?: string
  localChanges: LocalChanges
  remoteChanges: RemoteChanges
  nextLocalHtlcId: number
  nextRemoteHtlcId: number
  /** The last per_commitment_secret the peer revealed (32 zero bytes before any). */
  lastRemoteSecret: string
  channelReady: { sent: boolean; received: boolean }
  closing: ClosingState
  /** Fulfill/fail/fee commands waiting for the link (or for reestablish to finish). */
  holding: HeldUpdate[]
  /** Incoming HTLCs our policy refuses (dust exposure, CLTV window): failed once irrevocably committed
   *  (BOLT #2: "SHOULD fail this HTLC once it's committed"). */
  autoFail: Array<{ id: number; reason: HtlcFailureReason }>
  /** Sends and emits held until a durable write completes (DESIGN.md rule 2). */
  outbox: Array<{ afterWrite: number; effect: Effect }>
  /** Durable writes issued and acknowledged (ids are 1, 2, 3, ...; acks come in order). */
  writes: { issued: number; acked: number }
  /** Sequence number of the last monitor update issued (append-only, DESIGN.md rule 3). */
  monitorSeq: number
  /** Quiescence and splicing (protocol/channel/splice/state.ts); absent until the first stfu. */
  splice?: SpliceState
}

export const ZERO_SECRET = '00'.repeat(32)

/** The peer's parameters; throws (programmer error) in the one phase they are unknown. */
export function remoteParams (s: ChannelState | ChannelSetup): SideParams {
  const setup = 'setup' in s ? s.setup : s
  if (setup.remote === undefined) throw new Error('remote params unknown before accept_channel')
  return setup.remote
}

/** The funded channel's commitments; throws (programmer error) before funding. */
export function commits (s: ChannelState): { local: LocalCommit; remote: RemoteCommit; remoteNextPoint: string } {
  if (s.localCommit === undefined || s.remoteCommit === undefined || s.remoteNextPoint === undefined) {
    throw new Error(`no commitments yet in phase ${s.phase}`)
  }
  return { local: s.localCommit, remote: s.remoteCommit, remoteNextPoint: s.remoteNextPoint }
}
