// MonitorHost: runs one chain monitor (protocol/monitor) per channel for the hub or an SDK client.
// It feeds each monitor the channel's updates and the chain's blocks, stores monitor states, reports
// decisions to the owner, and broadcasts (and rebroadcasts, every block and every retry period) what
// the monitors want until it confirms. See index.ts for the API and how to wire it.
//
// Durability. The channel's own persist batch already stores every monitor update durably under
// chan/<id>/monitor/<seq> before the channel proceeds (DESIGN.md rule 3); the host keeps the monitor
// state (mon/<id>) and its recent blocks (mon-tip) beside them, written together after each batch of
// blocks. On restart each monitor replays the updates it had not applied, and the host follows the
// chain from its recent blocks: the blocks missed while down are scanned in order (scenario 11).
//
// Order of a step's actions: decisions are reported (awaited: at-least-once, so handlers must be
// idempotent) before the state that marks them reported is stored, then broadcasts go out. A monitor's
// state is derived from durable inputs (updates and the chain), so broadcasting before it is stored
// loses nothing.
import { monitorStep, newMonitor, parseMonitorState, type MonitorAction, type MonitorBlock, type MonitorConfig, type MonitorInput, type MonitorKeys, type MonitorState } from '../../protocol/monitor/index.ts'
import type { MonitorUpdate } from '../../protocol/channel/index.ts'
import type { BlockRef, ChainBackend, ChainBlock, ChainFailure, ChainWiped, Result } from '../chain/backend.ts'
import { ok } from '../chain/backend.ts'
import { keys as storeKeys, parseJsonValue, put, type Store, type StoreOp } from '../store/index.ts'
import { monitorBlockOf } from './convert.ts'

/** Recent blocks kept to resume following after a restart (deeper than any reorg we undo). */
const TIP_WINDOW = 30
/** Rebroadcast period for unconfirmed claims when no block arrives. */
const DEFAULT_RETRY_MS = 10_000

export type MonitorEvent = Extract<MonitorAction, { kind: 'preimage_learned' | 'htlc_resolved' | 'force_closing' | 'funding_depth' | 'closed' | 'warning' }>

export interface MonitorHostOptions {
  store: Store
  chain: ChainBackend
  /** A channel's keys (protocol/monitor monitorKeys(channelKeys(seed))). */
  keysFor: (channelId: string) => MonitorKeys | undefined | Promise<MonitorKeys | undefined>
  /** For new monitors; sweepScript is the owner's wallet script (hex) that every claim pays. */
  config: Partial<MonitorConfig> & { sweepScript: string }
  /** Decisions, awaited in order. Must be idempotent (a crash may report one again). */
  onEvent?: (channelId: string, event: MonitorEvent) => void | Promise<void>
  /** A broadcast the node refused for a reason other than "already known". */
  onBroadcastError?: (channelId: string, txid: string, reason: string, detail: string) => void
  onFatal?: (e: ChainWiped) => void | Promise<void>
  retryMs?: number
}

interface Entry { state: MonitorState; keys: MonitorKeys; dirty: boolean }

export class MonitorHost {
  private readonly monitors = new Map<string, Entry>()
  private tip: BlockRef[] = []
  private stopFollowing: (() => void) | null = null
  private timer: ReturnType<typeof setInterval> | null = null
  private queue: Promise<unknown> = Promise.resolve()
  /** Txids the node accepted or already had, by channel (for tests and status). */
  readonly broadcasted = new Map<string, Set<string>>()
  /** Broadcast attempts per txid (status, tests). */
  readonly attempts = new Map<string, number>()

  private constructor (private readonly opts: MonitorHostOptions) {}

