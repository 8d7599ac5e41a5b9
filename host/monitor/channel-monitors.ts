// The chain monitors of an owner's channels, the hub's or an SDK client's: one MonitorHost over the
// owner's Store and ChainBackend runs a BOLT #5 monitor for every channel, so the owner enforces its
// latest state — and punishes a counterparty that broadcasts a revoked one — alone. Hub and SDK differ
// only in what they do with the monitors' decisions (onEvent) and how they report trouble.
//
// Feeding. Each channel's monitor updates are handed in once the persist batch that stored them is
// durable (host/channel/persist.ts `persisted`), without making the channel wait: the updates are in
// the store, and the host replays any it has not applied (update-feed.ts).
//
// Startup. The host follows the chain from its own stored tip (catching up on blocks missed while the
// owner was down, scenario 11). Every loaded channel is adopted with its state's monitorSeq: the
// record and its updates are stored in one atomic batch (persist.ts), so that is its last stored
// update. Stale channel state (scenario 6): a channel whose state has monitorSeq below what its monitor
// already applied restarted from an older state than the monitor; it must not run (its next
// commitment could reuse a revoked number), and the monitor closes with its newest commitment instead.
//
// The channel learns what its monitor saw (channelLearns): when a transaction spending the funding
// output confirms, a channel that is not closing already fails (BOLT #5), so it sends and signs
// nothing more; when every output is resolved at depth, the channel is closed (phase `closed`,
// stored). Decisions the monitors report while they open (replayed at startup) reach the channels once
// stale channels are known; a channel whose monitor closed it while the owner was down is closed then.
// What those channels store while the monitors start (a failed channel's `force_close` update) the
// owner cannot hand in yet (it gets the monitors when start resolves): start has the host replay it.
//
// Force close goes through the channel: the owner's request is the channel machine's force_close
// command (it fails the channel, then its durable `force_close` update makes the monitor broadcast),
// and a monitor that decides on its own (an HTLC deadline) has the channel failed the same way before
// it broadcasts (MonitorHost failChannel). A failed channel sends nothing more, so it never revokes the
// commitment that goes on-chain.
import { forceCloseOutcome, isFinal, type ChannelState, type ForceCloseOutcome, type MonitorUpdate } from '../../protocol/channel/index.ts'
import { channelError } from '../../protocol/errors.ts'
import type { ChannelKeys } from '../../protocol/keys/channel.ts'
import { monitorKeys } from '../../protocol/monitor/index.ts'
import type { ChainBackend, ChainFailure, ChainWiped } from '../chain/backend.ts'
import { err, ok, type Result } from '../../protocol/result.ts'
import type { ChannelDriver } from '../channel/driver.ts'
import type { Store } from '../store/store.ts'
import { MonitorHost, type MonitorEvent } from './host.ts'
import { MonitorUpdateFeed } from './update-feed.ts'

/** A channel as the monitors see it: its state, and its driver (built when used). */
export interface MonitoredChannel {
  readonly state: ChannelState
  readonly driver: ChannelDriver
}

export interface ChannelMonitorsOptions {
  store: Store
  chain: ChainBackend
  /** The owner's channel with this id (undefined: unknown, or forgotten). */
  channel: (channelId: string) => MonitoredChannel | undefined
  /** A channel's keys (protocol/keys/channel.ts, from its stored seed); undefined for an unknown one. */
  keysOf: (channelId: string) => ChannelKeys | undefined
  /** Channels loaded from the store at startup. */
  loaded: ReadonlyArray<{ readonly state: ChannelState }>
  /** The owner's wallet output script (hex) every claim pays. */
  sweepScript: string
  /** Confirmations before an on-chain outcome is reported. */
  depth: number
  feeratePerKw: number
  /** A decision, awaited: the monitor stores it as reported only after this resolves (at least once,
   *  so handlers are idempotent). */
  onEvent: (channelId: string, event: MonitorEvent) => void | Promise<void>
  /** A broadcast the node refused for a reason other than "already known". */
  onBroadcastError: (channelId: string, txid: string, reason: string, detail: string) => void
  /** The chain under the monitors vanished (scenario 12). */
  onChainWiped: (e: ChainWiped) => void
  /** Feeding updates to the monitors failed (the store refused a read or write). */
  onFeedError: (e: unknown) => void
  /** A loaded channel is stale (scenario 6): it must not run. Told before its monitor closes it. */
  onStale?: (channelId: string, stateSeq: number, monitorSeq: number) => void
  /** MonitorHost's holdOwnCommitment and onHeld: our commitment of a channel that must not go on-chain
   *  yet (a restored hub's channel not proven current). Force close is refused for it too. */
  holdOwnCommitment?: (channelId: string) => boolean
  onHeld?: (channelId: string, txid: string) => void
  retryMs?: number
}

