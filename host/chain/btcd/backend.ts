// ChainBackend over btcd: lookups and broadcast through BtcdRpc, chain changes from btcd's /ws
// notifications (with a slow poll as a safety net), replayed to each follower in order.
import { Transaction, opcodes } from 'bitcoinjs-lib'
import type { Height, Txid } from '../../../protocol/types.ts'
import { err, ok, type Result } from '../../../protocol/result.ts'
import type {
  BlockRef, BroadcastFailure, ChainBackend, ChainBlock, ChainFailure, ChainListener, ChainTx, FollowOptions, RegtestControl, TxLookup,
  TxOutInfo
} from '../backend.ts'
import { BtcdRpc, type RpcConfig, type RpcRefusal } from './rpc.ts'
import { BtcdBlockNotifier } from './ws.ts'
import * as S from './schemas.ts'
import { ChainFollower, type FollowerOptions } from '../follower.ts'
import { mapRejectReason } from '../reject.ts'
import { parseChainTx } from '../tx.ts'
import { buildBlock } from './block-builder.ts'
import type { BlockKeeping } from './block-keeper.ts'

/** btcd answers -5 (ErrRPCNoTxInfo / ErrRPCBlockNotFound) for an unknown transaction or block. */
const RPC_NOT_FOUND = -5
/** btcd answers -1 (ErrRPCOutOfRange) for getblockhash above the tip. */
const RPC_OUT_OF_RANGE = -1
/** Blocks are immutable by hash; followers of the same chain fetch the same ones. */
const BLOCK_CACHE_SIZE = 64
/** Safety-net poll when a /ws notification is lost; /ws normally wakes followers first. */
const DEFAULT_POLL_MS = 2000

export interface BtcdBackendConfig extends RpcConfig {
  /** Follow chain changes over /ws (default true). Polling continues either way. */
  notifications?: boolean
  /** 0 turns polling off. */
  pollMs?: number
  /** Where submitBlock pays its subsidy by default (test-only). Default: a bare OP_TRUE. */
  miningScript?: Uint8Array
  /** A listener threw during a background sync (a programmer error). Default: console.error. */
  onListenerError?: (e: unknown) => void
  /** The managed node's block archive (node.ts keepBlocks): getBlock hands a block out only once
   *  it is kept, so nothing acts on a block that a restart of the node would not bring back. */
  keeper?: BlockKeeping
}

/** Decoded confirmed transactions kept (a few: a large batch transaction is big in memory too). */
const CONFIRMED_TXS_KEPT = 8

export class BtcdChainBackend implements ChainBackend, RegtestControl {
  readonly rpc: BtcdRpc
  private readonly notifier: BtcdBlockNotifier | null
  private readonly followers = new Set<ChainFollower>()
  private readonly blocks = new Map<string, ChainBlock>()
  /** Confirmed transactions already decoded, by txid (see getRawTransaction). */
  private readonly confirmedTxs = new Map<string, { tx: ChainTx; block: BlockRef }>()
  private readonly poll: NodeJS.Timeout | null
  private extraNonce = Math.floor(Math.random() * 0xffffffff)

  constructor (private readonly config: BtcdBackendConfig) {
    this.rpc = new BtcdRpc(config)
    this.notifier = config.notifications === false ? null : new BtcdBlockNotifier(config, () => this.wake())
    this.notifier?.start()
    const pollMs = config.pollMs ?? DEFAULT_POLL_MS
    this.poll = pollMs > 0 ? setInterval(() => this.wake(), pollMs) : null
    this.poll?.unref()
  }

  // ---- lookups ---------------------------------------------------------------------------------

  async tip (): Promise<Result<BlockRef, ChainFailure>> {
    const r = await this.rpc.request('getbestblock', [], S.bestBlockSchema, { idempotent: true })
    return r.ok ? ok({ height: r.value.height as Height, hash: r.value.hash }) : r
  }

  async getBlockHash (height: number): Promise<Result<string | null, ChainFailure>> {
    const r = await this.rpc.call('getblockhash', [height], S.blockHashSchema, { idempotent: true })
    if (!r.ok) return r
    if ('refused' in r.value) return notFoundOr(r.value.refused, 'getblockhash', RPC_OUT_OF_RANGE)
    return ok(r.value.result)
  }

