// The chain monitor's state: plain JSON data (DESIGN.md rule 3: a monitor alone, fed the channel's
// numbered updates and the chain's blocks, recovers every satoshi — this is what a watchtower runs).
// Private keys are never in it: they come in with each step (MonitorKeys), like the channel's signer.
import type { ChannelSetup, CommitmentSpec, Htlc } from '../channel/state.ts'
import { DEFAULT_FINALITY_DEPTH } from '../limits.ts'
import type { ShachainJson } from '../keys/index.ts'

export interface MonitorConfig {
  /** Confirmations before a decision goes outward (an HTLC failed upstream, the channel closed).
   *  Claims are broadcast at one confirmation (a penalty is a race) and rebuilt after a reorg. */
  depth: number
  /** Fee rate of claim transactions (config: btcd has no fee estimation). */
  feeratePerKw: number
  /** Claims are never bumped above this. */
  maxFeeratePerKw: number
  /** An unconfirmed claim is replaced (BIP125) at a higher fee rate every this many blocks. */
  bumpEveryBlocks: number
  /** Where every claim pays: the owner's wallet (hex output script). */
  sweepScript: string
  /** Blocks after an offered HTLC's cltv_expiry before we go on-chain to time it out. */
  offeredGraceBlocks: number
  /** Go on-chain when an incoming HTLC we hold the preimage for is this close to its cltv_expiry. */
  fulfillSafetyBlocks: number
}

/** Our commitment with the peer's signatures (from a `local_commitment` update). */
export interface LocalCommitRecord {
  number: number
  perCommitmentPoint: string
  spec: CommitmentSpec
  signature: string
  htlcSignatures: string[]
}

/** A commitment we signed for the peer. Revoked ones keep only what a penalty needs: their HTLCs
 *  (their outputs cannot be found without the payment hashes); the point comes from the secret. */
export interface RemoteCommitRecord {
  number: number
  perCommitmentPoint: string
  htlcs: Htlc[]
}

/** A confirmed transaction that spends the funding output or an output of another such tx. */
export interface SeenTx {
  txid: string
  height: number
  blockHash: string
  /** 0: spends the funding output; 1: spends a commitment output; 2: spends a second-stage output. */
  stage: number
  locktime: number
  inputs: Array<{ txid: string; vout: number; sequence: number; witness: string[] }>
  outputs: Array<{ valueSat: number; script: string }>
}

/** The peer's signatures on our commitment `number` spending a splice candidate's output. */
export interface CandidateSigs {
  number: number
  signature: string
  htlcSignatures: string[]
}

/** A splice transaction negotiated for this channel and not locked (from `splice_candidate`): it
 *  spends the funding output and creates a candidate for the next one. Our commitments on it are
 *  `local` and `previousLocal` moved by the contributions (protocol/channel/splice/state.ts
 *  candidateSpec), signed by the peer with `sigs`. */
export interface SpliceCandidateRecord {
  txid: string
  outputIndex: number
  capacitySat: number
  fundingPubkey: { local: string; remote: string }
  /** What each side added to (+) or took from (−) its balance. */
  contributionSat: { local: number; remote: number }
  /** The peer's signatures on our commitments spending this candidate, oldest first: those of the
   *  numbers of `local` and `previousLocal`. */
  sigs: CandidateSigs[]
  /** The complete transaction (hex), once both tx_signatures were exchanged (`splice_signed`). */
  tx?: string
  /** The block that confirmed the splice transaction; height 0 while unconfirmed. */
  height: number
  blockHash: string
}

/** A funding output that a locked splice spent. Kept, with our commitments on it, until the splice
 *  transaction is `depth` deep: a reorg of that depth could still confirm a commitment spending it. */
export interface SplicedFunding {
  txid: string
  outputIndex: number
  capacitySat: number
  fundingPubkey: { local: string; remote: string }
  /** The splice transaction that spent it. */
  splicedBy: string
  local?: LocalCommitRecord
  previousLocal?: LocalCommitRecord
}

/** Splicing as the monitor sees it (protocol/monitor/splice.ts). */
export interface MonitorSplices {
  /** The splice and its RBF replacements, oldest first: each double-spends the funding output. */
  candidates: SpliceCandidateRecord[]
  /** Older funding outputs, oldest first. */
  spliced: SplicedFunding[]
}

export interface MonitorState {
  version: 1
  channelId: string
  config: MonitorConfig
  /** Highest update applied; updates are append-only and applied once, in order. */
  lastSeq: number
  setup?: ChannelSetup
  local?: LocalCommitRecord
  /** The local commitment before `local`: recognised if it confirms (a race with a newer one). */
  previousLocal?: LocalCommitRecord
  /** The peer's unrevoked commitments and its revoked ones that held HTLCs, by number. */
  remotes: RemoteCommitRecord[]
  /** Every revocation secret the peer gave us (BOLT #3 compact store). */
  secrets: ShachainJson
  /** Highest revoked commitment number of the peer; -1 before any. */
  revokedUpTo: number
  preimages: Record<string, string>
  /** Data-loss protection: we are behind; never broadcast our commitment. */
  doNotBroadcast: boolean
  /** Why we are closing with our commitment, once decided. */
  forceClose?: { reason: string; height: number }
  /** The last block processed. */
  height: number
  tipHash: string
  /** The funding tx's confirmation height, 0 while unconfirmed. */
  fundingHeight: number
  /** Splice candidates of the funding output and older funding outputs; absent on a channel that
   *  never spliced. */
  splice?: MonitorSplices
  seen: SeenTx[]
  /** Height at which each wanted broadcast was first wanted: the fee bump clock. */
  firstWanted: Record<string, number>
  /** Decisions already reported (preimages, HTLC outcomes, closed), so each is reported once. */
  reported: string[]
  /** Outpoints whose spend matters, as of the last step ("txid:vout"). */
  watching?: string[]
  closed: boolean
}

export const DEFAULT_MONITOR_CONFIG: Omit<MonitorConfig, 'sweepScript'> = {
  depth: DEFAULT_FINALITY_DEPTH,
  feeratePerKw: 2500,
  maxFeeratePerKw: 50_000,
  bumpEveryBlocks: 1,
  // BOLT #2 (cltv_expiry_delta): the timeout deadline is "cltv_expiry + G", G the grace; LDK and LND
  // go on-chain a few blocks after expiry. Ours is small: the hub's own delta covers the race.
  offeredGraceBlocks: 1,
  // BOLT #2: the fulfillment deadline is "cltv_expiry - R": enough blocks to confirm the commitment
  // and the HTLC-success tx before the peer can time the HTLC out.
  fulfillSafetyBlocks: 6,
}

export function newMonitor (
  channelId: string, config: Partial<MonitorConfig> & { sweepScript: string }, height = 0, tipHash = '',
): MonitorState {
  return {
    version: 1,
    channelId,
    config: { ...DEFAULT_MONITOR_CONFIG, ...config },
    lastSeq: 0,
    remotes: [],
    secrets: { lastIndex: null, known: [] },
    revokedUpTo: -1,
    preimages: {},
    doNotBroadcast: false,
    height,
    tipHash,
    fundingHeight: 0,
    seen: [],
    firstWanted: {},
    reported: [],
    closed: false,
  }
}
