// A hub started from a restored backup treats itself as possibly behind (BOLT #2 data-loss
// protection): any channel may have moved on after the backup was taken, and a commitment of ours
// from the backup may be revoked, so broadcasting it could hand the peer every satoshi of the channel
// as a penalty. Each restored channel (restore/pending/<channel id>, written by restore.ts) is held:
//
// - its monitor never broadcasts our commitment (host/monitor MonitorHost `holdOwnCommitment`): not on
//   the operator's force close (refused), not on an HTLC deadline, not on the peer's error;
// - when the peer's channel_reestablish proves it current (the channel machine's `in_sync` outcome,
//   event `reestablished`), the mark is deleted and the channel runs as before; a channel closed
//   on-chain (or forgotten) is released at the next start;
// - when the peer proves us behind (`your_last_per_commitment_secret` for a later commitment),
//   protocol/channel/reestablish.ts already does what BOLT #2 asks: "MUST NOT broadcast its commitment
//   transaction. SHOULD send an `error` to request the peer to fail the channel." The monitor stores
//   do_not_broadcast for good; the peer closes with its latest commitment, and our monitor sweeps our
//   output from it (a commitment it knows nothing of: with static_remotekey our to_remote pays our
//   payment_basepoint directly, protocol/monitor/resolve.ts). The mark stays: it changes nothing more.
//
// What stays trusted: a peer answering `in_sync` shows our latest revocation secret is the one it
// holds; a peer that hides later secrets it got from us before the loss could penalize a commitment
// we later broadcast. BOLT #2's check cannot catch that; only a backup taken after every update could.
import type { Store } from '../../host/store/store.ts'
import { del, parseJsonValue } from '../../host/store/store.ts'
import { keys } from '../../host/store/keys.ts'
import type { ChannelEvent } from '../../protocol/channel/effects.ts'
import type { RestoreInfo } from './restore.ts'

export class RestoredChannels {
  private constructor (
    private readonly store: Store,
    private readonly pending: Set<string>,
    readonly info: RestoreInfo | undefined,
    private readonly log: (e: Record<string, unknown>) => void,
  ) {}

  /** The marks of a restored store (none for a store that was never restored). */
  static async load (store: Store, log: (e: Record<string, unknown>) => void): Promise<RestoredChannels> {
    const raw = await store.get(keys.restoreInfo)
    const info = raw === undefined ? undefined : parseJsonValue(raw) as RestoreInfo
    const pending = new Set<string>()
    for await (const [key] of store.iterate(keys.restorePendingPrefix)) pending.add(key.slice(keys.restorePendingPrefix.length))
    const self = new RestoredChannels(store, pending, info, log)
    if (info !== undefined) log({ event: 'restored_from_backup', ...info, channels_unverified: pending.size })
    return self
  }

  /** Whether our commitment of this channel must not be broadcast: restored, not proven current. */
  held (channelId: string): boolean { return this.pending.has(channelId) }

  /** Resolved channels need no hold: closed on-chain, or no longer known to the hub (abandoned before
   *  funding). Their marks are deleted (at startup, once the channels are loaded). */
  async releaseResolved (channels: ReadonlyArray<{ readonly channelId: string; readonly phase: string }>): Promise<void> {
    const open = new Set(channels.filter(c => c.phase !== 'closed').map(c => c.channelId))
    const resolved = [...this.pending].filter(id => !open.has(id))
    if (resolved.length === 0) return
    await this.store.write(resolved.map(id => del(keys.restorePending(id))))
    for (const id of resolved) this.pending.delete(id)
    this.log({ event: 'restored_channels_resolved', channels: resolved.length })
  }

  /** What GET /info says: the backup, and the channels still held (null: never restored). */
  view (): { backup_created_at: string; backup_height: number; channels_held: string[] } | null {
    if (this.info === undefined) return null
    return { backup_created_at: this.info.created_at, backup_height: this.info.height, channels_held: [...this.pending].sort() }
  }

  /** A channel's event: `reestablished` (in sync with the peer) lifts the hold, once stored. */
  event (channelId: string, ev: ChannelEvent): void {
    if (!this.pending.has(channelId)) return
    if (ev.type === 'reestablished') {
      this.store.write([del(keys.restorePending(channelId))]).then(() => {
        this.pending.delete(channelId)
        this.log({ event: 'restored_channel_verified', channel_id: channelId })
      }, e => { this.log({ event: 'restored_channel_verify_failed', channel_id: channelId, error: String(e) }) })
    } else if (ev.type === 'channel_failed') {
      this.log({ event: 'restored_channel_failed', channel_id: channelId, reason: ev.error.reason, detail: ev.error.detail })
    }
  }
}
