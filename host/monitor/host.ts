// MonitorHost: runs one chain monitor (protocol/monitor) per channel for the hub or an SDK client.
// It feeds each monitor the channel's updates and the chain's blocks, stores monitor states, reports
// decisions to the owner, and broadcasts (and rebroadcasts, every block and every retry period) what
// the monitors want until it confirms. See index.ts for the API and how to wire it.
//
// Durability. The channel's own persist batch already stores every monitor update durably under
// chan/<id>/monitor/<seq> before the channel proceeds (DESIGN.md rule 3). The monitor state is
// derived from those updates and the chain, so the host stores it as a checkpoint (checkpoint.ts):
// at once when the chain or the owner made it decide something, otherwise when the channel has been
// idle for a checkpoint period, every CHECKPOINT_UPDATES updates, and at stop. On restart a monitor
// replays the updates newer than its checkpoint, and the host follows the chain from its recent
// blocks (mon-tip): the blocks missed while down are scanned in order (scenario 11).
//
// Cost per payment and per idle channel. Updates handed in are applied directly (the store is read only to fill a gap). A
// monitor with nothing at stake (checkpoint.ts isQuiet) is stepped only by blocks that touch its
// funding tx or output, found through a funding index, and is dropped from memory once idle and
// stored: the host keeps a few numbers for it, and loads it again when a block, an update or the
// owner needs it. Startup reads the small summaries only, and loads the monitors with something at
// stake.
//
// Order of a step's actions: decisions are reported (awaited: at-least-once, so handlers must be
// idempotent) before the state that marks them reported is stored, then broadcasts go out. A monitor's
// state is derived from durable inputs (updates and the chain), so broadcasting before it is stored
// loses nothing.
import {
  fundingOutpoints, monitorStep, newMonitor, onChainSummary, parseMonitorState, type MonitorAction, type MonitorBlock, type MonitorConfig,
  type MonitorInput, type MonitorKeys, type MonitorState, type MonitorTx, type OnChainSummary,
} from '../../protocol/monitor/index.ts'
import type { MonitorUpdate } from '../../protocol/channel/index.ts'
import type { BlockRef, ChainBackend, ChainBlock, ChainFailure, ChainWiped } from '../chain/backend.ts'
import { ok, type Result } from '../../protocol/result.ts'
import { broadcastTx } from '../chain/broadcast.ts'
import { del, keys as storeKeys, parseJsonValue, put, type Store, type StoreOp } from '../store/index.ts'
import { compact, indexKey, INDEX_PREFIX, isQuiet, parseSummary, restoreRevoked, summaryOf, type Summary } from './checkpoint.ts'
import { monitorBlockOf, relevantTxs } from './convert.ts'

/** The txid of an outpoint "txid:vout". */
const txidOf = (outpoint: string): string => outpoint.slice(0, outpoint.indexOf(':'))

/** Recent blocks kept to resume following after a restart (deeper than any reorg we undo). */
const TIP_WINDOW = 30
/** Rebroadcast period for unconfirmed claims when no block arrives. */
const DEFAULT_RETRY_MS = 10_000
/** A loaded monitor without updates for this long is stored (and dropped from memory if quiet). */
const DEFAULT_CHECKPOINT_MS = 5_000
/** A busy channel's monitor is stored at least this often (bounds the replay after a crash). */
export const CHECKPOINT_UPDATES = 500
/** Point reads in flight at once while checking many channels at startup. */
const READ_CONCURRENCY = 32

export type MonitorEvent = Extract<MonitorAction,
{ kind: 'preimage_learned' | 'htlc_resolved' | 'force_closing' | 'funding_spent' | 'funding_depth' | 'closed' | 'warning' }>

