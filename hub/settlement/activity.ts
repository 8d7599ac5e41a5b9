// Each channel's last activity height, the clock of a policy's "close when idle for N blocks"
// (docs/DESIGN.md "Batched settlement", idle closes). Activity is a change of what the channel holds:
// it became ready, an HTLC was added, settled or failed (in or out), or a splice locked (a new
// funding outpoint). A channel write that carries such a change carries the height with it:
//
//   activity/<channel id>   the height of the channel's last activity (hub/channels/manager.ts carries
//                           it in the channel's own write batch: no write of its own, no extra sync)
//
// The op rides in the same atomic batch as the channel state that shows the change, so the stored
// height and the stored state are durable together: a crash loses neither without the other. A
// channel without a record (a hub from before this record, or a write that failed before any) counts
// from the height the hub saw it first at, written once at start: that can only make an idle close
// later, never earlier. A reorg that lowers the tip leaves heights above it: later again.
import type { ChannelState } from '../../protocol/channel/index.ts'
import type { PersistRequest } from '../../host/channel/index.ts'
import { keys } from '../../host/store/keys.ts'
import { del, parseJsonValue, put, type Store, type StoreOp } from '../../host/store/store.ts'

/** What the channel holds, as far as activity goes: a change of it is activity. The fee rate is not
 *  in it (update_fee moves no payment), nor the link or the commitment numbers. */
export function holdings (s: ChannelState): string {
  const spec = s.localCommit?.spec
  const ready = s.phase === 'normal' || s.phase === 'shutting_down' || s.phase === 'negotiating_close'
  if (spec === undefined) return `${ready}`
  const htlcs = spec.htlcs.map(h => `${h.offerer[0]}${h.id}`).join(',')
  return `${ready}|${s.setup.funding?.txid ?? ''}:${s.setup.funding?.outputIndex ?? ''}|${spec.toLocalMsat}|${spec.toRemoteMsat}|${htlcs}`
}

export class ChannelActivity {
  private readonly last = new Map<string, number>()
  /** holdings() of each channel's last write handed to the store. */
  private readonly seen = new Map<string, string>()

  constructor (private readonly store: Store, private readonly height: () => number) {}

  /** At start, once the channels are loaded: every stored height, and one write of the start height
   *  for the channels without one. */
  async load (channels: ReadonlyArray<{ channelId: string; state: ChannelState }>): Promise<void> {
    const known = new Set(channels.map(c => c.channelId))
    const stale: StoreOp[] = []
    for await (const [key, v] of this.store.iterate(keys.channelActivityPrefix)) {
      const id = key.slice(keys.channelActivityPrefix.length)
      const h = parseJsonValue(v)
      if (!known.has(id)) { stale.push(del(key)); continue }
      if (typeof h === 'number' && Number.isSafeInteger(h) && h >= 0) this.last.set(id, h)
    }
    const missing: StoreOp[] = []
    for (const c of channels) {
      // A write carried since the channel loaded already knows better than the stored value.
      if (!this.seen.has(c.channelId)) this.seen.set(c.channelId, holdings(c.state))
      if (this.last.has(c.channelId)) continue
      this.last.set(c.channelId, this.height())
      missing.push(put(keys.channelActivity(c.channelId), this.height()))
    }
    if (missing.length + stale.length > 0) await this.store.write([...missing, ...stale])
  }

  /** The ops a channel write carries: the height, when the write changes what the channel holds. */
  carry (req: Pick<PersistRequest, 'channelId' | 'state'>): StoreOp[] {
    const now = holdings(req.state)
    if (this.seen.get(req.channelId) === now) return []
    this.seen.set(req.channelId, now)
    const h = this.height()
    this.last.set(req.channelId, h)
    return [put(keys.channelActivity(req.channelId), h)]
  }

  /** The height of the channel's last activity; undefined for a channel the hub has not loaded. */
  lastActivityHeight (channelId: string): number | undefined { return this.last.get(channelId) }
}