  async getBlock (at: number | string): Promise<Result<ChainBlock | null, ChainFailure>> {
    let hash: string
    if (typeof at === 'number') {
      const h = await this.getBlockHash(at)
      if (!h.ok || h.value === null) return h as Result<null, ChainFailure>
      hash = h.value
    } else {
      hash = at
    }
    const cached = this.blocks.get(hash)
    if (cached !== undefined) return ok(cached)
    const r = await this.rpc.call('getblock', [hash, 2], S.verboseBlockSchema, { idempotent: true })
    if (!r.ok) return r
    if ('refused' in r.value) return notFoundOr(r.value.refused, 'getblock', RPC_NOT_FOUND)
    const b = r.value.result
    if (b.hash !== hash) return err({ kind: 'bad_reply', detail: `getblock.result.hash: asked for ${hash}, got ${b.hash}` })
    const txs = []
    for (const [i, raw] of b.rawtx.entries()) {
      const tx = parseChainTx(raw.hex)
      if (typeof tx === 'string') return err({ kind: 'bad_reply', detail: `getblock.result.rawtx.${i}.hex: ${tx}` })
      if (tx.txid !== raw.txid) return err({ kind: 'bad_reply', detail: `getblock.result.rawtx.${i}.txid: does not match its hex` })
      txs.push(tx)
    }
    const block: ChainBlock = { hash, height: b.height as Height, prevHash: b.previousblockhash ?? '0'.repeat(64), time: b.time, txs }
    if (this.config.keeper !== undefined) {
      const kept = await this.config.keeper.keep(hash)
      if (!kept.ok) return kept
    }
    this.blocks.set(hash, block)
    if (this.blocks.size > BLOCK_CACHE_SIZE) this.blocks.delete(this.blocks.keys().next().value as string)
    return ok(block)
  }

  /** A confirmed transaction looked up again (a batch funding transaction is asked for once per
   *  channel it funds; btcd answers getrawtransaction with every output decoded, hundreds of KB for a
   *  large batch) costs one getblockheader: it says whether the block is still in the main chain
   *  (btcd refuses a hash outside it) and how deep it is now. */
  async getRawTransaction (txid: string): Promise<Result<TxLookup | null, ChainFailure>> {
    const known = this.confirmedTxs.get(txid)
    if (known !== undefined) {
      const h = await this.rpc.call('getblockheader', [known.block.hash, true], S.blockHeaderSchema, { idempotent: true })
      if (!h.ok) return h
      if (!('refused' in h.value) && h.value.result.confirmations >= 1 && h.value.result.height === known.block.height) {
        return ok({ tx: known.tx, confirmations: h.value.result.confirmations, block: known.block })
      }
      this.confirmedTxs.delete(txid) // reorganised away: ask the node again
    }
    const r = await this.rpc.call('getrawtransaction', [txid, 1], S.rawTransactionSchema, { idempotent: true })
    if (!r.ok) return r
    if ('refused' in r.value) return notFoundOr(r.value.refused, 'getrawtransaction', RPC_NOT_FOUND)
    const raw = r.value.result
    const tx = parseChainTx(raw.hex)
    if (typeof tx === 'string') return err({ kind: 'bad_reply', detail: `getrawtransaction.result.hex: ${tx}` })
    if (tx.txid !== txid) return err({ kind: 'bad_reply', detail: `getrawtransaction.result.hex: is not transaction ${txid}` })
    const confirmations = raw.confirmations ?? 0
    if (raw.blockhash === undefined || confirmations === 0) return ok({ tx, confirmations: 0 })
    const h = await this.rpc.call('getblockheader', [raw.blockhash, true], S.blockHeaderSchema, { idempotent: true })
    if (!h.ok) return h
    if ('refused' in h.value) return err({
      kind: 'rpc_error', code: h.value.refused.code, detail: `getblockheader: ${h.value.refused.message}`,
    })
    const block = { height: h.value.result.height as Height, hash: raw.blockhash }
    if (this.confirmedTxs.size >= CONFIRMED_TXS_KEPT) this.confirmedTxs.delete(this.confirmedTxs.keys().next().value!)
    this.confirmedTxs.set(txid, { tx, block })
    return ok({ tx, confirmations, block })
  }

  async getTxOut (txid: string, vout: number, includeMempool = true): Promise<Result<TxOutInfo | null, ChainFailure>> {
    const r = await this.rpc.request('gettxout', [txid, vout, includeMempool], S.txOutSchema, { idempotent: true })
    if (!r.ok) return r
    if (r.value === null) return ok(null)
    const v = r.value
    return ok({
      value: Math.round(v.value * 1e8) as TxOutInfo['value'], scriptPubKey: v.scriptPubKey.hex, confirmations: v.confirmations,
      coinbase: v.coinbase,
    })
  }

  async broadcast (txHex: string): Promise<Result<Txid, BroadcastFailure>> {
    // Not retried after a timeout: a second attempt would answer "already in mempool" for a success.
    const r = await this.rpc.call('sendrawtransaction', [txHex], S.txidSchema, { idempotent: false })
    if (!r.ok) return r
    if ('refused' in r.value) {
      const { code, message } = r.value.refused
      return err({ kind: 'rejected', reason: mapRejectReason(code, message), detail: message })
    }
    return ok(r.value.result as Txid)
  }