export interface MonitorHostOptions {
  store: Store
  chain: ChainBackend
  /** A channel's keys (protocol/monitor monitorKeys(channelKeys(seed))). Called when a monitor is
   *  loaded, not for monitors with nothing at stake. */
  keysFor: (channelId: string) => MonitorKeys | undefined | Promise<MonitorKeys | undefined>
  /** For new monitors; sweepScript is the owner's wallet script (hex) that every claim pays. */
  config: Partial<MonitorConfig> & { sweepScript: string }
  /** Decisions, awaited in order. Must be idempotent (a crash may report one again). */
  onEvent?: (channelId: string, event: MonitorEvent) => void | Promise<void>
  /** The monitor decided on its own to close with our commitment (an HTLC deadline, or forceClose()):
   *  fail the channel (ChannelDriver command force_close) and resolve once that is durable, so the
   *  channel can never revoke the commitment about to be broadcast. Must not wait for this host. */
  failChannel?: (channelId: string, reason: string) => Promise<void>
  /** A broadcast the node refused for a reason other than "already known". */
  onBroadcastError?: (channelId: string, txid: string, reason: string, detail: string) => void
  onFatal?: (e: ChainWiped) => void | Promise<void>
  /** True while our own commitment of this channel must not be broadcast although the monitor wants it
   *  (a hub restored from a backup, until the peer proves the channel current: hub/backup/restored.ts).
   *  Claims from transactions already on-chain go out as usual. */
  holdOwnCommitment?: (channelId: string) => boolean
  /** A commitment of ours held back by holdOwnCommitment (told once per txid). */
  onHeld?: (channelId: string, txid: string) => void
  retryMs?: number
  /** Idle time after which a monitor is stored and, if quiet, dropped from memory. */
  checkpointMs?: number
}

interface Entry {
  readonly id: string
  /** Loaded monitors only; an unloaded one is known by the fields below. */
  state?: MonitorState
  keys?: MonitorKeys
  /** lastSeq of the stored checkpoint (0: none). */
  storedSeq: number
  /** "txid:vout" of the funding outputs its commitments may spend (the funding output, and while a
   *  splice is pending or not `depth` deep, its candidates' and the older ones): indexed in byFunding. */
  outpoints: string[]
  fundingHeight: number
  quiet: boolean
  /** What the stored summary says (whether startup loads it). */
  storedQuiet: boolean
  closed: boolean
  /** Updates arrived since the last checkpoint round. */
  busy: boolean
}

type Loaded = Entry & { state: MonitorState; keys: MonitorKeys }

class BadState extends Error {}

export class MonitorHost {
  private readonly entries = new Map<string, Entry>()
  /** Loaded monitors. */
  private readonly loaded = new Set<Loaded>()
  /** Funding txid → the monitors it funds (a batch transaction funds many channels, one output
   *  each; a splice transaction funds the channel it splices): the blocks that concern a monitor. */
  private readonly byFunding = new Map<string, Set<Entry>>()
  /** Confirmation heights of funding txs learned from the node (a batch funding tx is asked once,
   *  not once per channel it funds); forgotten when their block is disconnected. */
  private readonly fundingHeights = new Map<string, number>()
  /** To be stored at the end of the current operation. */
  private readonly dirty = new Set<Loaded>()
  private tip: BlockRef[] = []
  private tipDirty = false
  private stopFollowing: (() => void) | null = null
  private timers: Array<ReturnType<typeof setInterval>> = []
  private queue: Promise<unknown> = Promise.resolve()
  /** Txids the node accepted or already had, by channel (for tests and status). */
  readonly broadcasted = new Map<string, Set<string>>()
  /** Broadcast attempts per txid (status, tests). */
  readonly attempts = new Map<string, number>()
  /** Our commitments held back by holdOwnCommitment, by txid. */
  readonly held = new Set<string>()

  private constructor (private readonly opts: MonitorHostOptions) {}

