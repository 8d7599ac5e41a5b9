// The data of one interactive transaction construction (BOLT #2 "Interactive Transaction
// Construction"): what both sides agreed before it started, what each has added so far, and whose
// turn it is. Plain JSON-serialisable values: a channel stores a finished negotiation with its state.
import type { Sat, Txid } from '../types.ts'

export type Side = 'local' | 'remote'

/** BOLT #2: "The *initiator* is the peer which initiates the protocol" (for a splice: the sender of
 *  splice_init or tx_init_rbf). It sends the first message, even serial ids, and pays for the common
 *  fields; the non-initiator odd serial ids. */
export type Role = 'initiator' | 'non_initiator'

/** The input both sides own: a splice's current funding output. Its value counts for neither side's
 *  fee: each side's share of it comes back in its share of the shared output. */
export interface SharedInput { txid: Txid; vout: number; valueSat: Sat; script: string }
/** The output both sides own: the new funding output, of exactly this amount. */
export interface SharedOutput { script: string; valueSat: Sat }

/** What both sides agreed before the first tx_add_input (splice_init/ack, tx_init_rbf/ack_rbf). */
export interface NegotiationParams {
  role: Role
  /** BOLT #2: "The `feerate` for the transaction is known." */
  feeratePerKw: number
  /** "The `nLocktime` for the transaction is known." */
  locktime: number
  /** "The `dust_limit` for the transaction is known": no output below it. */
  dustLimitSat: Sat
  /** Added by the initiator with tx_add_input `shared_input_txid` (a splice spends the funding output). */
  sharedInput?: SharedInput
  /** Added by the initiator with tx_add_output. */
  sharedOutput: SharedOutput
  /** What each side adds to (positive) or takes from (negative) its balance in the shared output. */
  contributionSat: Record<Side, number>
  /** A batched settlement's session (batch.ts): the payout the initiator adds on the non-initiator's
   *  behalf. Absent in an ordinary splice. */
  batch?: BatchTerms
}

/** The non-initiator's terms in a batched settlement (docs/DESIGN.md "Batched settlement"), agreed
 *  before splice_ack: the initiator adds an output paying `payoutSat` to `payoutScript` with serial id
 *  `payoutSerialId`, and the non-initiator's contribution is −(payoutSat + its fee share). */
export interface BatchTerms { payoutSerialId: number; payoutScript: string; payoutSat: Sat }

/** One of our wallet inputs, as the host gives it: the whole previous transaction (BOLT #2 sends it,
 *  so the peer can check the output is segwit) and the output it spends. */
export interface OwnInput { prevtx: string; prevtxVout: number; sequence: number }
export interface OwnOutput { script: string; sats: Sat }

/** What we add to the transaction besides the shared input and output. `entropy` (32 bytes of hex
 *  from the host) chooses our serial ids: BOLT #2 "`serial_id` is a randomly chosen number". */
export interface OwnContribution {
  inputs: OwnInput[]
  outputs: OwnOutput[]
  entropy: string
  /** The initiator of a batched settlement numbers everything in the planned order, so every session
   *  builds the same transaction (protocol/settlement/build.ts); absent: random ids from `entropy`. */
  serialIds?: { sharedInput: number; sharedOutput: number; inputs: number[]; outputs: number[] }
}

export interface InputEntry {
  serialId: number
  /** Who sent the tx_add_input. */
  by: Side
  shared: boolean
  txid: Txid
  vout: number
  sequence: number
  /** The spent output, from `prevtx` (or the shared input). */
  valueSat: Sat
  script: string
  /** Absent for the shared input (BOLT `prevtx_len` 0). */
  prevtx?: string
}

export interface OutputEntry {
  serialId: number
  by: Side
  shared: boolean
  sats: Sat
  script: string
}

/** A message we still have to send, in the order we send them. */
export type Queued = { kind: 'input'; entry: InputEntry } | { kind: 'output'; entry: OutputEntry }

export interface Negotiation {
  params: NegotiationParams
  inputs: InputEntry[]
  outputs: OutputEntry[]
  queue: Queued[]
  /** tx_add_input / tx_add_output messages received (BOLT #2: at most 4096 each). */
  received: { inputs: number; outputs: number }
  /** Our last message was tx_complete (an add or remove since then makes it count no more). */
  sentComplete: boolean
  /** Both sides sent consecutive tx_complete: the transaction is final. */
  done: boolean
}
