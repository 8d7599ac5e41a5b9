// Plain data types for BOLT #3 transactions. A `Tx` is a serializable value (no class), so the
// channel state machine can keep and persist it; serialize.ts turns it into bytes, txids, sighashes.
import type { Msat, Sat, Txid } from '../types.ts'

/** The channel types this code builds (BOLT #2 `channel_type`). Both assume option_static_remotekey. */
export type ChannelType = 'static_remotekey' | 'anchors'

export interface Outpoint { readonly txid: Txid, readonly vout: number }

export interface TxInput {
  readonly txid: Txid
  readonly vout: number
  readonly sequence: number
  /** Empty for segwit inputs; used only by legacy (P2PKH) wallet inputs in a funding tx. */
  readonly scriptSig: Uint8Array
  /** Witness stack; empty until signed. */
  readonly witness: readonly Uint8Array[]
}

export interface TxOutput { readonly valueSat: Sat, readonly script: Uint8Array }

export interface Tx {
  readonly version: number
  readonly locktime: number
  readonly inputs: readonly TxInput[]
  readonly outputs: readonly TxOutput[]
}

/** The channel's funding output, as every commitment and closing tx spends it. */
export interface FundingOutput {
  readonly txid: Txid
  readonly vout: number
  readonly amountSat: Sat
  /** The 2-of-2 witness script (see fundingWitnessScript). */
  readonly witnessScript: Uint8Array
}

/** An HTLC as one commitment sees it, from the point of view of that commitment's holder. */
export interface CommitmentHtlc {
  /** 'offered': the holder offered it (holder → counterparty); 'received': the holder receives it. */
  readonly direction: 'offered' | 'received'
  /** The `update_add_htlc` id. Ids are unique per direction only. */
  readonly id: number
  readonly amountMsat: Msat
  readonly paymentHash: Uint8Array
  readonly cltvExpiry: number
}

/** Public basepoints a party announces in open_channel / accept_channel (33-byte compressed each). */
export interface ChannelBasepoints {
  readonly fundingPubkey: Uint8Array
  readonly revocationBasepoint: Uint8Array
  readonly paymentBasepoint: Uint8Array
  readonly delayedPaymentBasepoint: Uint8Array
  readonly htlcBasepoint: Uint8Array
}

/**
 * The keys of one commitment transaction, named as BOLT #3 names them from the point of view of the
 * commitment's holder ("local") and the other party ("remote"). See deriveCommitmentKeys.
 */
export interface CommitmentKeys {
  /** From the remote revocation_basepoint and the holder's per_commitment_point. */
  readonly revocationPubkey: Uint8Array
  /** From the holder's delayed_payment_basepoint. */
  readonly localDelayedPubkey: Uint8Array
  /** From the holder's htlc_basepoint. */
  readonly localHtlcPubkey: Uint8Array
  /** From the remote htlc_basepoint. */
  readonly remoteHtlcPubkey: Uint8Array
  /** option_static_remotekey: the remote payment_basepoint itself, untweaked. */
  readonly remotePaymentPubkey: Uint8Array
  readonly localFundingPubkey: Uint8Array
  readonly remoteFundingPubkey: Uint8Array
}

export interface CommitmentParams {
  readonly channelType: ChannelType
  readonly funding: FundingOutput
  /** Commitment number XOR obscuring factor (keys/obscuredCommitmentNumber). */
  readonly obscuredCommitmentNumber: number
  /** Does the holder of this commitment pay its fee (and both anchors)? True iff the holder opened. */
  readonly holderIsOpener: boolean
  /** The delay on the holder's to_local output: `to_self_delay` chosen by the OTHER party. */
  readonly toSelfDelay: number
  /** The holder's `dust_limit_satoshis`. */
  readonly dustLimitSat: Sat
  readonly feeratePerKw: number
  /** Holder's balance, with every HTLC amount already removed and before the fee. */
  readonly toLocalMsat: Msat
  /** The other party's balance, likewise. toLocal + toRemote + Σ htlcs = funding amount × 1000. */
  readonly toRemoteMsat: Msat
  readonly htlcs: readonly CommitmentHtlc[]
  readonly keys: CommitmentKeys
}

/** One untrimmed HTLC output, in commitment output order. */
export interface HtlcOutput {
  readonly htlc: CommitmentHtlc
  readonly vout: number
  readonly valueSat: Sat
  /** The offered/received HTLC witness script this P2WSH output commits to. */
  readonly witnessScript: Uint8Array
}

export type CommitmentOutput =
  | { readonly kind: 'to_local', readonly vout: number, readonly valueSat: Sat, readonly witnessScript: Uint8Array }
  /** static_remotekey: P2WPKH, witnessScript undefined; anchors: P2WSH with 1 CSV. */
  | { readonly kind: 'to_remote', readonly vout: number, readonly valueSat: Sat, readonly witnessScript: Uint8Array | undefined }
  | { readonly kind: 'local_anchor' | 'remote_anchor', readonly vout: number, readonly valueSat: Sat, readonly witnessScript: Uint8Array }
  | {
    readonly kind: 'htlc', readonly vout: number, readonly valueSat: Sat, readonly witnessScript: Uint8Array, readonly htlc: CommitmentHtlc,
  }

export interface Commitment {
  /** Unsigned (empty witness). Sign with signFundingSpend; assemble with finalizeFundingSpend. */
  readonly tx: Tx
  readonly txid: Txid
  /** Every output, index = vout. */
  readonly outputs: readonly CommitmentOutput[]
  /**
   * Untrimmed HTLC outputs in output order. This is the order of `htlc_signature` in
   * `commitment_signed` and of the txs buildHtlcTxs returns.
   */
  readonly htlcOutputs: readonly HtlcOutput[]
  /** HTLCs below the dust limit after second-stage fees: no output, their value goes to fees. */
  readonly trimmedHtlcs: readonly CommitmentHtlc[]
  /** BOLT #3 base fee (weight × feerate / 1000), before trimming adds to it. */
  readonly baseFeeSat: Sat
  /** Actual fee: funding amount − Σ outputs. */
  readonly feeSat: Sat
}

export type HtlcTxKind = 'htlc-success' | 'htlc-timeout'

/** A second-stage HTLC transaction spending one HTLC output of the holder's commitment. */
export interface HtlcTx {
  readonly kind: HtlcTxKind
  readonly channelType: ChannelType
  /** Unsigned. */
  readonly tx: Tx
  /** The commitment output it spends. */
  readonly spends: HtlcOutput
  /** Witness script of its single output (revocation / delayed, like to_local). */
  readonly outputWitnessScript: Uint8Array
}

/** Which side's signature: the commitment holder's or the other party's. */
export type Signer = 'holder' | 'counterparty'