  /** Reads the stored monitors' summaries, and loads (replaying newer updates) those with something
   *  at stake at their checkpoint; the others are loaded when something concerns them. The owner must
   *  then adopt its channels (adoptAll): that finds the monitors whose channel moved since. */
  static async open (opts: MonitorHostOptions): Promise<Result<MonitorHost, { kind: 'bad_state'; detail: string }>> {
    const host = new MonitorHost(opts)
    try {
      const tipRaw = await opts.store.get(storeKeys.monitorTip)
      if (tipRaw !== undefined) host.tip = parseJsonValue(tipRaw) as BlockRef[]
      const atStake: Entry[] = []
      for await (const [key, value] of opts.store.iterate(INDEX_PREFIX)) {
        const parsed = parseSummary(parseJsonValue(value))
        if (!parsed.ok) throw new BadState(`${key}: ${parsed.error}`)
        const sum = parsed.value
        const e: Entry = {
          id: key.slice(INDEX_PREFIX.length), storedSeq: sum.seq, fundingHeight: sum.fundingHeight, quiet: sum.quiet,
          storedQuiet: sum.quiet,
          closed: sum.closed, busy: false, outpoints: sum.funding === null ? [] : [`${sum.funding.txid}:${sum.funding.vout}`],
        }
        host.index(e)
        if (!sum.quiet) atStake.push(e)
      }
      for (const e of atStake) await host.load(e)
    } catch (e) {
      if (e instanceof BadState) return { ok: false, error: { kind: 'bad_state', detail: e.message } }
      throw e
    }
    return { ok: true, value: host }
  }

  /** Follows the chain from the last stored blocks (catching up on what was missed), retries
   *  broadcasts every `retryMs`, and stores idle monitors every `checkpointMs`. */
  async start (): Promise<Result<void, ChainFailure>> {
    if (this.tip.length === 0) {
      // First start: follow from the current tip, and remember it, so that a restart after downtime
      // scans every block from here (scenario 11).
      const t = await this.opts.chain.tip()
      if (!t.ok) return t
      this.tip = [t.value]
      this.tipDirty = true
    }
    const r = await this.opts.chain.follow({
      connected: async b => { await this.serial(() => this.onBlock(b)) },
      disconnected: async b => { await this.serial(() => this.onDisconnect(b)) },
      synced: async () => { await this.serial(() => this.flush()) },
      fatal: async e => { await this.opts.onFatal?.(e) },
    }, { known: this.tip })
    if (!r.ok) return r
    this.stopFollowing = r.value
    // Nothing may have been connected (already at the tip): announce what is wanted once now.
    await this.tick()
    const retry = setInterval(() => { void this.tick() }, this.opts.retryMs ?? DEFAULT_RETRY_MS)
    const checkpoint = setInterval(() => { void this.checkpoint() }, this.opts.checkpointMs ?? DEFAULT_CHECKPOINT_MS)
    retry.unref(); checkpoint.unref()
    this.timers = [retry, checkpoint]
    return ok(undefined)
  }

  /** Stops following and stores every monitor that changed. */
  async stop (): Promise<void> {
    this.stopFollowing?.()
    this.stopFollowing = null
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    await this.serial(async () => {
      for (const e of this.loaded) if (e.state.lastSeq > e.storedSeq) this.dirty.add(e)
      await this.flush()
    })
  }

  /** Every monitored channel (loaded or not). */
  channels (): string[] { return [...this.entries.keys()] }
  /** A loaded monitor's state; undefined for a channel without a monitor or one not loaded (nothing
   *  at stake): see `lastSeq` and `inspect`. */
  state (channelId: string): MonitorState | undefined { return this.entries.get(channelId)?.state }
  /** The highest update the monitor has applied (after adopt: every stored one). */
  lastSeq (channelId: string): number | undefined {
    const e = this.entries.get(channelId)
    return e === undefined ? undefined : e.state?.lastSeq ?? e.storedSeq
  }

  /** The funding tx's confirmation height as the monitor knows it (0: unconfirmed), loaded or not. */
  fundingHeight (channelId: string): number | undefined {
    const e = this.entries.get(channelId)
    return e === undefined ? undefined : e.state?.fundingHeight ?? e.fundingHeight
  }

  /** Whether the monitor found every output resolved at depth, loaded or not (undefined: no monitor). */
  closed (channelId: string): boolean | undefined { return this.entries.get(channelId)?.closed }

  /** What the monitor has seen on-chain and swept (protocol/monitor/summary.ts), loading it if
   *  needed; undefined for a channel without a monitor. */
  summary (channelId: string): Promise<OnChainSummary | undefined> {
    return this.serial(async () => {
      const e = this.entries.get(channelId)
      if (e === undefined) return undefined
      const l = await this.load(e)
      return onChainSummary(l.state, l.keys)
    })
  }

