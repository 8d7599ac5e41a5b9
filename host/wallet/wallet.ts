// The hub's on-chain wallet: P2WPKH coins found in connected blocks (undone on disconnect), coin
// selection at a configured fee rate (btcd has no estimatesmartfee), signing, broadcast, and a stop
// on a wiped chain (scenario 12). Its seed and state are kept by its storage (storage.ts; files in a
// data directory in Node, host/wallet/node/file-storage.ts), the state saved after every change.
import { Psbt, address as baddress, networks } from 'bitcoinjs-lib'
import { DEFAULT_FINALITY_DEPTH } from '../../protocol/limits.ts'
import type { Sat, Txid } from '../../protocol/types.ts'
import { bytesToHex, hexToBytes } from '../../protocol/types.ts'
import { p2pkh } from '../../protocol/tx/script.ts'
import { SIGHASH_ALL, parseTx, witnessV0Sighash } from '../../protocol/tx/serialize.ts'
import { witnessSig } from '../../protocol/tx/sign.ts'
import type { BlockRef, BroadcastFailure, ChainBackend, ChainBlock, ChainFailure, ChainWiped } from '../chain/backend.ts'
import { err, ok, type Result } from '../../protocol/result.ts'
import { broadcastTx } from '../chain/broadcast.ts'
import { ChainWipeDetector } from '../chain/chain-wipe.ts'
import { recentHeaders } from '../chain/follower.ts'
import { dustThreshold, selectCoins } from './coin-select.ts'
import { WalletKeys, newSeed, type KeyChain, type SeedError } from './keys.ts'
import { emptyState, parseWalletState, type PendingTx, type Utxo, type WalletState } from './state.ts'
import type { WalletStorage } from './storage.ts'

/** Consensus: a coinbase output can be spent only 100 blocks after it (chaincfg CoinbaseMaturity). */
export const COINBASE_MATURITY = 100
/** Blocks before a block or transaction counts as final for chain-wipe detection. */
export { DEFAULT_FINALITY_DEPTH } from '../../protocol/limits.ts'
/** Addresses watched beyond the last one used (BIP44 gap limit). */
const LOOKAHEAD = 20
/** Undo records and headers kept: more than the follower's deepest reorg (100). */
const HISTORY = 150
/** BIP125: a sequence below 0xfffffffe signals replaceability, so a stuck send can be fee-bumped. */
const RBF_SEQUENCE = 0xfffffffd

export interface WalletOptions {
  /** Where the seed and the state are kept. */
  storage: WalletStorage
  chain: ChainBackend
  /** sat/vB, from config. */
  feeRate: number
  finalityDepth?: number
  /** Called once when the chain under the wallet vanished. The host stops loudly. */
  onFatal?: (e: ChainWiped) => void | Promise<void>
}

export type WalletError =
  | { kind: 'insufficient_funds'; needed: Sat; available: Sat }
  | { kind: 'invalid_output'; detail: string }
  | { kind: 'chain_wiped'; detail: string }
  | { kind: 'broadcast_failed'; failure: BroadcastFailure }

export type OpenError = SeedError | { kind: 'state_unreadable'; detail: string } | { kind: 'chain_wiped'; detail: string } | ChainFailure

export interface Payment { value: number; address?: string; script?: Uint8Array }

/** An input of a transaction built with a peer (a splice) that we are asked to sign: the coin it spends. */
export interface InputToSign { index: number; txid: Txid; vout: number; valueSat: Sat; script: string }
/** Why the wallet would not sign an input of a transaction built with a peer. */
export interface SignRefusal { kind: 'not_our_input'; detail: string }

export interface BuiltTx { txid: Txid; hex: string; fee: Sat; vsize: number; inputs: Utxo[]; changeVout: number | null }

export interface Balance {
  /** Confirmed, mature and not locked by one of our unconfirmed transactions. */
  spendable: Sat
  /** Coinbase outputs not yet COINBASE_MATURITY deep. */
  immature: Sat
  /** Spent by our unconfirmed transactions. */
  locked: Sat
  /** spendable + immature + locked */
  total: Sat
}

export class Wallet {
  private readonly scripts = new Map<string, { chain: KeyChain; index: number }>()
  /** Coins set aside for a transaction being negotiated with a peer (a splice), by owner: kept in
   *  memory only, since a negotiation does not survive a restart either; once the transaction is
   *  complete and we sign it, its inputs are locked durably (signInputs). */
  private readonly reserved = new Map<string, string[]>()
  private stopFollowing: (() => void) | null = null
  private readonly detector: ChainWipeDetector
  private readonly finality: number

