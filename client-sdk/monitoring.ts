// The SDK's chain monitors: one MonitorHost (host/monitor) over the client's own
// Store and ChainBackend runs a BOLT #5 monitor for each of the client's channels, so the client can
// enforce its latest state — and punish a hub that broadcasts a revoked one — without the hub's help.
// Fed each channel's monitor updates after the persist batch that stored them is durable; catches up
// on the blocks missed while the client was stopped; every claim pays the client's wallet.
import type { MonitorUpdate } from '../protocol/channel/index.ts'
import { monitorKeys, type MonitorKeys } from '../protocol/monitor/index.ts'
import type { ChainBackend } from '../host/chain/backend.ts'
import { MAX_QUOTED_CHARS } from '../protocol/limits.ts'
import { MonitorHost, type MonitorEvent } from '../host/monitor/index.ts'
import { MonitorUpdateFeed } from '../host/monitor/update-feed.ts'
import type { Store } from '../host/store/index.ts'

export type { MonitorEvent }

export interface ClientMonitoringOptions {
  store: Store
  chain: ChainBackend
  /** A channel's keys (from its stored seed); undefined for a channel the client does not know. */
  keysOf: (channelId: string) => Parameters<typeof monitorKeys>[0] | undefined
  /** The client wallet's output script (hex) every claim pays. */
  sweepScript: string
  depth: number
  feeratePerKw: number
  /** Awaited: the monitor stores a decision as reported only after this resolves (at least once). */
  onEvent: (channelId: string, event: MonitorEvent) => void | Promise<void>
  /** The monitor goes on-chain on its own (an HTLC deadline): fail the channel first, resolving once
   *  that is durable (MonitorHost failChannel). */
  failChannel: (channelId: string, reason: string) => Promise<void>
  warn: (detail: string) => void
  /** Channel ids loaded from the store at startup. */
  channels: string[]
  retryMs?: number
}

export class ClientMonitoring {
  private readonly feed: MonitorUpdateFeed

  private constructor (readonly host: MonitorHost, warn: (d: string) => void) {
    this.feed = new MonitorUpdateFeed(host, e => { warn(`monitor: feeding updates failed: ${String(e)}`) })
  }

  static async start (o: ClientMonitoringOptions): Promise<ClientMonitoring> {
    const opened = await MonitorHost.open({
      store: o.store,
      chain: o.chain,
      keysFor: (id): MonitorKeys | undefined => { const k = o.keysOf(id); return k === undefined ? undefined : monitorKeys(k) },
      config: { sweepScript: o.sweepScript, depth: o.depth, feeratePerKw: o.feeratePerKw },
      onEvent: async (id, ev) => { await o.onEvent(id, ev) },
      failChannel: o.failChannel,
      onBroadcastError: (id, txid, reason, detail) => { o.warn(`monitor of channel ${id}: broadcast of ${txid} refused (${reason}): ${detail.slice(0, MAX_QUOTED_CHARS)}`) },
      onFatal: e => { o.warn(`monitor: the chain was wiped: ${e.detail}`) },
      ...(o.retryMs !== undefined ? { retryMs: o.retryMs } : {}),
    })
    if (!opened.ok) throw new Error(`monitor: ${opened.error.detail}`)
    for (const id of o.channels) await opened.value.adopt(id)
    const started = await opened.value.start()
    if (!started.ok) throw new Error(`monitor: chain: ${started.error.detail}`)
    return new ClientMonitoring(opened.value, o.warn)
  }

  /** A persist batch with these updates is durable. Never waits for the monitor: the updates are in
   *  the store, and the host replays any it has not applied. */
  persisted (channelId: string, updates: readonly MonitorUpdate[]): void {
    this.feed.persisted(channelId, updates)
  }

  /** Resolves once every update handed in so far has reached the monitors (and what they decided
   *  on it, such as a broadcast, is done). */
  async idle (): Promise<void> { await this.feed.idle() }

  async stop (): Promise<void> {
    await this.feed.idle()
    await this.host.stop()
  }
}