  /** A monitor's state, loading it if needed (status, tests). */
  inspect (channelId: string): Promise<MonitorState | undefined> {
    return this.serial(async () => {
      const e = this.entries.get(channelId)
      return e === undefined ? undefined : (await this.load(e)).state
    })
  }

  /**
   * The channel's new monitor updates, after its persist batch stored them (call it with the batch's
   * `monitor` list). Creates the monitor on the first update. Missing earlier updates are read from
   * the store first.
   */
  addUpdates (channelId: string, updates: readonly MonitorUpdate[]): Promise<void> {
    return this.serial(async () => {
      const e = await this.ensure(channelId)
      if (e === undefined) return
      await this.apply(e, updates)
      e.busy = true
      if (e.state.lastSeq - e.storedSeq >= CHECKPOINT_UPDATES) this.dirty.add(e)
      await this.flush()
    })
  }

  /** Starts monitoring a channel whose updates are already in the store (host startup). */
  adopt (channelId: string): Promise<void> { return this.adoptAll([channelId]) }

  /**
   * Starts monitoring channels whose updates are already in the store (host startup). A loaded
   * monitor replays the updates newer than it. One not loaded stays unloaded unless the store has
   * updates past its checkpoint: `lastSeq`, when given, is the channel's own count of updates (its
   * state's monitorSeq, stored in the same atomic batch as its updates, so it is the store's last
   * update); otherwise the host reads the update after the checkpoint (one point read per channel,
   * several in flight). One store write at the end.
   */
  adoptAll (channels: Iterable<string | { id: string; lastSeq: number }>): Promise<void> {
    return this.serial(async () => {
      const list = [...channels].map(c => typeof c === 'string' ? { id: c, lastSeq: undefined } : c)
      const behind = new Set<Entry>()
      const unknown: Entry[] = []
      for (const c of list) {
        const e = this.entries.get(c.id)
        if (e === undefined || e.state !== undefined || e.closed) continue
        if (c.lastSeq === undefined) unknown.push(e)
        else if (c.lastSeq > e.storedSeq) behind.add(e)
      }
      for (let i = 0; i < unknown.length; i += READ_CONCURRENCY) {
        await Promise.all(unknown.slice(i, i + READ_CONCURRENCY).map(async e => {
          if (await this.opts.store.get(storeKeys.monitorUpdate(e.id, e.storedSeq + 1)) !== undefined) behind.add(e)
        }))
      }
      for (const { id } of list) {
        const e = this.entries.get(id)
        if (e === undefined) {
          const c = await this.ensure(id); if (c !== undefined) await this.replay(c)
        } else if (e.state !== undefined) await this.replay(e as Loaded)
        else if (behind.has(e)) await this.load(e)
      }
      await this.flush()
    })
  }

  /** Close with our latest commitment (never if the monitor knows we lost state). */
  forceClose (channelId: string, reason = 'requested by the owner'): Promise<boolean> {
    return this.serial(async () => {
      const e = this.entries.get(channelId)
      if (e === undefined) return false
      await this.step(await this.load(e), { kind: 'force_close', reason })
      await this.flush()
      return true
    })
  }

  /** Drops a channel's monitor and deletes its checkpoint and summary: for a channel abandoned before
   *  its funding confirmed (protocol/channel/funding-check.ts), whose funding output nothing of ours
   *  spends. The channel's own stored updates are its owner's to delete. */
  forget (channelId: string): Promise<void> {
    return this.serial(async () => {
      const e = this.entries.get(channelId)
      if (e === undefined) return
      this.entries.delete(channelId)
      this.loaded.delete(e as Loaded)
      this.dirty.delete(e as Loaded)
      this.unindex(e)
      await this.opts.store.write([del(storeKeys.monitorState(channelId)), del(indexKey(channelId))])
    })
  }

  /** Rebroadcasts what every monitor with something at stake still wants. */
  tick (): Promise<void> {
    return this.serial(async () => {
      for (const e of [...this.loaded]) if (!e.quiet) await this.step(e, { kind: 'tick' })
      await this.flush()
    })
  }

