// What the hub admits while peers open channels to it (channels they fund; scenario 20):
//
// - Caps on channels whose funding is not confirmed yet, per peer and overall, counted from
//   open_channel until the channel is ready (or abandoned). Such a channel costs the hub a stored
//   record, a chain monitor and a node lookup per block, and the peer nothing; node ids are free, so
//   the overall cap is what bounds the total (protocol/limits.ts, DEFAULT_MAX_UNCONFIRMED_CHANNELS).
//   Its deadline (protocol/channel/funding-check.ts) frees the slot of a funding that never comes.
// - One channel id, one channel, forever: a funding_created whose outpoint gives the id of any channel
//   the hub knows (open, closing or closed, anyone's) or is creating right now is refused before the
//   channel machine sees it. The store's create-only claim of a new channel's id, written before its
//   first record (host/channel/persist.ts), enforces the same against every code path.
import type { ChannelState } from '../../protocol/channel/index.ts'
import type { ManagedChannel } from './channel.ts'

/** A channel the peer funds, not yet ready: it holds one of the caps' slots. */
export const isUnconfirmedInbound = (s: ChannelState): boolean =>
  !s.setup.isFunder && (s.phase === 'awaiting_funding_created' || s.phase === 'awaiting_funding_depth')

export interface OpeningLimits { maxUnconfirmedPerPeer: number; maxUnconfirmed: number }

export class OpeningGuard {
  /** Channels that were unconfirmed inbound when last seen (checked again when counted). */
  private readonly unconfirmed = new Set<ManagedChannel>()
  /** Channel ids a funding_created named whose channel record is not stored yet. */
  private readonly claims = new Map<string, ManagedChannel>()

  constructor (private readonly limits: OpeningLimits) {}

  /** Counts `ch` if it is an unconfirmed inbound channel (a new or a loaded one). */
  track (ch: ManagedChannel): void {
    if (isUnconfirmedInbound(ch.state)) this.unconfirmed.add(ch)
  }

  /** The channel is gone from the hub: it holds no slot and no claim. */
  release (ch: ManagedChannel): void {
    this.unconfirmed.delete(ch)
    for (const [id, c] of this.claims) if (c === ch) this.claims.delete(id)
  }

  /** Why a new channel from `peer` is refused, if it is. */
  refuseOpen (peer: string): string | undefined {
    let mine = 0
    let all = 0
    for (const ch of [...this.unconfirmed]) {
      if (!isUnconfirmedInbound(ch.state)) { this.unconfirmed.delete(ch); continue }
      all++
      if (ch.peer === peer) mine++
    }
    if (mine >= this.limits.maxUnconfirmedPerPeer) return `too_many_unconfirmed_channels: at most ${this.limits.maxUnconfirmedPerPeer} ` +
      `per peer until their funding confirms`
    if (all >= this.limits.maxUnconfirmed) return `too_many_unconfirmed_channels: the hub is waiting for ${this.limits.maxUnconfirmed} ` +
      `fundings already; try again later`
    return undefined
  }

  /** Claims `channelId` for `ch` (its funding_created), unless `known` says the hub has a channel with
   *  that id or another channel is creating it: then why it is refused. */
  claim (ch: ManagedChannel, channelId: string, known: (id: string) => ManagedChannel | undefined): string | undefined {
    const holder = known(channelId) ?? this.claims.get(channelId)
    if (holder !== undefined &&
      holder !== ch) return `channel_id_in_use: the funding outpoint gives channel ${channelId}, which already exists`
    this.claims.set(channelId, ch)
    return undefined
  }

  /** The channel's record is stored (it is in the manager's index from now on). */
  stored (ch: ManagedChannel): void {
    for (const [id, c] of this.claims) if (c === ch) this.claims.delete(id)
  }
}