  /** Loads every stored monitor and replays the updates each had not applied yet. */
  static async open (opts: MonitorHostOptions): Promise<Result<MonitorHost, { kind: 'bad_state'; detail: string }>> {
    const host = new MonitorHost(opts)
    const tipRaw = await opts.store.get(storeKeys.monitorTip)
    if (tipRaw !== undefined) host.tip = parseJsonValue(tipRaw) as BlockRef[]
    for await (const [key, value] of opts.store.iterate(storeKeys.monitorStatePrefix)) {
      const parsed = parseMonitorState(parseJsonValue(value))
      if (!parsed.ok) return { ok: false, error: { kind: 'bad_state', detail: `${key}: ${parsed.error}` } }
      const keys = await opts.keysFor(parsed.state.channelId)
      if (keys === undefined) return { ok: false, error: { kind: 'bad_state', detail: `${key}: no keys for channel ${parsed.state.channelId}` } }
      // A monitor is stored only when it changes; blocks without anything for it only moved its height.
      const top = host.tipRef()
      const state = top !== undefined && parsed.state.height < top.height ? { ...parsed.state, height: top.height, tipHash: top.hash } : parsed.state
      host.monitors.set(state.channelId, { state, keys, dirty: false })
      await host.replay(state.channelId)
    }
    return { ok: true, value: host }
  }