  // ---- following the chain ---------------------------------------------------------------------

  async follow (listener: ChainListener, opts: FollowOptions = {}): Promise<Result<() => void, ChainFailure>> {
    const fopts: FollowerOptions = {}
    if (opts.maxReorgDepth !== undefined) fopts.maxReorgDepth = opts.maxReorgDepth
    if (opts.guard !== undefined) fopts.guard = opts.guard
    const f = new ChainFollower(this, listener, fopts)
    const init = await f.init(opts.known)
    if (!init.ok) return init
    this.followers.add(f)
    const first = await f.sync()
    if (!first.ok) { this.followers.delete(f); return first }
    return ok(() => { f.stop(); this.followers.delete(f) })
  }

  /**
   * Brings every follower up to the node's current chain and waits for their listeners: tests call
   * it after mining instead of sleeping.
   */
  async syncFollowers (): Promise<Result<void, ChainFailure>> {
    for (const f of [...this.followers]) {
      const r = await f.sync()
      if (!r.ok) return r
      if (f.isStopped) this.followers.delete(f)
    }
    return ok(undefined)
  }

  /** Whether the /ws connection is up (for status output and tests). */
  get notificationsConnected (): boolean { return this.notifier?.connected ?? false }

  async close (): Promise<void> {
    if (this.poll !== null) clearInterval(this.poll)
    this.notifier?.close()
    for (const f of this.followers) f.stop()
    this.followers.clear()
    this.rpc.close()
  }

  private wake (): void {
    for (const f of [...this.followers]) {
      if (f.isStopped) { this.followers.delete(f); continue }
      // A failed sync (node unreachable) is retried at the next wake; a listener throwing is a bug.
      f.sync().catch(e => (this.config.onListenerError ?? console.error)(e))
    }
  }

  // ---- regtest controls (tests only) -----------------------------------------------------------

  async generate (n: number): Promise<Result<string[], ChainFailure>> {
    const r = await this.rpc.request('generate', [n], S.generateSchema, { idempotent: false })
    if (!r.ok || r.value.length === 0) return r
    const kept = await this.kept(r.value[r.value.length - 1]!)
    return kept.ok ? r : kept
  }

  async submitBlock (txHexes: string[], opts: { coinbaseScript?: Uint8Array } = {}): Promise<Result<string,
  ChainFailure | { kind: 'block_rejected'; detail: string }>> {
    const tip = await this.tip()
    if (!tip.ok) return tip
    const hdr = await this.rpc.request('getblockheader', [tip.value.hash, true], S.blockHeaderWithBitsSchema, { idempotent: true })
    if (!hdr.ok) return hdr
    const block = buildBlock({
      prevHash: tip.value.hash,
      height: tip.value.height + 1,
      time: Math.max(Math.floor(Date.now() / 1000), hdr.value.time + 1),
      bits: parseInt(hdr.value.bits, 16),
      txs: txHexes.map(h => Transaction.fromHex(h)),
      coinbaseScript: opts.coinbaseScript ?? this.config.miningScript ?? Uint8Array.of(opcodes.OP_TRUE),
      extraNonce: this.extraNonce++
    })
    const r = await this.rpc.request('submitblock', [block.toHex()], S.submitBlockSchema, { idempotent: false })
    if (!r.ok) return r
    if (r.value !== null) return err({ kind: 'block_rejected', detail: r.value })
    const kept = await this.kept(block.getId())
    return kept.ok ? ok(block.getId()) : kept
  }

  /** A block we mined is reported once the keeper (if any) holds it, and so every block below it. */
  private async kept (hash: string): Promise<Result<void, ChainFailure>> {
    return this.config.keeper === undefined ? ok(undefined) : await this.config.keeper.keep(hash)
  }

  async invalidateBlock (hash: string): Promise<Result<void, ChainFailure>> {
    const r = await this.rpc.request('invalidateblock', [hash], S.nullSchema, { idempotent: false })
    return r.ok ? ok(undefined) : r
  }

  async reconsiderBlock (hash: string): Promise<Result<void, ChainFailure>> {
    const r = await this.rpc.request('reconsiderblock', [hash], S.nullSchema, { idempotent: false })
    return r.ok ? ok(undefined) : r
  }
}

function notFoundOr (refusal: RpcRefusal, method: string, notFoundCode: number): Result<null, ChainFailure> {
  if (refusal.code === notFoundCode) return ok(null)
  return err({ kind: 'rpc_error', code: refusal.code, detail: `${method}: ${refusal.message}` })
}