  /** Stores the monitors idle since the last round, and drops the quiet ones from memory. */
  checkpoint (): Promise<void> {
    return this.serial(async () => {
      const idle: Loaded[] = []
      for (const e of this.loaded) {
        if (e.busy) { e.busy = false; continue }
        idle.push(e)
        if (e.state.lastSeq > e.storedSeq) this.dirty.add(e)
      }
      await this.flush()
      for (const e of idle) if (e.quiet) this.unload(e)
    })
  }

  // ---- internals ----------------------------------------------------------------------------------

  private serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn)
    this.queue = run.then(() => undefined, () => undefined)
    return run
  }

  private tipRef (): BlockRef | undefined {
    return this.tip.reduce<BlockRef | undefined>((m, b) => (m === undefined || b.height > m.height ? b : m), undefined)
  }

  private index (e: Entry): void {
    this.entries.set(e.id, e)
    for (const o of e.outpoints) this.indexFunding(txidOf(o), e)
  }

  /** The channel's monitor, loaded; a new one if it has none (undefined: no keys for it). */
  private async ensure (channelId: string): Promise<Loaded | undefined> {
    const known = this.entries.get(channelId)
    if (known !== undefined) return await this.load(known)
    const keys = await this.opts.keysFor(channelId)
    if (keys === undefined) return undefined
    const top = this.tipRef()
    let height = top?.height ?? 0
    let hash = top?.hash ?? ''
    if (top === undefined) {
      const t = await this.opts.chain.tip()
      if (t.ok) { height = t.value.height; hash = t.value.hash }
    }
    const e: Loaded = {
      id: channelId, state: newMonitor(channelId, this.opts.config, height, hash), keys, storedSeq: 0, fundingHeight: 0, quiet: false,
      storedQuiet: false, closed: false, busy: false, outpoints: [],
    }
    this.index(e)
    this.loaded.add(e)
    // Stored at once, so that a restart knows every monitor without reading the channels' updates.
    this.dirty.add(e)
    return e
  }

  /** Loads a monitor from its checkpoint and replays the newer stored updates. */
  private async load (e: Entry): Promise<Loaded> {
    if (e.state !== undefined && e.keys !== undefined) return e as Loaded
    const raw = await this.opts.store.get(storeKeys.monitorState(e.id))
    if (raw === undefined) throw new BadState(`${storeKeys.monitorState(e.id)}: missing`)
    const parsed = parseMonitorState(parseJsonValue(raw))
    if (!parsed.ok) throw new BadState(`${storeKeys.monitorState(e.id)}: ${parsed.error}`)
    const keys = await this.opts.keysFor(e.id)
    if (keys === undefined) throw new BadState(`${storeKeys.monitorState(e.id)}: no keys for channel ${e.id}`)
    // A checkpoint is not rewritten for blocks that only move its height.
    const top = this.tipRef()
    const state = top !== undefined && parsed.value.height < top.height ? {
      ...parsed.value, height: top.height, tipHash: top.hash,
    } : parsed.value
    const l = e as Loaded
    l.state = state
    l.keys = keys
    l.storedSeq = state.lastSeq
    this.loaded.add(l)
    this.refresh(l)
    await this.replay(l)
    return l
  }

  private unload (e: Loaded): void {
    this.loaded.delete(e)
    const u = e as Entry
    delete u.state
    delete u.keys
  }

  /** Applies updates handed in; a gap (an update not handed in) is filled from the store. */
  private async apply (e: Loaded, updates: readonly MonitorUpdate[]): Promise<void> {
    const fresh = updates.filter(u => u.seq > e.state.lastSeq)
    if (fresh.length === 0) return
    if (fresh[0]!.seq !== e.state.lastSeq + 1) { await this.replay(e); return }
    await this.applyInOrder(e, fresh)
  }

  /** Applies stored updates the monitor has not seen (after a restart, or a gap). */
  private async replay (e: Loaded): Promise<void> {
    const pending: MonitorUpdate[] = []
    // Newest first, stopping at the first update already applied (keys sort by seq).
    for await (const [, v] of this.opts.store.iterate(storeKeys.monitorPrefix(e.id), { reverse: true })) {
      const u = parseJsonValue(v) as MonitorUpdate
      if (u.seq <= e.state.lastSeq) break
      pending.push(u)
    }
    pending.reverse()
    await this.applyInOrder(e, pending)
  }

  private async applyInOrder (e: Loaded, updates: readonly MonitorUpdate[]): Promise<void> {
    if (updates.length === 0) return
    const fundingBefore = e.state.setup?.funding?.txid
    for (const u of updates) await this.step(e, { kind: 'update', update: u })
    e.state = compact(e.state)
    // A monitor created after its funding tx confirmed, or moved by a splice whose confirmation it did
    // not see, learns the confirmation height from the node.
    const f = e.state.setup?.funding
    if (f !== undefined && f.txid !== fundingBefore && e.state.fundingHeight === 0) {
      let height = this.fundingHeights.get(f.txid)
      if (height === undefined) {
        const lookup = await this.opts.chain.getRawTransaction(f.txid)
        if (lookup.ok && lookup.value?.block !== undefined) this.fundingHeights.set(f.txid, height = lookup.value.block.height)
      }
      if (height !== undefined) {
        e.state = { ...e.state, fundingHeight: height }
        this.dirty.add(e)
      }
    }
    this.refresh(e)
  }

  private indexFunding (txid: string, e: Entry): void {
    let set = this.byFunding.get(txid)
    if (set === undefined) this.byFunding.set(txid, set = new Set())
    set.add(e)
  }

  private unindex (e: Entry): void {
    for (const o of e.outpoints) {
      const set = this.byFunding.get(txidOf(o))
      set?.delete(e)
      if (set?.size === 0) this.byFunding.delete(txidOf(o))
    }
  }

  /** Keeps the funding index and the entry's flags in step with its state. */
  private refresh (e: Loaded): void {
    const outpoints = fundingOutpoints(e.state)
    if (outpoints.join() !== e.outpoints.join()) {
      this.unindex(e)
      e.outpoints = outpoints
      for (const o of outpoints) this.indexFunding(txidOf(o), e)
    }
    e.fundingHeight = e.state.fundingHeight
    e.closed = e.state.closed
    e.quiet = isQuiet(e.state)
    // Its summary says it has something at stake (so a restart loads it): no longer true. (The other
    // way needs no write: whatever puts something at stake is an update past the checkpoint, which
    // adoptAll finds at startup.)
    if (e.quiet && !e.storedQuiet) this.dirty.add(e)
  }

  private async onBlock (b: ChainBlock): Promise<void> {
    const block: MonitorBlock = monitorBlockOf(b)
    // Monitors this block concerns (an unloaded one is loaded): a funding tx of theirs confirms, or
    // a funding output of theirs is spent.
    const spends = new Map<Entry, MonitorTx[]>()
    const touched = new Set<Entry>()
    for (const tx of block.txs) {
      for (const f of this.byFunding.get(tx.txid) ?? []) touched.add(f)
      for (const i of tx.inputs) {
        for (const g of this.byFunding.get(i.txid) ?? []) {
          if (!g.outpoints.includes(`${i.txid}:${i.vout}`)) continue
          touched.add(g)
          spends.set(g, [...spends.get(g) ?? [], tx])
        }
      }
    }
    for (const e of touched) if (!e.closed) await this.load(e)
    this.tip = [...this.tip.filter(x => x.height < b.height), { height: b.height, hash: b.hash }].slice(-TIP_WINDOW)
    this.tipDirty = true
    for (const [e, txs] of spends) {
      for (const tx of txs) if (e.state !== undefined) e.state = await restoreRevoked(this.opts.store, e.state, tx)
    }
    for (const e of [...this.loaded]) {
      if (e.quiet && !touched.has(e)) {
        // Nothing at stake and nothing here for it: only its height moves (not stored for that).
        if (!e.closed) e.state = { ...e.state, height: b.height, tipHash: b.hash }
        continue
      }
      await this.step(e, { kind: 'block_connected', block: relevantTxs(block, e.state) })
      this.refresh(e)
    }
  }

  private async onDisconnect (b: BlockRef): Promise<void> {
    this.tip = this.tip.filter(x => x.height < b.height)
    this.tipDirty = true
    // Unloaded monitors whose funding tx was in a disconnected block.
    for (const [txid, h] of this.fundingHeights) if (h >= b.height) this.fundingHeights.delete(txid)
    for (
      const set of [...this.byFunding.values()]
    ) for (const e of set) if (e.state === undefined && !e.closed && e.fundingHeight >= b.height) await this.load(e)
    for (const e of [...this.loaded]) {
      if (e.closed) continue
      await this.step(e, { kind: 'block_disconnected', height: b.height, hash: b.hash })
      this.refresh(e)
    }
  }

  /** One monitor step: report decisions, mark the state to be stored, broadcast. An update's step is
   *  stored lazily (it is derived from the stored update) unless it decided something.
   *
   *  Going on-chain with our own commitment is checked against durable state. On the channel's own
   *  `force_close` update the monitor has every earlier update (they are applied in order, gaps filled
   *  from the store). On its own decision (a deadline, forceClose()) the owner first fails the channel
   *  (failChannel: after that no revocation can leave it), then every stored update the monitor was not
   *  handed yet is applied — a newer local commitment, do_not_broadcast — and the decision is taken
   *  again on that: we never broadcast a commitment older than our newest durable one, nor one that
   *  the durable state says may be revoked. */
  private async step (e: Loaded, input: MonitorInput): Promise<void> {
    let r = monitorStep(e.state, input, e.keys)
    const decided = input.kind === 'update' ? undefined : r.actions.find(a => a.kind === 'force_closing')
    if (decided?.kind === 'force_closing') {
      await this.opts.failChannel?.(e.id, decided.reason)
      await this.replay(e)
      r = monitorStep(e.state, input, e.keys)
    }
    e.state = r.state
    for (const a of r.actions) {
      switch (a.kind) {
        case 'persist': if (input.kind !== 'update') this.dirty.add(e); break
        case 'watch': break // this host scans whole blocks
        case 'broadcast': break
        default:
          if (a.kind !== 'funding_depth') this.dirty.add(e)
          await this.opts.onEvent?.(e.id, a)
      }
    }
    for (const a of r.actions) {
      if (a.kind !== 'broadcast') continue
      if (a.reason === 'commitment' && this.opts.holdOwnCommitment?.(e.id) === true) {
        if (!this.held.has(a.txid)) { this.held.add(a.txid); this.opts.onHeld?.(e.id, a.txid) }
        continue
      }
      await this.broadcast(e.id, a.txid, a.hex)
    }
  }

  private async broadcast (channelId: string, txid: string, hex: string): Promise<void> {
    this.attempts.set(txid, (this.attempts.get(txid) ?? 0) + 1)
    const r = await broadcastTx(this.opts.chain, hex)
    if (r.ok) {
      let set = this.broadcasted.get(channelId)
      if (set === undefined) this.broadcasted.set(channelId, set = new Set())
      set.add(txid)
      return
    }
    // Refusals are expected while a claim races the peer's (missing_inputs, conflict) or a fee bump
    // is too small; the next block or retry rebuilds it from the chain.
    this.opts.onBroadcastError?.(channelId, txid, r.error.kind === 'rejected' ? r.error.reason : r.error.kind, r.error.detail)
  }

  /** Stores the monitors marked dirty (each with its summary) and the recent blocks, in one atomic write. */
  private async flush (): Promise<void> {
    if (this.dirty.size === 0 && !this.tipDirty) return
    const ops: StoreOp[] = []
    const written: Array<[Loaded, Summary]> = []
    for (const e of this.dirty) {
      if (e.state === undefined) continue
      const sum = summaryOf(e.state)
      ops.push(put(storeKeys.monitorState(e.id), e.state), put(indexKey(e.id), sum))
      written.push([e, sum])
    }
    this.dirty.clear()
    if (this.tipDirty) ops.push(put(storeKeys.monitorTip, this.tip))
    this.tipDirty = false
    await this.opts.store.write(ops)
    for (const [e, sum] of written) { e.storedSeq = sum.seq; e.storedQuiet = sum.quiet }
  }
}