  /** Follows the chain from the last stored blocks (catching up on what was missed), and retries
   *  broadcasts every `retryMs`. */
  async start (): Promise<Result<void, ChainFailure>> {
    if (this.tip.length === 0) {
      // First start: follow from the current tip, and remember it, so that a restart after downtime
      // scans every block from here (scenario 11).
      const t = await this.opts.chain.tip()
      if (!t.ok) return t
      this.tip = [t.value]
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
    await this.serial(async () => { for (const id of this.monitors.keys()) await this.step(id, { kind: 'tick' }); await this.flush() })
    this.timer = setInterval(() => { void this.tick() }, this.opts.retryMs ?? DEFAULT_RETRY_MS)
    this.timer.unref()
    return ok(undefined)
  }

  async stop (): Promise<void> {
    this.stopFollowing?.()
    this.stopFollowing = null
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.serial(() => this.flush())
  }

  channels (): string[] { return [...this.monitors.keys()] }
  state (channelId: string): MonitorState | undefined { return this.monitors.get(channelId)?.state }

  /**
   * The channel's new monitor updates, after its persist batch stored them (call it with the batch's
   * `monitor` list). Creates the monitor on the first update. Missing earlier updates are read from
   * the store first.
   */
  addUpdates (channelId: string, updates: readonly MonitorUpdate[]): Promise<void> {
    return this.serial(async () => {
      if (!(await this.ensure(channelId))) return
      await this.replay(channelId)
      for (const u of updates) if (u.seq > this.monitors.get(channelId)!.state.lastSeq) await this.step(channelId, { kind: 'update', update: u })
      await this.flush()
    })
  }

  /** Starts monitoring a channel whose updates are already in the store (host startup). */
  adopt (channelId: string): Promise<void> {
    return this.serial(async () => { if (await this.ensure(channelId)) { await this.replay(channelId); await this.flush() } })
  }

  /** Close with our latest commitment (never if the monitor knows we lost state). */
  forceClose (channelId: string, reason = 'requested by the owner'): Promise<boolean> {
    return this.serial(async () => {
      if (!this.monitors.has(channelId)) return false
      await this.step(channelId, { kind: 'force_close', reason })
      await this.flush()
      return true
    })
  }

  /** Rebroadcasts what every monitor still wants. */
  tick (): Promise<void> {
    return this.serial(async () => {
      for (const [id, e] of this.monitors) if (!e.state.closed) await this.step(id, { kind: 'tick' })
      await this.flush()
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

  private async ensure (channelId: string): Promise<boolean> {
    if (this.monitors.has(channelId)) return true
    const keys = await this.opts.keysFor(channelId)
    if (keys === undefined) return false
    const top = this.tipRef()
    let height = top?.height ?? 0
    let hash = top?.hash ?? ''
    if (top === undefined) {
      const t = await this.opts.chain.tip()
      if (t.ok) { height = t.value.height; hash = t.value.hash }
    }
    this.monitors.set(channelId, { state: newMonitor(channelId, this.opts.config, height, hash), keys, dirty: true })
    return true
  }

  /** Applies stored updates the monitor has not seen (after a restart, or a missed addUpdates). */
  private async replay (channelId: string): Promise<void> {
    const e = this.monitors.get(channelId)!
    const pending: MonitorUpdate[] = []
    // Newest first, stopping at the first update already applied: called after every persist batch,
    // so it must cost the new updates only, not the channel's whole history (keys sort by seq).
    for await (const [, v] of this.opts.store.iterate(storeKeys.monitorPrefix(channelId), { reverse: true })) {
      const u = parseJsonValue(v) as MonitorUpdate
      if (u.seq <= e.state.lastSeq) break
      pending.push(u)
    }
    pending.sort((x, y) => x.seq - y.seq)
    const hadFunding = e.state.setup !== undefined
    for (const u of pending) await this.step(channelId, { kind: 'update', update: u })
    // A monitor created after its funding tx confirmed learns the confirmation height from the node.
    const f = this.monitors.get(channelId)!.state.setup?.funding
    if (!hadFunding && f !== undefined && this.monitors.get(channelId)!.state.fundingHeight === 0) {
      const lookup = await this.opts.chain.getRawTransaction(f.txid)
      if (lookup.ok && lookup.value?.block !== undefined) {
        const en = this.monitors.get(channelId)!
        en.state = { ...en.state, fundingHeight: lookup.value.block.height }
        en.dirty = true
      }
    }
  }

  private async onBlock (b: ChainBlock): Promise<void> {
    this.tip = [...this.tip.filter(x => x.height < b.height), { height: b.height, hash: b.hash }].slice(-TIP_WINDOW)
    const block: MonitorBlock = monitorBlockOf(b)
    for (const id of this.monitors.keys()) await this.step(id, { kind: 'block_connected', block })
  }

  private async onDisconnect (b: BlockRef): Promise<void> {
    this.tip = this.tip.filter(x => x.height < b.height)
    for (const id of this.monitors.keys()) await this.step(id, { kind: 'block_disconnected', height: b.height, hash: b.hash })
  }

  /** One monitor step: report decisions, mark the state to be stored, broadcast. */
  private async step (channelId: string, input: MonitorInput): Promise<void> {
    const e = this.monitors.get(channelId)!
    const r = monitorStep(e.state, input, e.keys)
    e.state = r.state
    for (const a of r.actions) {
      switch (a.kind) {
        case 'persist': e.dirty = true; break
        case 'watch': break // this host scans whole blocks
        case 'broadcast': break
        default: await this.opts.onEvent?.(channelId, a)
      }
    }
    for (const a of r.actions) if (a.kind === 'broadcast') await this.broadcast(channelId, a.txid, a.hex)
  }

  private async broadcast (channelId: string, txid: string, hex: string): Promise<void> {
    this.attempts.set(txid, (this.attempts.get(txid) ?? 0) + 1)
    const r = await this.opts.chain.broadcast(hex)
    if (r.ok || (r.error.kind === 'rejected' && (r.error.reason === 'already_in_mempool' || r.error.reason === 'already_in_chain'))) {
      let set = this.broadcasted.get(channelId)
      if (set === undefined) this.broadcasted.set(channelId, set = new Set())
      set.add(txid)
      return
    }
    // Refusals are expected while a claim races the peer's (missing_inputs, conflict) or a fee bump
    // is too small; the next block or retry rebuilds it from the chain.
    this.opts.onBroadcastError?.(channelId, txid, r.error.kind === 'rejected' ? r.error.reason : r.error.kind, r.error.detail)
  }

  /** Stores changed monitor states and the recent blocks, in one atomic write. */
  private async flush (): Promise<void> {
    const ops: StoreOp[] = []
    for (const e of this.monitors.values()) {
      if (!e.dirty) continue
      ops.push(put(storeKeys.monitorState(e.state.channelId), e.state))
      e.dirty = false
    }
    ops.push(put(storeKeys.monitorTip, this.tip))
    await this.opts.store.write(ops)
  }
}