  private constructor (private readonly opts: WalletOptions, private readonly keys: WalletKeys, private state: WalletState) {
    this.finality = opts.finalityDepth ?? DEFAULT_FINALITY_DEPTH
    this.detector = new ChainWipeDetector(opts.chain)
    for (const cp of state.finality.checkpoints) this.detector.addCheckpoint(cp)
    for (const txid of state.finality.finalTxids) this.detector.addFinalTx(txid)
    this.watchUpTo(0, state.next.receive + LOOKAHEAD)
    this.watchUpTo(1, state.next.change + LOOKAHEAD)
  }

  /** Opens (or creates) the wallet in its storage and starts following the chain from where it left off. */
  static async open (opts: WalletOptions): Promise<Result<Wallet, OpenError>> {
    const seed = opts.storage.seed(newSeed)
    if (!seed.ok) return err(seed.error)
    const read = opts.storage.readState()
    const loaded = read.ok ? parseWalletState(read.json, opts.storage.stateName) : read
    if (!loaded.ok) return err({ kind: 'state_unreadable', detail: loaded.detail })
    const state = loaded.state ?? emptyState()
    if (state.wiped !== null) return err({ kind: 'chain_wiped', detail: state.wiped })
    if (state.headers.length === 0) {
      // A new wallet has no history: it starts at the current tip (saved at once, so blocks mined
      // before its first one are still seen after a crash).
      const recent = await recentHeaders(opts.chain)
      if (!recent.ok) return recent
      state.headers = recent.value
    }
    const w = new Wallet(opts, new WalletKeys(seed.seed), state)
    w.save()
    const stop = await opts.chain.follow({
      connected: b => w.onConnected(b),
      disconnected: b => w.onDisconnected(b),
      // One save per batch of blocks: the state (coins and headers together) is always a consistent
      // snapshot, and blocks after an older snapshot are simply delivered again on reopen.
      synced: () => w.save(),
      fatal: e => w.onFatal(e)
    }, { known: state.headers, guard: async () => await w.detector.check() })
    if (!stop.ok) return stop
    w.stopFollowing = stop.value
    if (w.state.wiped !== null) return err({ kind: 'chain_wiped', detail: w.state.wiped })
    return ok(w)
  }

  get tip (): BlockRef | undefined { return this.state.headers[this.state.headers.length - 1] }
  get wiped (): string | null { return this.state.wiped }

  /** A fresh receive address (persisted before it is handed out). */
  newAddress (): { address: string; script: Uint8Array } {
    const key = this.keys.key(0, this.state.next.receive)
    this.state.next.receive++
    this.watchUpTo(0, this.state.next.receive + LOOKAHEAD)
    this.save()
    return { address: key.address, script: key.script }
  }

  utxos (): Utxo[] { return Object.values(this.state.utxos) }

  pendingTxs (): PendingTx[] { return Object.values(this.state.pending) }

  balance (): Balance {
    const locked = this.lockedOutpoints()
    let spendable = 0; let immature = 0; let lockedSum = 0
    for (const [op, u] of Object.entries(this.state.utxos)) {
      if (locked.has(op)) lockedSum += u.value
      else if (!this.isMature(u)) immature += u.value
      else spendable += u.value
    }
    return {
      spendable: spendable as Sat, immature: immature as Sat, locked: lockedSum as Sat, total: (spendable + immature + lockedSum) as Sat,
    }
  }

