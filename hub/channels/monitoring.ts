// The hub's chain monitors: one MonitorHost (host/monitor) over the hub's Store and
// ChainBackend runs a BOLT #5 monitor for every channel. It is fed each channel's monitor updates
// after the persist batch that stored them is durable (ChannelManager `persisted`), follows the chain
// from its own stored tip (catching up on blocks missed while the hub was down, scenario 11), and
// sweeps every claim to the hub's wallet.
//
// What the hub does with the monitors' decisions:
//   htlc_resolved (an HTLC we offered downstream) → the router settles the upstream HTLC the same way:
//                                                   fulfilled with the preimage (scenario 8), or
//                                                   failed once the timeout is `depth` deep;
//   preimage_learned                               → the same, for every circuit out of this channel
//                                                   with that payment hash;
//   force_closing / closed                         → the channel's on-chain view (admin `channels`).
// A failed channel needs nothing here: its `force_close` monitor update makes the monitor broadcast
// our latest commitment.
//
// Force close goes through the channel: the operator's request is the channel machine's force_close
// command (it fails the channel, then its durable `force_close` update makes the monitor broadcast),
// and a monitor that decides on its own (an HTLC deadline) has the channel failed the same way before
// it broadcasts (MonitorHost failChannel). A failed channel sends nothing more, so it never revokes
// the commitment that goes on-chain.
//
// Stale channel state (scenario 6): a channel whose stored state has `monitorSeq` below what its
// monitor already applied restarted from an older state than the monitor: it must not run (its next
// commitment could reuse a revoked number); the monitor closes with its newest commitment instead.
import { forceCloseOutcome, isFinal, type ForceCloseOutcome, type MonitorUpdate } from '../../protocol/channel/index.ts'
import { channelKeys } from '../../protocol/keys/channel.ts'
import { MAX_QUOTED_CHARS } from '../../protocol/limits.ts'
import { monitorKeys } from '../../protocol/monitor/index.ts'
import { hexToBytes } from '../../protocol/types.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import { MonitorHost, type MonitorEvent } from '../../host/monitor/index.ts'
import { MonitorUpdateFeed } from '../../host/monitor/update-feed.ts'
import type { CircuitStore } from '../router/circuits.ts'
import type { Router } from '../router/router.ts'
import type { Store } from '../../host/store/index.ts'
import type { ChannelManager, ManagedChannel } from './manager.ts'

export interface HubMonitoringOptions {
  store: Store
  chain: ChainBackend
  manager: ChannelManager
  router: Router
  circuits: CircuitStore
  /** The hub wallet's output script (hex) every claim pays. */
  sweepScript: string
  /** Confirmations before an on-chain outcome goes upstream (the hub's finality depth). */
  depth: number
  feeratePerKw: number
  log: (event: Record<string, unknown>) => void
  fatal: (why: string, detail: unknown) => void
  retryMs?: number
}

/** What the monitor knows about a channel that went on-chain (the admin view). */
export interface OnChainView { forceClosing?: string; closed?: string; stale?: true }

/** What an operator's force close did: the channel machine's outcome, or why there was none. */
export type HubForceClose = ForceCloseOutcome | { kind: 'unknown_channel' } | { kind: 'stopped' }

export class HubMonitoring {
  private readonly views = new Map<string, OnChainView>()
  /** Updates waiting to be fed, per channel (persists of one channel coalesce into one host call). */
  private readonly feed: MonitorUpdateFeed
  /** Channels that must not run: their state is older than their monitor's (scenario 6). */
  readonly stale = new Set<string>()

  private constructor (private readonly opts: HubMonitoringOptions, readonly host: MonitorHost) {
    this.feed = new MonitorUpdateFeed(host, e => { opts.fatal('store_failed', e) })
  }

