// Feeds a MonitorHost the monitor updates of channels whose persist batch is durable, without making
// the channel wait for the monitor: the updates are already in the store (same batch as the channel
// state), and the host replays any it has not applied. Updates of one channel keep their order;
// updates arriving while a drain runs are merged into the next round. Used by the hub and the SDK.
import type { MonitorUpdate } from '../../protocol/channel/index.ts'
import type { MonitorHost } from './host.ts'

export class MonitorUpdateFeed {
  private readonly pending = new Map<string, MonitorUpdate[]>()
  private draining: Promise<void> | undefined

  constructor (private readonly host: MonitorHost, private readonly onError: (e: unknown) => void) {}

  /** A persist batch with these updates is durable. Never waits for the monitor. */
  persisted (channelId: string, updates: readonly MonitorUpdate[]): void {
    if (updates.length === 0) return
    const list = this.pending.get(channelId)
    if (list === undefined) this.pending.set(channelId, [...updates])
    else list.push(...updates)
    this.draining ??= this.drain()
  }

  /** Resolves once every update handed in so far has reached the host. */
  async idle (): Promise<void> { await this.draining }

  private async drain (): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const batch = [...this.pending]
        this.pending.clear()
        for (const [id, updates] of batch) await this.host.addUpdates(id, updates)
      }
    } catch (e) {
      this.onError(e)
    } finally {
      this.draining = undefined
    }
  }
}