  /**
   * Builds and signs a transaction paying `payments`, and locks its inputs (recorded as pending and
   * saved before returning, so the transaction can be broadcast later, e.g. a channel funding).
   */
  buildTx (payments: Payment[]): Result<BuiltTx, WalletError> {
    if (this.state.wiped !== null) return err({ kind: 'chain_wiped', detail: this.state.wiped })
    const outs: Array<{ script: Uint8Array; value: number }> = []
    for (const [i, p] of payments.entries()) {
      let script: Uint8Array
      if (p.script !== undefined) script = p.script
      else if (p.address !== undefined) {
        try { script = baddress.toOutputScript(p.address, networks.regtest) } catch (e) {
          return err({ kind: 'invalid_output', detail: `payments.${i}.address: ${(e as Error).message}` })
        }
      } else return err({ kind: 'invalid_output', detail: `payments.${i}: needs an address or a script` })
      if (!Number.isSafeInteger(p.value) || p.value < dustThreshold(script)) {
        return err({
          kind: 'invalid_output', detail: `payments.${i}.value: must be an integer ≥ ${dustThreshold(script)} sat (dust) (got ${p.value})`,
        })
      }
      outs.push({ script, value: p.value })
    }
    if (outs.length === 0) return err({ kind: 'invalid_output', detail: 'payments: empty' })
    const amount = outs.reduce((s, o) => s + o.value, 0)
    const locked = this.lockedOutpoints()
    const coins = Object.entries(this.state.utxos)
      .filter(([op, u]) => !locked.has(op) && this.isMature(u))
      .map(([id, u]) => ({ id, value: u.value }))
    const changeKey = this.keys.key(1, this.state.next.change)
    const sel = selectCoins(coins, outs.map(o => o.script), amount, this.opts.feeRate, changeKey.script)
    if (!sel.ok) return err({ kind: 'insufficient_funds', needed: sel.needed as Sat, available: sel.available as Sat })

    const psbt = new Psbt({ network: networks.regtest })
    const inputs = sel.coins.map(c => this.state.utxos[c.id]!)
    for (const u of inputs) {
      psbt.addInput({
        hash: u.txid, index: u.vout, sequence: RBF_SEQUENCE, witnessUtxo: { script: hexToBytes(u.script), value: BigInt(u.value) },
      })
    }
    for (const o of outs) psbt.addOutput({ script: o.script, value: BigInt(o.value) })
    let changeVout: number | null = null
    if (sel.change > 0) {
      changeVout = outs.length
      psbt.addOutput({ script: changeKey.script, value: BigInt(sel.change) })
      this.state.next.change++
      this.watchUpTo(1, this.state.next.change + LOOKAHEAD)
    }
    for (const [i, u] of inputs.entries()) psbt.signInput(i, this.keys.signer(this.keys.key(u.chain, u.index)))
    psbt.finalizeAllInputs()
    const tx = psbt.extractTransaction()
    const txid = tx.getId() as Txid
    const hex = tx.toHex()
    this.state.pending[txid] = { txid, hex, inputs: inputs.map(u => `${u.txid}:${u.vout}`) }
    this.save()
    return ok({ txid, hex, fee: sel.fee as Sat, vsize: tx.virtualSize(), inputs, changeVout })
  }

  /** A fresh change output script of ours (persisted before it is handed out): where a transaction
   *  built with a peer returns what our inputs hold beyond our contribution and fee. */
  newChangeScript (): Uint8Array {
    const key = this.keys.key(1, this.state.next.change)
    this.state.next.change++
    this.watchUpTo(1, this.state.next.change + LOOKAHEAD)
    this.save()
    return key.script
  }

  /** Coins a transaction built with a peer may spend: confirmed (the wallet holds only coins of
   *  connected blocks), mature, not spent by one of our unconfirmed transactions nor reserved. */
  freeCoins (): Utxo[] {
    const locked = this.lockedOutpoints()
    return Object.entries(this.state.utxos).filter(([op, u]) => !locked.has(op) && this.isMature(u)).map(([, u]) => u)
  }

  /** Sets `outpoints` aside for `owner` (a splice being negotiated): no other transaction spends them
   *  until unreserve(owner). Refused (false) if one is not free. */
  reserve (owner: string, outpoints: readonly string[]): boolean {
    const free = new Set(this.freeCoins().map(u => `${u.txid}:${u.vout}`))
    if (!outpoints.every(op => free.has(op))) return false
    this.reserved.set(owner, [...(this.reserved.get(owner) ?? []), ...outpoints])
    return true
  }

  unreserve (owner: string): void { this.reserved.delete(owner) }