  /** Opens the host over every stored monitor and every loaded channel (call after manager.load()),
   *  closes stale channels from their monitor, then follows the chain. */
  static async start (opts: HubMonitoringOptions): Promise<HubMonitoring> {
    let self: HubMonitoring | undefined
    const opened = await MonitorHost.open({
      store: opts.store,
      chain: opts.chain,
      keysFor: id => {
        const ch = opts.manager.get(id)
        return ch === undefined ? undefined : monitorKeys(channelKeys(hexToBytes(ch.seed)))
      },
      config: { sweepScript: opts.sweepScript, depth: opts.depth, feeratePerKw: opts.feeratePerKw },
      onEvent: async (id, ev) => { await self?.onEvent(id, ev) },
      failChannel: async (id, reason) => { await self?.failChannel(id, `monitor: ${reason}`) },
      onBroadcastError: (id, txid, reason, detail) => { opts.log({ event: 'monitor_broadcast_refused', channel_id: id, txid, reason, detail: detail.slice(0, MAX_QUOTED_CHARS) }) },
      onFatal: e => { opts.fatal('chain_wiped', e.detail) },
      ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}),
    })
    if (!opened.ok) throw new Error(`monitor: ${opened.error.detail}`)
    self = new HubMonitoring(opts, opened.value)
    const host = opened.value
    // One pass over every channel (no store read or write per channel): a monitor with nothing at
    // stake stays unloaded unless the channel has updates past its checkpoint. The channel record
    // and its updates are stored in one atomic batch (manager.ts), so its monitorSeq is its last
    // stored update; a record older than the monitor's checkpoint is caught below.
    const channels = opts.manager.all()
    await host.adoptAll(channels.map(ch => ({ id: ch.channelId, lastSeq: ch.state.monitorSeq })))
    for (const ch of channels) {
      const id = ch.channelId
      const monitorSeq = host.lastSeq(id)
      if (monitorSeq !== undefined && ch.state.monitorSeq < monitorSeq) {
        // Scenario 6: never run a channel restored from an older state than its monitor's.
        self.stale.add(id)
        self.view(id).stale = true
        opts.log({ event: 'channel_stale', channel_id: id, state_seq: ch.state.monitorSeq, monitor_seq: monitorSeq })
        await host.forceClose(id, 'channel state older than its monitor (restored from a backup?)')
      }
    }
    const started = await host.start()
    if (!started.ok) throw new Error(`monitor: chain: ${started.error.detail}`)
    return self
  }

  /** A channel's persist batch (with these monitor updates) is durable. Never waits for the monitor:
   *  the updates are in the store, and the host replays any it has not applied. */
  persisted (channelId: string, updates: readonly MonitorUpdate[]): void {
    this.feed.persisted(channelId, updates)
  }

  /** Operator: close the channel with our latest commitment. The channel machine fails the channel
   *  first; resolves once the monitor has acted on the durable `force_close` update (broadcast). A
   *  stale channel (it must not run) is closed by its monitor, which holds the newer state. */
  async forceClose (channelId: string, reason = 'operator request'): Promise<HubForceClose> {
    const ch = this.opts.manager.get(channelId)
    if (ch === undefined) return { kind: 'unknown_channel' }
    if (this.stale.has(channelId)) {
      await this.feed.idle()
      await this.host.forceClose(channelId, reason)
      this.opts.log({ event: 'force_close_requested', channel_id: channelId, reason, stale: true })
      return { kind: 'already_failed' }
    }
    let outcome: ForceCloseOutcome | undefined
    const r = await ch.driver.command({ type: 'force_close', reason }, before => { outcome = forceCloseOutcome(before) })
    if (r === 'stopped' || outcome === undefined) return { kind: 'stopped' }
    this.opts.log({ event: 'force_close_requested', channel_id: channelId, reason, outcome: outcome.kind })
    // The force_close update was handed to the feed when its write became durable: once the feed is
    // idle the monitor has applied it (and broadcast our commitment).
    await this.feed.idle()
    return outcome
  }

  /** The monitor goes on-chain on its own: fail the channel first (resolves once that is durable). */
  private async failChannel (channelId: string, reason: string): Promise<void> {
    const ch = this.opts.manager.get(channelId)
    if (ch === undefined || this.stale.has(channelId) || isFinal(ch.state.phase)) return
    await ch.driver.command({ type: 'force_close', reason })
  }

  /** A channel abandoned before its funding confirmed is forgotten: its monitor goes with it (after
   *  the updates already handed in, so none of them creates it again). */
  async forget (channelId: string): Promise<void> {
    await this.feed.idle()
    await this.host.forget(channelId)
    this.views.delete(channelId)
  }

  /** The on-chain view of a channel (undefined while it is only off-chain). */
  onChain (channelId: string): OnChainView | undefined { return this.views.get(channelId) }

  async stop (): Promise<void> {
    await this.feed.idle()
    await this.host.stop()
  }

  private view (id: string): OnChainView {
    let v = this.views.get(id)
    if (v === undefined) this.views.set(id, v = {})
    return v
  }

  private async onEvent (channelId: string, ev: MonitorEvent): Promise<void> {
    const ch = this.opts.manager.get(channelId)
    switch (ev.kind) {
      case 'force_closing':
        this.view(channelId).forceClosing = ev.reason
        this.opts.log({ event: 'monitor_force_closing', channel_id: channelId, reason: ev.reason })
        return
      case 'closed':
        this.view(channelId).closed = ev.how
        this.opts.log({ event: 'monitor_closed', channel_id: channelId, how: ev.how })
        return
      case 'htlc_resolved':
        this.opts.log({ event: 'monitor_htlc_resolved', channel_id: channelId, htlc_id: ev.htlc.id, offerer: ev.htlc.offerer, outcome: ev.outcome })
        // Only HTLCs we offered downstream have an upstream to settle.
        if (ch === undefined || ev.htlc.offerer !== 'local') return
        if (ev.outcome === 'fulfilled' && ev.preimage !== undefined) this.downstreamFulfilled(ch, ev.htlc.id, ev.htlc.paymentHash, ev.preimage)
        else if (ev.outcome === 'failed') this.opts.router.failedOnChain(ch, ev.htlc.id)
        return
      case 'preimage_learned':
        this.opts.log({ event: 'monitor_preimage_learned', channel_id: channelId, payment_hash: ev.paymentHash })
        if (ch === undefined) return
        for (const c of this.opts.circuits.outgoing(channelId)) {
          if (c.in.paymentHash === ev.paymentHash && c.out.htlcId !== undefined) this.downstreamFulfilled(ch, c.out.htlcId, ev.paymentHash, ev.preimage)
        }
        return
      case 'funding_depth': return
      case 'warning':
        this.opts.log({ event: 'monitor_warning', channel_id: channelId, detail: ev.detail })
    }
  }

  /** The router's own path for a downstream fulfil (scenario 8): it stores the preimage and the
   *  circuit's outcome, then fulfils the upstream HTLC. Idempotent (a resolved circuit is resent). */
  private downstreamFulfilled (ch: ManagedChannel, htlcId: number, paymentHash: string, preimage: string): void {
    this.opts.router.fulfilledOnChain(ch, htlcId, paymentHash, preimage)
  }
}
