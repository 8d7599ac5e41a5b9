// ChainBackend: the one way the hub (and, through the same shape, the SDK) sees the chain
// (DESIGN.md, "The chain"). btcd is the first implementation (btcd/backend.ts); Bitcoin Core or an
// Esplora server can be added beside it without touching protocol code.
//
// Every method returns a Result: a node that is down, busy or answering nonsense is an outcome the
// caller must decide about (retry later, or stop), not an exception (DESIGN.md rule 5).
import type { Result } from '../../protocol/result.ts'
import type { Height, Sat, Txid } from '../../protocol/types.ts'

/** Why a chain request failed. Each kind says what the caller should do next. */
export type ChainFailure =
  /** Node unreachable, too busy or too slow, even after the retries that were safe: try again later. */
  | { kind: 'unavailable'; detail: string }
  /** The reply did not match its schema (detail names the field): the node is not what we expect. */
  | { kind: 'bad_reply'; detail: string }
  /** The node refused the request itself (bad parameters, wrong credentials, unknown method). */
  | { kind: 'rpc_error'; code: number; detail: string }

/** Why a node refused to relay a transaction (closed set, mapped from btcd's reject strings in reject.ts). */
export type RejectReason =
  | 'missing_inputs'          // an input does not exist or is already spent in the chain
  | 'already_in_mempool'      // this very transaction is already in the mempool
  | 'already_in_chain'        // this very transaction is already confirmed (outputs still unspent)
  | 'sequence_locks_not_met'  // a BIP68 relative lock (CSV) on an input has not expired yet
  | 'non_final'               // nLockTime (BIP65/CLTV) is still in the future
  | 'insufficient_fee'        // below the node's minimum relay fee
  | 'conflict'                // spends an output a mempool transaction already spends (no or failed RBF)
  | 'other'

export type BroadcastFailure = ChainFailure | { kind: 'rejected'; reason: RejectReason; detail: string }

/** The chain under us vanished (scenario 12): fatal, the host stops loudly and treats nothing more as final. */
export interface ChainWiped { kind: 'chain_wiped'; detail: string }

export interface BlockRef { height: Height; hash: string }

export interface ChainTxInput {
  txid: Txid
  vout: number
  sequence: number
  /** Hex. */
  scriptSig: string
  /** Hex items. */
  witness: string[]
}
export interface ChainTxOutput { value: Sat; /** Hex. */ scriptPubKey: string }
export interface ChainTx {
  txid: Txid
  /** Full serialization with witnesses, hex. */
  hex: string
  version: number
  locktime: number
  inputs: ChainTxInput[]
  outputs: ChainTxOutput[]
}
export interface ChainBlock extends BlockRef {
  /** All zeros for the genesis block. */
  prevHash: string
  /** Header timestamp, seconds. */
  time: number
  /** In block order; the coinbase first. */
  txs: ChainTx[]
}

export interface TxLookup {
  tx: ChainTx
  /** 0 while in the mempool. */
  confirmations: number
  /** Set when confirmed in the main chain. */
  block?: BlockRef
}

export interface TxOutInfo {
  value: Sat
  scriptPubKey: string
  /** 0 for an output of a mempool transaction. */
  confirmations: number
  coinbase: boolean
}

/**
 * Receives the main chain's changes in order. A reorg arrives as disconnects of the stale blocks
 * (highest first) followed by connects of the new ones (lowest first). Each call is awaited before
 * the next, so a listener may persist before it returns.
 */
export interface ChainListener {
  connected? (block: ChainBlock): void | Promise<void>
  disconnected? (block: BlockRef): void | Promise<void>
  /**
   * After a batch of connects/disconnects (one reconciliation with the node): a good point to
   * persist. A listener restored from an older snapshot just receives those blocks again.
   */
  synced? (tip: BlockRef): void | Promise<void>
  /** The chain we followed is gone (regtest restart, or a reorg deeper than allowed). No more events. */
  fatal? (error: ChainWiped): void | Promise<void>
}

export interface FollowOptions {
  /**
   * The listener's own view of recent main-chain blocks (any order), e.g. restored from its store.
   * Events start after the highest of them, after undoing any that are no longer in the chain.
   * Empty: start at the current tip, without replaying history.
   */
  known?: BlockRef[]
  /** Disconnecting more blocks than this at once is treated as a wiped chain. Default 100. */
  maxReorgDepth?: number
  /**
   * Asked before any block is disconnected (e.g. ChainWipeDetector.check). A ChainWiped stops the
   * follower with `fatal` instead of delivering the disconnects: a wiped chain must stop the host,
   * not be undone. A failure postpones the sync.
   */
  guard?: () => Promise<Result<ChainWiped | null, ChainFailure>>
}

export interface ChainBackend {
  tip (): Promise<Result<BlockRef, ChainFailure>>
  /** null: no block at that height in the main chain. */
  getBlockHash (height: number): Promise<Result<string | null, ChainFailure>>
  /** By height (main chain) or hash (any known block). null: unknown. */
  getBlock (at: number | string): Promise<Result<ChainBlock | null, ChainFailure>>
  /** Mempool or confirmed. null: the node knows no such transaction. */
  getRawTransaction (txid: string): Promise<Result<TxLookup | null, ChainFailure>>
  /** An unspent output. null: spent or never existed. includeMempool (default true) sees mempool spends/outputs. */
  getTxOut (txid: string, vout: number, includeMempool?: boolean): Promise<Result<TxOutInfo | null, ChainFailure>>
  broadcast (txHex: string): Promise<Result<Txid, BroadcastFailure>>
  /**
   * Follows the main chain from `opts.known` (or the tip) and calls `listener` for every change,
   * in order. Returns a function that stops following.
   */
  follow (listener: ChainListener, opts?: FollowOptions): Promise<Result<() => void, ChainFailure>>
  close (): Promise<void>
}

/** Test-only controls of a regtest node (never used by the hub in production). */
export interface RegtestControl {
  /** Mines n blocks to the node's mining address; returns their hashes. */
  generate (n: number): Promise<Result<string[], ChainFailure>>
  /** Mines one block on the tip holding exactly these transactions (after the coinbase). */
  submitBlock (txHexes: string[], opts?: { coinbaseScript?: Uint8Array }): Promise<Result<string,
  ChainFailure | { kind: 'block_rejected'; detail: string }>>
  invalidateBlock (hash: string): Promise<Result<void, ChainFailure>>
  reconsiderBlock (hash: string): Promise<Result<void, ChainFailure>>
}