  /**
   * Witnesses (P2WPKH, SIGHASH_ALL) for our inputs of `txHex` (`txid`), a transaction built with a peer
   * that also spends `shared` (outputs that are not ours: a splice's current funding output). Each
   * input must spend a coin of ours of that value and script that no other transaction of ours spends,
   * except one spending `shared` too (the transaction this one replaces). The coins are locked for
   * `txid`, durably, before the witnesses are returned: until it (or a transaction conflicting with it,
   * such as a replacement that confirms) is in a block, or release(txid).
   */
  signInputs (txid: Txid, txHex: string, inputs: readonly InputToSign[], shared: readonly string[]): Result<string[][], SignRefusal> {
    let tx
    try { tx = parseTx(txHex) } catch (e) {
      return err({ kind: 'not_our_input', detail: `the transaction does not parse: ${(e as Error).message}` })
    }
    const family = (p: PendingTx): boolean => p.txid === txid || shared.some(op => p.inputs.includes(op))
    const witnesses: string[][] = []
    for (const i of inputs) {
      const op = `${i.txid}:${i.vout}`
      const u = this.state.utxos[op]
      const at = tx.inputs[i.index]
      if (u === undefined || u.value !== i.valueSat || u.script !== i.script) return err({
        kind: 'not_our_input', detail: `${op} is not a coin of ours of ${i.valueSat} sat`,
      })
      if (at === undefined || at.txid !== i.txid || at.vout !== i.vout) return err({
        kind: 'not_our_input', detail: `input ${i.index} of the transaction does not spend ${op}`,
      })
      const other = Object.values(this.state.pending).find(p => p.inputs.includes(op) && !family(p))
      if (other !== undefined) return err({ kind: 'not_our_input', detail: `${op} is spent by our unconfirmed transaction ${other.txid}` })
      const key = this.keys.key(u.chain, u.index)
      const sig = this.keys.sign(witnessV0Sighash(tx, i.index, p2pkh(key.publicKey), u.value, SIGHASH_ALL), key)
      witnesses.push([bytesToHex(witnessSig(sig, SIGHASH_ALL)), bytesToHex(key.publicKey)])
    }
    this.state.pending[txid] = { txid, hex: txHex, inputs: [...shared, ...inputs.map(i => `${i.txid}:${i.vout}`)] }
    this.save()
    return ok(witnesses)
  }

  /** Broadcasts a transaction from buildTx. On a definite rejection its inputs are unlocked. */
  async broadcast (txid: string): Promise<Result<Txid, WalletError>> {
    const p = this.state.pending[txid]
    if (p === undefined) return err({ kind: 'invalid_output', detail: `broadcast: ${txid} is not one of our pending transactions` })
    const r = await broadcastTx(this.opts.chain, p.hex)
    if (r.ok) return ok(r.value.kind === 'sent' ? r.value.txid : txid as Txid)
    if (r.error.kind === 'rejected') this.release(txid)
    return err({ kind: 'broadcast_failed', failure: r.error })
  }

  async send (payments: Payment[]): Promise<Result<BuiltTx, WalletError>> {
    const built = this.buildTx(payments)
    if (!built.ok) return built
    const sent = await this.broadcast(built.value.txid)
    return sent.ok ? built : sent
  }

  /** Forgets an unconfirmed transaction of ours (never broadcast, or rejected) and unlocks its inputs. */
  release (txid: string): void {
    delete this.state.pending[txid]
    this.save()
  }

  /** Registers a transaction (e.g. a channel funding) whose disappearance means the chain was wiped. */
  addFinalTx (txid: string): void {
    this.detector.addFinalTx(txid)
    this.state.finality = this.detector.state
    this.save()
  }

  /** Checks now whether the chain still holds what we treat as final (the follower also asks on reorgs). */
  async checkChain (): Promise<Result<ChainWiped | null, ChainFailure>> {
    const r = await this.detector.check()
    if (r.ok && r.value !== null) await this.onFatal(r.value)
    return r
  }

  close (): void {
    this.stopFollowing?.()
    this.stopFollowing = null
  }

  // ---- chain events ----------------------------------------------------------------------------

