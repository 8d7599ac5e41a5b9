// Hub-funded channels (inbound liquidity for creators and treasuries): who gets one, and how much of
// the hub's coins such channels may lock before anyone has paid through them.
//
// A creator asks with `request_channel`, or a payment arrives for a payee that has no channel
// (channels.openOnPayment): either costs the asker nothing, while the hub locks `channels.fundingSat`
// of its coins, pays the funding fee, and (if the payee then holds HTLCs to expiry) closing fees. So the
// operator's policy (config `hubFunded`) decides:
//   allow              only these node ids get hub-funded channels (approved accounts);
//   maxIdleSatPerPeer  hub funds one node id may hold in hub-funded channels that are unconfirmed or
//                      idle (no commitment after the first: nothing was ever paid through them);
//   maxIdleSat         the same over all node ids.
// A channel that has carried a payment no longer counts: it is doing what the coins are for. The
// operator's own opens (admin API) are not limited.
import { DEFAULT_IDLE_HUB_FUNDED_CHANNELS } from '../../protocol/limits.ts'
import type { ChannelState } from '../../protocol/channel/index.ts'
import type { NodeId } from '../../protocol/types.ts'
import type { RequestChannel } from '../../protocol/wire/index.ts'
import type { HubConfig } from '../config.ts'
import type { ChannelListener, ChannelManager, ManagedChannel } from '../channels/manager.ts'

export interface InboundOptions {
  manager: ChannelManager
  config: HubConfig
  log: (event: Record<string, unknown>) => void
}

/** Phases in which a hub-funded channel is on its way or open (one is enough per node id). */
const LIVE_PHASES = new Set(['awaiting_accept', 'awaiting_funding_tx', 'awaiting_funding_signed', 'awaiting_funding_depth', 'normal'])

/** A hub-funded channel whose coins are locked without use: opening, or open with no payment yet. */
export function idleHubFunded (s: ChannelState): boolean {
  if (!s.setup.isFunder || !LIVE_PHASES.has(s.phase)) return false
  return (s.localCommit?.index ?? 0) === 0 && (s.remoteCommit?.index ?? 0) === 0
}

export class InboundChannels implements ChannelListener {
  private readonly allowed: Set<string> | undefined

  constructor (private readonly opts: InboundOptions) {
    const allow = opts.config.hubFunded.allow
    this.allowed = allow === undefined ? undefined : new Set(allow)
  }

  /** A listener for request_channel only: no channel event concerns the policy (it counts channels
   *  when asked). */
  event (): void {}

  /** Why the hub does not open a channel of `sizeSat` to `peer` on its own request (undefined: it may). */
  refusal (peer: NodeId, sizeSat: number): string | undefined {
    const c = this.opts.config
    if (this.allowed !== undefined && !this.allowed.has(peer)) return 'this node id is not approved for hub-funded channels'
    const perPeer = c.hubFunded.maxIdleSatPerPeer ?? c.channels.fundingSat
    const total = c.hubFunded.maxIdleSat ?? DEFAULT_IDLE_HUB_FUNDED_CHANNELS * c.channels.fundingSat
    let mine = 0
    let all = 0
    for (const ch of this.opts.manager.all()) {
      if (!idleHubFunded(ch.state)) continue
      all += ch.state.setup.capacitySat
      if (ch.peer === peer) mine += ch.state.setup.capacitySat
    }
    if (mine + sizeSat > perPeer) return `this node id already holds ${mine} sat of hub funds in channels not used yet (at most ${perPeer})`
    if (all + sizeSat > total) return `the hub has ${all} sat in channels not used yet (at most ${total}); try again later`
    return undefined
  }

  /** request_channel: a hub-funded channel of at most the configured size, within the policy. */
  requestChannel (peer: NodeId, msg: RequestChannel): void {
    const size = Math.min(msg.funding_satoshis ?? this.opts.config.channels.fundingSat, this.opts.config.channels.fundingSat)
    void this.ensureChannel(peer, size, 'peer').then(r => {
      // A connection-level error (channel_id 0): the request itself was refused.
      if ('error' in r) this.opts.manager.tell(peer, `request_channel refused: ${r.error}`)
    })
  }

  /** A payment arrived for `peer`, which has no channel: opens one within the policy. Returns why not,
   *  at once, so the payment fails back instead of waiting for a channel that will not come. */
  openOnPayment (peer: NodeId): string | undefined {
    if (this.live(peer) !== undefined) return undefined
    const refused = this.refusal(peer, this.opts.config.channels.fundingSat)
    if (refused !== undefined) { this.logRefusal(peer, 'payment', refused); return refused }
    void this.opts.manager.openTo(peer, this.opts.config.channels.fundingSat)
    return undefined
  }

  /** Opens a hub-funded channel to `peer` unless it already has one usable or on its way. A request
   *  from the peer (or a payment for it) is held to the policy; the operator's is not. */
  async ensureChannel (peer: NodeId, fundingSat: number, by: 'peer' | 'operator'): Promise<ManagedChannel | { error: string }> {
    const existing = this.live(peer)
    if (existing !== undefined) return existing
    if (by === 'peer') {
      const refused = this.refusal(peer, fundingSat)
      if (refused !== undefined) { this.logRefusal(peer, 'request', refused); return { error: refused } }
    }
    return await this.opts.manager.openTo(peer, fundingSat)
  }

  private live (peer: NodeId): ManagedChannel | undefined {
    return this.opts.manager.channelsOf(peer).find(c => c.state.setup.isFunder && LIVE_PHASES.has(c.state.phase))
  }

  private logRefusal (peer: NodeId, why: 'payment' | 'request', detail: string): void {
    this.opts.log({ event: 'hub_funded_refused', peer, on: why, detail })
  }
}
