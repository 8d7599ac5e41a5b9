// The hub's chain monitors: ChannelMonitors (host/monitor) over the hub's Store and ChainBackend runs
// a BOLT #5 monitor for every channel. It is fed each channel's monitor updates after the persist
// batch that stored them is durable (ChannelManager `persisted`), follows the chain from its own stored
// tip (catching up on blocks missed while the hub was down, scenario 11), and sweeps every claim to
// the hub's wallet.
//
// What the hub does with the monitors' decisions:
//   htlc_resolved (an HTLC we offered downstream) → the router settles the upstream HTLC the same way:
//                                                   fulfilled with the preimage (scenario 8), or
//                                                   failed once the timeout is `depth` deep;
//   preimage_learned                               → the same, for every circuit out of this channel
//                                                   with that payment hash;
//   htlc_resolved / closed                         → the account's accounting rows of the chain's
//                                                   outcome (resolvedOnChain);
//   force_closing / funding_spent / closed         → logged. The channel itself learns of the spend and
//                                                   the close (host/monitor/channel-monitors.ts).
// A failed channel needs nothing here: its `force_close` monitor update makes the monitor broadcast
// our latest commitment. What a monitor saw and swept is read from its state when the operator asks
// (onChain: the admin API's `onchain` and `/closed`), so it is the same after a restart.
//
// The monitors themselves, their feed, startup adoption, stale channels (scenario 6) and force close
// through the channel machine are host/monitor/channel-monitors.ts, the same for the hub and the SDK.
import { channelKeys } from '../../protocol/keys/channel.ts'
import { MAX_QUOTED_CHARS } from '../../protocol/limits.ts'
import { hexToBytes } from '../../protocol/types.ts'
import type { MonitorUpdate } from '../../protocol/channel/index.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import type { OnChainSummary } from '../../protocol/monitor/index.ts'
import { ChannelMonitors, type ChannelForceClose, type MonitorEvent, type MonitorHost } from '../../host/monitor/index.ts'
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
  /** Channels whose own commitment must not go on-chain yet (restored, not proven current:
   *  hub/backup/restored.ts). */
  held?: (channelId: string) => boolean
  /** A failed channel's monitor resolved an HTLC or every output (its accounting rows read the
   *  monitor's state then: hub/accounting/chain-moves.ts onchain). Never awaited by the monitor. */
  resolvedOnChain?: (channelId: string) => void
  retryMs?: number
}

/** What the monitor knows about a channel on-chain (the admin view): its summary, and whether the
 *  channel is stale (scenario 6: it does not run, its monitor closed it). */
export interface OnChainView extends OnChainSummary { stale: boolean }

/** What an operator's force close did: the channel machine's outcome, or why there was none. */
export type HubForceClose = ChannelForceClose

export class HubMonitoring {
  /** Summaries of closed monitors: nothing changes them any more. */
  private readonly closedViews = new Map<string, OnChainSummary>()

  /** Set by start(), before the monitors report anything: decisions of the catch-up reach onEvent. */
  private monitors!: ChannelMonitors

  private constructor (private readonly opts: HubMonitoringOptions) {}

  /** The monitors' host (status, tests). */
  get host (): MonitorHost { return this.monitors.host }
  /** Channels that must not run: their state is older than their monitor's (scenario 6). */
  get stale (): ReadonlySet<string> { return this.monitors.stale }