  private onConnected (block: ChainBlock): void {
    if (this.state.wiped !== null) return
    const undo: WalletState['undo'][string] = { height: block.height, added: [], spent: [], confirmed: [] }
    // Inputs spent by each of our pending transactions, to notice a pending one double-spent by another
    // (several may spend one input: a splice and its RBF replacements).
    const pendingByInput = new Map<string, string[]>()
    for (const p of Object.values(this.state.pending)) for (const op of p.inputs) pendingByInput.set(
      op, [...(pendingByInput.get(op) ?? []), p.txid],
    )
    for (const [i, tx] of block.txs.entries()) {
      const mine = this.state.pending[tx.txid]
      if (mine !== undefined) { undo.confirmed.push(mine); delete this.state.pending[tx.txid] }
      for (const input of tx.inputs) {
        const op = `${input.txid}:${input.vout}`
        for (const spentPending of pendingByInput.get(op) ?? []) {
          if (spentPending === tx.txid || this.state.pending[spentPending] === undefined) continue
          // A conflicting transaction won: ours can never confirm now (restored if this block is undone).
          undo.confirmed.push(this.state.pending[spentPending])
          delete this.state.pending[spentPending]
        }
        const u = this.state.utxos[op]
        if (u !== undefined) { undo.spent.push(u); delete this.state.utxos[op] }
      }
      for (const [vout, out] of tx.outputs.entries()) {
        const owner = this.scripts.get(out.scriptPubKey)
        if (owner === undefined) continue
        const op = `${tx.txid}:${vout}`
        this.state.utxos[op] = {
          txid: tx.txid, vout, value: out.value, script: out.scriptPubKey, chain: owner.chain, index: owner.index, height: block.height,
          coinbase: i === 0,
        }
        undo.added.push(op)
        this.markUsed(owner.chain, owner.index)
      }
    }
    this.state.undo[block.hash] = undo
    this.state.headers.push({ height: block.height, hash: block.hash })
    this.recordFinal(block.height)
    this.prune(block.height)
  }

  private onDisconnected (ref: BlockRef): void {
    if (this.state.wiped !== null) return
    const undo = this.state.undo[ref.hash]
    if (undo !== undefined) {
      for (const op of undo.added) delete this.state.utxos[op]
      for (const u of undo.spent) this.state.utxos[`${u.txid}:${u.vout}`] = u
      for (const p of undo.confirmed) this.state.pending[p.txid] = p
      delete this.state.undo[ref.hash]
    }
    this.state.headers = this.state.headers.filter(h => h.hash !== ref.hash)
  }

  private async onFatal (e: ChainWiped): Promise<void> {
    if (this.state.wiped !== null) return
    this.state.wiped = e.detail
    this.save()
    this.close()
    await this.opts.onFatal?.(e)
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** The block `finality` deep becomes a checkpoint; our non-coinbase transactions in it become final. */
  private recordFinal (tipHeight: number): void {
    const h = tipHeight - this.finality + 1
    const header = this.state.headers.find(x => x.height === h)
    if (header === undefined) return
    this.detector.addCheckpoint(header)
    const undo = this.state.undo[header.hash]
    if (undo !== undefined) {
      for (const op of undo.added) {
        const u = this.state.utxos[op]
        if (u !== undefined && !u.coinbase) this.detector.addFinalTx(u.txid)
      }
      for (const p of undo.confirmed) this.detector.addFinalTx(p.txid)
    }
    this.state.finality = this.detector.state
  }

  private prune (tipHeight: number): void {
    this.state.headers = this.state.headers.filter(h => h.height > tipHeight - HISTORY)
    for (const [hash, u] of Object.entries(this.state.undo)) if (u.height <= tipHeight - HISTORY) delete this.state.undo[hash]
  }

  private isMature (u: Utxo): boolean {
    if (!u.coinbase) return true
    const tip = this.tip?.height ?? 0
    // Spendable in the next block (height tip + 1) once that is COINBASE_MATURITY past its own.
    return tip + 1 - u.height >= COINBASE_MATURITY
  }

  private lockedOutpoints (): Set<string> {
    const s = new Set<string>()
    for (const p of Object.values(this.state.pending)) for (const op of p.inputs) s.add(op)
    for (const ops of this.reserved.values()) for (const op of ops) s.add(op)
    return s
  }

  private markUsed (chain: KeyChain, index: number): void {
    if (chain === 0 && index >= this.state.next.receive) { this.state.next.receive = index + 1; this.watchUpTo(0, index + 1 + LOOKAHEAD) }
    if (chain === 1 && index >= this.state.next.change) { this.state.next.change = index + 1; this.watchUpTo(1, index + 1 + LOOKAHEAD) }
  }

  private watchUpTo (chain: KeyChain, end: number): void {
    for (let i = 0; i < end; i++) {
      const key = this.keys.key(chain, i)
      this.scripts.set(bytesToHex(key.script), { chain, index: i })
    }
  }

  private save (): void { this.opts.storage.writeState(JSON.stringify(this.state)) }
}