export type MonitorStartFailure = { kind: 'bad_state'; detail: string } | ChainFailure

/** What a force close did: the channel machine's outcome, or why there was none. */
export type ChannelForceClose = ForceCloseOutcome | { kind: 'unknown_channel' } | { kind: 'stopped' }

export class ChannelMonitors {
  /** Channels that must not run: their state is older than their monitor's (scenario 6). */
  readonly stale = new Set<string>()
  private readonly feed: MonitorUpdateFeed
  /** Channels the monitors' decisions changed while start runs (undefined after): their stored
   *  updates never reached the feed, so start has the host replay them. */
  private changedWhileStarting: Set<string> | undefined = new Set()

  private constructor (private readonly opts: ChannelMonitorsOptions, readonly host: MonitorHost) {
    this.feed = new MonitorUpdateFeed(host, opts.onFeedError)
  }

  /** Opens the host over every stored monitor and every loaded channel, closes stale channels from
   *  their monitor, then follows the chain. */
  static async start (opts: ChannelMonitorsOptions): Promise<Result<ChannelMonitors, MonitorStartFailure>> {
    let self: ChannelMonitors | undefined
    const early: Array<[string, MonitorEvent]> = []
    const opened = await MonitorHost.open({
      store: opts.store,
      chain: opts.chain,
      keysFor: id => { const k = opts.keysOf(id); return k === undefined ? undefined : monitorKeys(k) },
      config: { sweepScript: opts.sweepScript, depth: opts.depth, feeratePerKw: opts.feeratePerKw },
      onEvent: async (id, ev) => {
        if (self === undefined) early.push([id, ev]); else await self.channelLearns(id, ev)
        await opts.onEvent(id, ev)
      },
      failChannel: async (id, reason) => { await self?.failChannel(id, `monitor: ${reason}`) },
      onBroadcastError: opts.onBroadcastError,
      onFatal: e => { opts.onChainWiped(e) },
      ...(opts.holdOwnCommitment !== undefined ? { holdOwnCommitment: opts.holdOwnCommitment } : {}),
      ...(opts.onHeld !== undefined ? { onHeld: opts.onHeld } : {}),
      ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}),
    })
    if (!opened.ok) return err(opened.error)
    const host = opened.value
    self = new ChannelMonitors(opts, host)
    // One pass over every channel (no store read or write per channel): a monitor with nothing at
    // stake stays unloaded unless the channel has updates past its checkpoint.
    const loaded = opts.loaded.map(ch => ch.state)
    await host.adoptAll(loaded.map(s => ({ id: s.channelId, lastSeq: s.monitorSeq })))
    for (const s of loaded) {
      const id = s.channelId
      const monitorSeq = host.lastSeq(id)
      if (monitorSeq !== undefined && s.monitorSeq < monitorSeq) {
        // Scenario 6: never run a channel restored from an older state than its monitor's.
        self.stale.add(id)
        opts.onStale?.(id, s.monitorSeq, monitorSeq)
        await host.forceClose(id, 'channel state older than its monitor (restored from a backup?)')
      }
    }
    for (const [id, ev] of early.splice(0)) await self.channelLearns(id, ev)
    for (const s of loaded) {
      if (s.phase !== 'closed' && host.closed(s.channelId) === true) await self.closedOnChain(s.channelId)
    }
    const started = await host.start()
    if (!started.ok) return err(started.error)
    const changed = self.changedWhileStarting!
    while (changed.size > 0) {
      const ids = [...changed]
      changed.clear()
      await host.adoptAll(ids.map(id => ({ id, lastSeq: opts.channel(id)?.state.monitorSeq ?? 0 })))
    }
    self.changedWhileStarting = undefined
    return ok(self)
  }

  /** A channel's persist batch (with these monitor updates) is durable. Never waits for the monitor:
   *  the updates are in the store, and the host replays any it has not applied. */
  persisted (channelId: string, updates: readonly MonitorUpdate[]): void {
    this.feed.persisted(channelId, updates)
  }

  /** Resolves once every update handed in so far has reached the monitors (and what they decided on
   *  it, such as a broadcast, is done). */
  async idle (): Promise<void> { await this.feed.idle() }

  /** Closes the channel with our latest commitment. The channel machine fails the channel first;
   *  resolves once the monitor has acted on the durable `force_close` update (broadcast). A stale
   *  channel (it must not run) is closed by its monitor, which holds the newer state. */
  async forceClose (channelId: string, reason: string): Promise<ChannelForceClose> {
    const ch = this.opts.channel(channelId)
    if (ch === undefined) return { kind: 'unknown_channel' }
    if (this.opts.holdOwnCommitment?.(channelId) === true) return {
      kind: 'refused', error: channelError(
        'restored_unverified',
        'restored from a backup, and the peer has not proven this channel current: our commitment may be revoked; ' +
          'when the peer reconnects it either resumes the channel or closes it with its own commitment',
      ),
    }
    if (this.stale.has(channelId)) {
      await this.feed.idle()
      await this.host.forceClose(channelId, reason)
      return { kind: 'already_failed' }
    }
    let outcome: ForceCloseOutcome | undefined
    const r = await ch.driver.command({ type: 'force_close', reason }, before => { outcome = forceCloseOutcome(before) })
    if (r === 'stopped' || outcome === undefined) return { kind: 'stopped' }
    // The force_close update was handed to the feed when its write became durable: once the feed is
    // idle the monitor has applied it (and broadcast our commitment).
    await this.feed.idle()
    return outcome
  }

  /** What the channel must know of its monitor's findings; resolves once the channel stored it. */
  private async channelLearns (channelId: string, ev: MonitorEvent): Promise<void> {
    if (ev.kind === 'closed') return await this.closedOnChain(channelId)
    if (ev.kind !== 'funding_spent') return
    const ch = this.opts.channel(channelId)
    if (ch === undefined || this.stale.has(channelId)) return
    // BOLT #5: "upon the funding transaction being spent, if the channel is NOT already closed: MAY
    // send a descriptive `error`. SHOULD fail the channel."
    if (isFinal(ch.state.phase)) return
    await ch.driver.command({ type: 'force_close', reason: `the funding output is spent on-chain (${ev.how}, ${ev.txid})` })
    this.changedWhileStarting?.add(channelId)
  }

  /** Every output is resolved at depth: the channel is closed (stored). */
  private async closedOnChain (channelId: string): Promise<void> {
    const ch = this.opts.channel(channelId)
    if (ch === undefined || this.stale.has(channelId) || ch.state.phase === 'closed') return
    await ch.driver.chain({ type: 'closed_onchain' })
    this.changedWhileStarting?.add(channelId)
  }

  /** The monitor goes on-chain on its own: fail the channel first (resolves once that is durable). */
  private async failChannel (channelId: string, reason: string): Promise<void> {
    const ch = this.opts.channel(channelId)
    if (ch === undefined || this.stale.has(channelId) || isFinal(ch.state.phase)) return
    await ch.driver.command({ type: 'force_close', reason })
    this.changedWhileStarting?.add(channelId)
  }

  /** A channel abandoned before its funding confirmed is forgotten: its monitor goes with it (after
   *  the updates already handed in, so none of them creates it again). */
  async forget (channelId: string): Promise<void> {
    await this.feed.idle()
    await this.host.forget(channelId)
  }

  async stop (): Promise<void> {
    await this.feed.idle()
    await this.host.stop()
  }
}