  /** Opens the monitors over every stored monitor and every loaded channel (call after
   *  manager.load()), closes stale channels from their monitor, then follows the chain. */
  static async start (opts: HubMonitoringOptions): Promise<HubMonitoring> {
    const self = new HubMonitoring(opts)
    const started = await ChannelMonitors.start({
      store: opts.store,
      chain: opts.chain,
      channel: id => opts.manager.get(id),
      keysOf: id => { const ch = opts.manager.get(id); return ch === undefined ? undefined : channelKeys(hexToBytes(ch.seed)) },
      loaded: opts.manager.all(),
      sweepScript: opts.sweepScript,
      depth: opts.depth,
      feeratePerKw: opts.feeratePerKw,
      onEvent: async (id, ev) => { await self.onEvent(id, ev) },
      onBroadcastError: (id, txid, reason, detail) => {
        opts.log({ event: 'monitor_broadcast_refused', channel_id: id, txid, reason, detail: detail.slice(0, MAX_QUOTED_CHARS) })
      },
      onChainWiped: e => { opts.fatal('chain_wiped', e.detail) },
      onFeedError: e => { opts.fatal('store_failed', e) },
      onStale: (id, stateSeq, monitorSeq) => {
        opts.log({ event: 'channel_stale', channel_id: id, state_seq: stateSeq, monitor_seq: monitorSeq })
      },
      ...(opts.held !== undefined ? {
        holdOwnCommitment: opts.held,
        onHeld: (id: string, txid: string) => { opts.log({ event: 'restored_commitment_held', channel_id: id, txid }) },
      } : {}),
      ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}),
    })
    if (!started.ok) {
      const e = started.error
      throw new Error(e.kind === 'bad_state' ? `monitor: ${e.detail}` : `monitor: chain: ${e.detail}`)
    }
    self.monitors = started.value
    return self
  }

  /** A channel's persist batch (with these monitor updates) is durable. Never waits for the monitor. */
  persisted (channelId: string, updates: readonly MonitorUpdate[]): void {
    this.monitors.persisted(channelId, updates)
  }

  /** Operator: close the channel with our latest commitment (ChannelMonitors.forceClose). */
  async forceClose (channelId: string, reason = 'operator request'): Promise<HubForceClose> {
    const stale = this.monitors.stale.has(channelId)
    const outcome = await this.monitors.forceClose(channelId, reason)
    if (outcome.kind !== 'unknown_channel' && outcome.kind !== 'stopped') {
      const how = stale ? { stale: true } : { outcome: outcome.kind }
      this.opts.log({ event: 'force_close_requested', channel_id: channelId, reason, ...how })
    }
    return outcome
  }

  /** A channel abandoned before its funding confirmed is forgotten, and its monitor with it. */
  async forget (channelId: string): Promise<void> {
    await this.monitors.forget(channelId)
  }

  /** What the channel's monitor saw on-chain and swept (loads the monitor if it is not in memory);
   *  undefined for a channel without a monitor. */
  async onChain (channelId: string): Promise<OnChainView | undefined> {
    const stale = this.monitors.stale.has(channelId)
    const known = this.closedViews.get(channelId)
    if (known !== undefined) return { ...known, stale }
    const summary = await this.monitors.host.summary(channelId)
    if (summary === undefined) return undefined
    if (summary.closed) this.closedViews.set(channelId, summary)
    return { ...summary, stale }
  }

  async stop (): Promise<void> { await this.monitors.stop() }

  private async onEvent (channelId: string, ev: MonitorEvent): Promise<void> {
    const ch = this.opts.manager.get(channelId)
    if (ev.kind === 'htlc_resolved' || ev.kind === 'closed') this.opts.resolvedOnChain?.(channelId)
    switch (ev.kind) {
      case 'force_closing':
        this.opts.log({ event: 'monitor_force_closing', channel_id: channelId, reason: ev.reason })
        return
      case 'funding_spent':
        this.opts.log({ event: 'monitor_funding_spent', channel_id: channelId, txid: ev.txid, how: ev.how })
        return
      case 'closed':
        this.opts.log({ event: 'monitor_closed', channel_id: channelId, how: ev.how })
        return
      case 'htlc_resolved':
        this.opts.log({
          event: 'monitor_htlc_resolved', channel_id: channelId, htlc_id: ev.htlc.id, offerer: ev.htlc.offerer, outcome: ev.outcome,
        })
        // Only HTLCs we offered downstream have an upstream to settle.
        if (ch === undefined || ev.htlc.offerer !== 'local') return
        if (ev.outcome === 'fulfilled' && ev.preimage !== undefined) this.downstreamFulfilled(
          ch, ev.htlc.id, ev.htlc.paymentHash, ev.preimage,
        )
        else if (ev.outcome === 'failed') this.opts.router.failedOnChain(ch, ev.htlc.id)
        return
      case 'preimage_learned':
        this.opts.log({ event: 'monitor_preimage_learned', channel_id: channelId, payment_hash: ev.paymentHash })
        if (ch === undefined) return
        for (const c of this.opts.circuits.outgoing(channelId)) {
          if (c.in.paymentHash === ev.paymentHash && c.out.htlcId !== undefined) this.downstreamFulfilled(
            ch, c.out.htlcId, ev.paymentHash, ev.preimage,
          )
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
