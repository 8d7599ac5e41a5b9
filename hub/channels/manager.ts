// The hub's channel manager: every channel loaded from the store at startup, one ChannelDriver per
// channel, and the routing of (node id, message) from transport sessions to the right driver.
//
// Isolation (scenario 19): a channel belongs to the node id it was opened with. A message for a
// channel whose counterparty is another node id is refused with `not_your_channel` to the sender and
// touches nothing else. Temporary channel ids are looked up only among the sender's own channels.
// A channel id belongs to one channel forever: opening.ts refuses a funding_created that names a
// known one, and a new channel claims its id in the store (create-only, host/channel/record.ts) before
// it writes anything else, so no code path replaces another channel's record; its writes wait for the
// claim.
//
// Opening (opening.ts): caps on channels whose funding is not confirmed, per peer and overall. A
// channel abandoned because its funding is wrong, missing or late (protocol/channel/funding-check.ts)
// is forgotten: dropped from memory, its chain monitor and its stored records deleted.
//
// Persistence: each driver persist is ONE atomic batch of the channel record, its monitor updates and
// their preimage index entries (host/channel/persist.ts, the same batch the SDK writes), with the hub's
// audit-log entry carried along. The store's group commit merges concurrent channels' batches into one
// fsync.
//
// Many channels (a restart with 10,000): load() reads the channel index and the stored states, and
// builds no driver; a channel's driver is built when it is first used (channel.ts). Blocks go only
// to channels whose state depends on the height (HTLCs in flight); the others get the height when
// they next run. Sessions that open before ready() (the transport listens while the hub is still
// starting) are held and handled, in order, once the hub is ready.
import {
  acceptFromSeed, channelIdFromFunding, hasInFlight, openFromSeed, quiescence, type ChannelEvent, type ChannelSigner, type ChannelState,
  type MonitorUpdate,
} from '../../protocol/channel/index.ts'
import { defaultPolicy } from '../../protocol/channel/policy.ts'
import {
  abandonedChannelOps, ChannelDriver, ChannelWriter, loadStoredChannels, type ChannelWriteHost, type PersistRequest,
} from '../../host/channel/index.ts'
import type { SideLimits } from '../../protocol/keys/channel.ts'
import { random32 } from '../../host/random.ts'
import { bytesToHex, type ChannelId, type Msat, type NodeId, type Sat, type Txid } from '../../protocol/types.ts'
import type {
  OpenChannel, PayoutPolicyMessage, PeerMessage, ReceiptRequest, RequestChannel, SplitAbort, SplitLegLocked, SplitRelease,
} from '../../protocol/wire/index.ts'
/** The messages of a split payment (protocol/wire/split-messages.ts). */
export type SplitMessage = SplitLegLocked | SplitRelease | SplitAbort
import type { AuditLog } from '../audit/index.ts'
import type { HubConfig } from '../config.ts'
import { crashPoints } from '../../host/crash-points.ts'
import { StoreConflict, StoreError, type Store, type StoreOp } from '../../host/store/store.ts'
import type { PeerSession, SessionHandler } from '../transport/server.ts'
import { lazySigner, ManagedChannel } from './channel.ts'
import { OpeningGuard } from './opening.ts'

export { ManagedChannel }

export interface ChannelManagerOptions {
  store: Store
  audit: AuditLog
  config: HubConfig
  chainHash: string
  /** Where our share of a cooperative close goes. */
  shutdownScript: () => string
  /** The live session of a node id (the transport's registry). */
  session: (peer: NodeId) => PeerSession | undefined
  /** The current block height. */
  height: () => number
  /** A channel's write failed: the store refuses writes from now on; the hub must stop. */
  fatal: (error: unknown) => void
  log?: (event: Record<string, unknown>) => void
  /** A persist batch with these monitor updates is durable (the chain monitors, monitoring.ts). Never
   *  waits for the monitors. */
  persisted?: (channelId: string, updates: readonly MonitorUpdate[]) => void
  /** Records that ride on a channel's write besides its audit entry (the channel's last activity
   *  height, hub/settlement/activity.ts): in the same atomic batch, no write of their own. */
  carry?: (req: PersistRequest) => StoreOp[]
  /** A channel that must not run (its state is older than its monitor's, scenario 6). */
  blocked?: (channelId: string) => boolean
  /** Drops a forgotten channel's chain monitor and its stored checkpoint (monitoring.ts). */
  forgetMonitor?: (channelId: string) => Promise<void>
  /** Hold sessions (opened, messages, closed) until ready() is called: the hub process listens
   *  while it is still starting. Default: handle them at once. */
  holdSessionsUntilReady?: boolean
}

/** Who hears about channels: the router and the funding logic. */
export interface ChannelListener {
  event (ch: ManagedChannel, event: ChannelEvent): void
  broadcastFunding? (ch: ManagedChannel, txid: Txid): void
  /** A complete splice transaction, stored: broadcast it (hub/channels/splicing.ts). */
  broadcastSplice? (ch: ManagedChannel, txid: Txid, tx: string): void
  /** A channel was dropped: unfunded (peer disconnected before funding was signed), refused, or
   *  abandoned (its funding never showed up as agreed). */
  forgotten? (ch: ManagedChannel): void
  /** The channel's quiescence for a splice ended (signed, or abandoned: tx_abort both ways, the link
   *  down): HTLCs may be added to it again. */
  quiescenceEnded? (ch: ManagedChannel): void
  /** A peer's session opened (after its channels were told the link is up). */
  peerOnline? (peer: NodeId): void
  peerOffline? (peer: NodeId): void
  requestChannel? (peer: NodeId, msg: RequestChannel): void
  /** receipt_request: a payer or payee asks for a receipt and its proof (hub/audit/receipts.ts). */
  receiptRequest? (peer: NodeId, msg: ReceiptRequest): void
  /** payout_policy: an account sets its payout policy (hub/settlement/account-policy.ts). */
  payoutPolicy? (peer: NodeId, msg: PayoutPolicyMessage): void
  /** A split payment's message from a peer (hub/router/split-relay.ts relays it). */
  splitMessage? (peer: NodeId, msg: SplitMessage): void
}

const ZERO_ID = '00'.repeat(32)
/** Channels told their peer is connected per event-loop turn (see connectSome). */
const CONNECTS_PER_TURN = 32

const crashPoint = crashPoints('HUB_CRASH_AT')
/** Characters of a stopped channel's stack trace in the log: the frames that locate the bug. */
const MAX_LOGGED_STACK_CHARS = 2_000
/** HUB_TRACE=1 logs every message received (debugging). */
const TRACE = process.env.HUB_TRACE === '1'

export class ChannelManager implements SessionHandler {
  private readonly byPeer = new Map<NodeId, Set<ManagedChannel>>()
  private readonly byId = new Map<string, ManagedChannel>()
  private readonly listeners: ChannelListener[] = []
  private readonly log: (event: Record<string, unknown>) => void
  /** Channels whose peer connected but that were not told yet, with the messages that arrived for
   *  them meanwhile (connectSome). */
  private readonly connecting = new Map<ManagedChannel, { session: PeerSession; msgs: PeerMessage[]; order: number }>()
  /** The same channels, busiest first (sorted again only after new ones arrive). */
  private connectQueue: ManagedChannel[] = []
  private connectHead = 0
  private connectSorted = true
  private connectOrder = 0
  private connectScheduled = false
  /** Session events that arrived before ready(). */
  private held: Array<() => void> | undefined
  private readonly opening: OpeningGuard
  /** The channels' writes: each carries its audit-log entry. */
  private readonly writes: ChannelWriteHost

  constructor (private readonly opts: ChannelManagerOptions) {
    this.log = opts.log ?? (() => {})
    if (opts.holdSessionsUntilReady === true) this.held = []
    this.opening = new OpeningGuard(opts.config.channels)
    this.writes = {
      write: ops => this.opts.store.write(ops),
      carry: (req, peer) => {
        const spec = req.state.localCommit?.spec
        const entry = this.opts.audit.prepare({
          kind: 'channel_write', channel_id: req.channelId, peer, write: req.writeId, phase: req.state.phase,
          updates: req.monitor.map(m => `${m.seq}:${m.kind}`),
          ...(spec !== undefined ? { local_msat: spec.toLocalMsat, remote_msat: spec.toRemoteMsat, htlcs: spec.htlcs.length } : {}),
        })
        const more = this.opts.carry?.(req) ?? []
        return more.length === 0 ? entry : { ...entry, ops: [...entry.ops, ...more] }
      },
      crashPoint,
      persisted: (id, updates) => { this.opts.persisted?.(id, updates) },
    }
  }

  listen (l: ChannelListener): void { this.listeners.push(l) }

  /** Loads every stored channel (its state only: drivers are built on first use, and a loaded
   *  channel's first input is `restored`, its link down until its peer connects). */
  async load (): Promise<number> {
    const records = await loadStoredChannels(this.opts.store)
    let loaded = 0
    for (const r of records) {
      // Abandoned, then the hub stopped before it deleted the channel: delete it now, its monitor's
      // checkpoint too (no monitor is open yet).
      if (r.state.phase === 'abandoned') {
        await this.opts.store.write(await abandonedChannelOps(this.opts.store, r.state.channelId, { monitor: true }))
        this.log({ event: 'channel_forgotten', channel_id: r.state.channelId, peer: r.peer, at: 'startup' })
        continue
      }
      this.add(r.peer, r.seed, r.state, { restored: true })
      loaded++
    }
    return loaded
  }

  /** Sessions opened before this are handled now, in order; later ones at once. */
  ready (): void {
    const held = this.held
    this.held = undefined
    for (const f of held ?? []) f()
  }

  all (): ManagedChannel[] { return [...this.byPeer.values()].flatMap(s => [...s]) }
  channelsOf (peer: NodeId): ManagedChannel[] { return [...(this.byPeer.get(peer) ?? [])] }
  get (channelId: string): ManagedChannel | undefined { return this.byId.get(channelId) }
  isOnline (peer: NodeId): boolean { return this.opts.session(peer)?.open === true }
  get count (): number { return this.byId.size }

  /** Feeds a new block height to the channels whose state depends on it: HTLCs in flight (BOLT #2
   *  deadlines, expiring incoming HTLCs) and fundings with a deadline. Every other channel gets the
   *  height before its next input (ManagedChannel.driver), which is all the channel machine uses it for. */
  async block (height: number): Promise<void> {
    const fed: Array<Promise<unknown>> = []
    for (const set of this.byPeer.values()) {
      for (const ch of set) {
        if (!dependsOnHeight(ch.state) || this.opts.blocked?.(ch.channelId) === true) continue
        ch.fedHeight(height)
        fed.push(ch.driver.chain({ type: 'block', height }))
      }
    }
    await Promise.all(fed)
  }

  // ── opening ──

  /** Our side's parameters. `channelReserveSat` is what we ask the peer to keep: channels.reservePercent
   *  of the capacity, at most `reserveCapSat` (hubFunded.payeeReserveSat, for channels we fund), and
   *  never below either dust limit. BOLT #2: the open_channel sender "MUST set
   *  `channel_reserve_satoshis` greater than or equal to `dust_limit_satoshis`"; the accept_channel
   *  sender "MUST set `channel_reserve_satoshis` greater than or equal to `dust_limit_satoshis` from the
   *  `open_channel` message". */
  private limits (capacitySat: number, theirDustSat = 0, reserveCapSat?: number): SideLimits {
    const c = this.opts.config.channels
    const dust = c.dustLimitSat
    const share = Math.floor(capacitySat * c.reservePercent / 100)
    return {
      dustLimitSat: dust as Sat,
      maxHtlcValueInFlightMsat: (capacitySat * 1000) as Msat,
      channelReserveSat: Math.max(dust, theirDustSat, Math.min(share, reserveCapSat ?? share)) as Sat,
      htlcMinimumMsat: c.htlcMinimumMsat as Msat,
      toSelfDelay: c.toSelfDelay,
      maxAcceptedHtlcs: c.maxAcceptedHtlcs,
    }
  }

  /** The hub opens a channel to `peer` with its own funds (it must be connected). */
  async openTo (peer: NodeId, fundingSat: number): Promise<ManagedChannel | { error: string }> {
    if (!this.isOnline(peer)) return { error: `peer ${peer} is not connected` }
    const seed = random32()
    const opened = openFromSeed({
      seed,
      temporaryChannelId: bytesToHex(random32()) as ChannelId,
      chainHash: this.opts.chainHash,
      channelType: 'static_remotekey',
      fundingSat: fundingSat as Sat,
      pushMsat: 0 as Msat,
      feeratePerKw: this.opts.config.channels.feeratePerKw,
      limits: this.limits(fundingSat, 0, this.opts.config.hubFunded.payeeReserveSat),
      policy: defaultPolicy({
        zeroConfOwnFunding: this.opts.config.channels.zeroConf, spliceMinimumDepth: this.opts.config.splices.minimumDepth,
      }),
      localShutdownScript: this.opts.shutdownScript(),
      height: this.opts.height(),
    })
    const ch = this.add(peer, bytesToHex(seed), opened.step.state, { signer: opened.signer })
    this.log({ event: 'channel_opening', peer, temporary_channel_id: opened.step.state.temporaryChannelId, funding_sat: fundingSat })
    await ch.driver.start(opened.step)
    return ch
  }

  private onOpenChannel (peer: NodeId, msg: OpenChannel, session: PeerSession): void {
    const mine = this.channelsOf(peer)
    // Scenario 20: an unconfirmed channel costs us a record, a monitor and lookups, and the peer nothing.
    const refused = this.opening.refuseOpen(peer)
    if (refused !== undefined) {
      this.log({ event: 'open_refused', peer, reason: 'too_many_unconfirmed_channels', detail: refused })
      session.error(refused, msg.temporary_channel_id)
      return
    }
    if (mine.some(c => c.state.temporaryChannelId === msg.temporary_channel_id)) {
      session.error('unexpected_message: temporary_channel_id already in use', msg.temporary_channel_id)
      return
    }
    const seed = random32()
    const accepted = acceptFromSeed({
      seed,
      chainHash: this.opts.chainHash,
      minimumDepth: this.opts.config.channels.minimumDepth,
      limits: this.limits(msg.funding_satoshis, msg.dust_limit_satoshis),
      policy: defaultPolicy({
        fundingTimeoutBlocks: this.opts.config.channels.fundingTimeoutBlocks, spliceMinimumDepth: this.opts.config.splices.minimumDepth,
      }),
      localShutdownScript: this.opts.shutdownScript(),
      height: this.opts.height(),
    }, msg)
    if (!accepted.ok) {
      this.log({ event: 'open_refused', peer, reason: accepted.error.reason, detail: accepted.error.detail })
      session.error(`${accepted.error.reason}: ${accepted.error.detail}`, msg.temporary_channel_id)
      return
    }
    const ch = this.add(peer, bytesToHex(seed), accepted.value.step.state, { signer: accepted.value.signer })
    void ch.driver.start(accepted.value.step)
  }

  /** A new channel (`signer` given: its driver is built now) or a stored one (`restored`: built on
   *  first use, its first input is `restored`). */
  private add (peer: NodeId, seed: string, state: ChannelState, how: { signer: ChannelSigner } | { restored: true }): ManagedChannel {
    const restored = 'restored' in how
    const signer = 'signer' in how ? how.signer : undefined
    const ch = new ManagedChannel(peer, seed, state, (c, s) => this.driverFor(c, s, signer ?? lazySigner(seed), restored), this.opts.height,
      c => new ChannelWriter(peer, seed, this.writes, { stored: restored, firstWrite: () => { this.opening.stored(c); this.index(c) } }))
    let set = this.byPeer.get(peer)
    if (set === undefined) { set = new Set(); this.byPeer.set(peer, set) }
    set.add(ch)
    this.index(ch)
    this.opening.track(ch)
    if (!restored) void ch.driver // built now: the caller starts it
    return ch
  }

  private driverFor (ch: ManagedChannel, state: ChannelState, signer: ChannelSigner, restored: boolean): ChannelDriver {
    const peer = ch.peer
    // A stored state's link is whatever it was when written; `restored` (queued first) sets it down.
    const driver = new ChannelDriver(restored ? { ...state, link: 'down' } : state, signer, {
      persist: req => ch.writer.persist(req),
      send: msg => { this.index(ch); this.opts.session(peer)?.send(msg) },
      broadcastFunding: txid => { for (const l of this.listeners) l.broadcastFunding?.(ch, txid) },
      broadcastSplice: (txid, tx) => { for (const l of this.listeners) l.broadcastSplice?.(ch, txid, tx) },
      disconnect: () => { this.opts.session(peer)?.disconnect('channel protocol violation') },
      // One commitment_signed per event-loop turn: every message read in this turn joins it.
      defer: fn => { setImmediate(fn) },
      stepped: (before, after) => {
        if (before.splice !== after.splice && quiescence(before) !== 'none' && quiescence(after) === 'none') {
          for (const l of this.listeners) l.quiescenceEnded?.(ch)
        }
      },
      emit: (event, state) => {
        this.index(ch)
        if (event.type === 'channel_failed' || event.type === 'closing_agreed' || event.type === 'channel_ready') {
          this.log({
            event: event.type, channel_id: ch.channelId, peer,
            ...(event.type === 'channel_failed' ? { reason: event.error.reason, detail: event.error.detail } : {})
          })
        }
        for (const l of this.listeners) l.event(ch, event)
        // Emitted once the abandoned state is durable: a crash from here on deletes it at startup.
        if (event.type === 'channel_failed' && state.phase === 'abandoned') void this.discard(ch, event.error.reason)
      },
      stopped: error => {
        // A new channel whose claim found its id taken (create-only, host/channel/record.ts): nothing of it was
        // written and nothing held behind its writes was sent. It is refused and forgotten.
        if (error instanceof StoreConflict) {
          this.log({ event: 'open_refused', peer, reason: 'channel_id_in_use', channel_id: ch.channelId, key: error.key })
          this.opts.session(peer)?.error(`channel_id_in_use: channel ${ch.channelId} already exists`, ch.state.temporaryChannelId)
          this.forget(ch)
          return
        }
        // A failed write: the store refuses all writes from now on, the hub must stop. Anything else
        // is a bug in one channel's step: that channel stops (loudly), the others carry on.
        if (error instanceof StoreError) { this.opts.fatal(error); return }
        this.log({
          event: 'channel_stopped', channel_id: ch.channelId, peer,
          error: String(error instanceof Error ? error.stack ?? error.message : error).slice(0, MAX_LOGGED_STACK_CHARS),
        })
        this.opts.session(peer)?.error('temporary_node_failure: this channel is stopped at the hub', ch.channelId)
      },
    })
    if (restored) void driver.restored()
    return driver
  }

  /** Real channel ids are global; temporary ones are only looked up among the peer's own channels. */
  private index (ch: ManagedChannel): void {
    const s = ch.state
    if (s.channelId !== s.temporaryChannelId && this.byId.get(s.channelId) !== ch) this.byId.set(s.channelId, ch)
  }

  /** A hub message to a peer's live session (none: not sent). */
  send (peer: NodeId, msg: PeerMessage): boolean {
    return this.opts.session(peer)?.send(msg) === 'sent'
  }

  /** A connection-level `error` (channel_id 0) to a peer, e.g. a refused request_channel. */
  tell (peer: NodeId, detail: string): void {
    this.opts.session(peer)?.error(detail, ZERO_ID)
  }

  /** Gives up on a channel that is not funded yet: tells the peer and forgets it. */
  refuse (ch: ManagedChannel, detail: string): void {
    if (ch.state.localCommit !== undefined) throw new Error('refuse: the channel is already funded')
    this.opts.session(ch.peer)?.error(detail, ch.channelId)
    this.forget(ch)
  }

  private forget (ch: ManagedChannel): void {
    this.byPeer.get(ch.peer)?.delete(ch)
    if (this.byId.get(ch.channelId) === ch) this.byId.delete(ch.channelId)
    this.opening.release(ch)
    for (const l of this.listeners) l.forgotten?.(ch)
  }

  /** An abandoned channel (its abandoned state is durable): nothing of it is on-chain, so the hub
   *  forgets it: from memory first (no more lookups, blocks or messages reach it), then its monitor,
   *  then its records. In that order a crash leaves at most the abandoned record, which load() deletes. */
  private async discard (ch: ManagedChannel, reason: string): Promise<void> {
    const id = ch.channelId
    this.forget(ch)
    try {
      await this.opts.forgetMonitor?.(id)
      await this.opts.store.write(await abandonedChannelOps(this.opts.store, id, { monitor: false }))
    } catch (e) {
      this.opts.fatal(e)
      return
    }
    this.log({ event: 'channel_forgotten', channel_id: id, peer: ch.peer, reason })
  }

  // ── sessions (SessionHandler) ──

  opened (session: PeerSession): void {
    if (this.held !== undefined) { this.held.push(() => { if (session.open) this.opened(session) }); return }
    const c = this.opts.config
    session.send({
      type: 'hub_policy', chain_hash: this.opts.chainHash, fee_base_msat: c.fees.baseMsat as Msat,
      fee_proportional_millionths: c.fees.ppm, cltv_expiry_delta: c.cltvExpiryDelta,
      funding_satoshis: c.channels.fundingSat as Sat, minimum_depth: c.channels.minimumDepth,
    })
    for (const ch of this.channelsOf(session.nodeId)) {
      if (this.opts.blocked?.(ch.channelId) === true) continue
      this.connecting.set(ch, { session, msgs: [], order: this.connectOrder++ })
      this.connectQueue.push(ch)
      this.connectSorted = false
    }
    this.scheduleConnects()
    for (const l of this.listeners) l.peerOnline?.(session.nodeId)
  }

  /** Tells waiting channels that their peer is connected, a few per event-loop turn, busiest first
   *  (most commitments so far). After a restart every peer reconnects at once and each reestablish
   *  costs point multiplications: a channel that was carrying payments must not wait behind
   *  thousands of idle ones, and socket I/O goes on between the batches. Messages for a waiting
   *  channel wait with it, in order. */
  private scheduleConnects (): void {
    if (this.connectScheduled || this.connecting.size === 0) return
    this.connectScheduled = true
    setImmediate(() => { this.connectScheduled = false; this.connectSome() })
  }

  private connectSome (): void {
    if (!this.connectSorted) {
      const activity = (ch: ManagedChannel): number => ch.state.localCommit?.index ?? 0
      this.connectQueue = this.connectQueue.slice(this.connectHead).filter(ch => this.connecting.has(ch))
      this.connectHead = 0
      this.connectQueue.sort((a, b) => activity(b) - activity(a) || this.connecting.get(a)!.order - this.connecting.get(b)!.order)
      this.connectSorted = true
    }
    let done = 0
    while (done < CONNECTS_PER_TURN && this.connectHead < this.connectQueue.length) {
      const ch = this.connectQueue[this.connectHead++]!
      const waiting = this.connecting.get(ch)
      if (waiting === undefined) continue
      this.connecting.delete(ch)
      done++
      if (!waiting.session.open || this.opts.blocked?.(ch.channelId) === true) continue
      void ch.driver.connected()
      for (const m of waiting.msgs) void ch.driver.peer(m)
    }
    if (this.connectHead === this.connectQueue.length) { this.connectQueue = []; this.connectHead = 0 }
    this.scheduleConnects()
  }

  closed (session: PeerSession): void {
    // Held before ready: its opened() (held too) sees the session closed and does nothing.
    if (this.held !== undefined) return
    for (const ch of this.channelsOf(session.nodeId)) {
      // Never told the peer was connected: still down, and its waiting messages go with the session.
      if (this.connecting.get(ch)?.session === session) { this.connecting.delete(ch); continue }
      // BOLT #2: before funding_signed (acceptor) / funding_created (opener) a channel is forgotten
      // on disconnect; nothing of it was stored.
      if (ch.state.localCommit === undefined) { this.forget(ch); continue }
      // A channel that never ran since the restart is down already.
      if (ch.running) void ch.driver.disconnected()
    }
    for (const l of this.listeners) l.peerOffline?.(session.nodeId)
  }

  message (peer: NodeId, msg: PeerMessage, session: PeerSession): void {
    if (this.held !== undefined) { this.held.push(() => { if (session.open) this.message(peer, msg, session) }); return }
    if (TRACE) this.log({ event: 'recv', peer, type: msg.type })
    switch (msg.type) {
      case 'open_channel': return this.onOpenChannel(peer, msg, session)
      case 'request_channel':
        for (const l of this.listeners) l.requestChannel?.(peer, msg)
        return
      case 'receipt_request':
        for (const l of this.listeners) l.receiptRequest?.(peer, msg)
        return
      case 'payout_policy':
        for (const l of this.listeners) l.payoutPolicy?.(peer, msg)
        return
      case 'split_leg_locked': case 'split_release': case 'split_abort':
        for (const l of this.listeners) l.splitMessage?.(peer, msg)
        return
      case 'accept_channel':
      case 'funding_created': {
        const ch = this.channelsOf(peer).find(
          c => c.state.temporaryChannelId === msg.temporary_channel_id && c.state.localCommit === undefined
        )
        if (ch === undefined) {
          session.warn(`unknown_channel: temporary_channel_id ${msg.temporary_channel_id}`, msg.temporary_channel_id); return
        }
        if (msg.type === 'funding_created' && ch.state.phase === 'awaiting_funding_created') {
          // A channel id (the funding outpoint) belongs to one channel forever (opening.ts).
          const refused = this.opening.claim(ch, channelIdFromFunding(msg.funding_txid, msg.funding_output_index), id => this.byId.get(id))
          if (refused !== undefined) {
            this.log({ event: 'open_refused', peer, reason: 'channel_id_in_use', detail: refused })
            session.error(refused, msg.temporary_channel_id)
            this.forget(ch)
            return
          }
        }
        void ch.driver.peer(msg)
        return
      }
      case 'error':
      case 'warning':
        if (msg.channel_id === ZERO_ID) { this.log({ event: `peer_${msg.type}`, peer, data: msg.data }); return }
        // An error or warning about a channel we do not know is not answered (two peers would warn
        // each other forever).
        return this.route(peer, msg.channel_id, msg, session, false)
      case 'stream_items': case 'stream_receipt': {
        // Relayed to the node it names, with the sender's proven node id in its place (DESIGN.md
        // "Streams"). Dropped when that node is not connected, or when what waits to reach it is past
        // half its send buffer: a relay never gets a slow reader disconnected (send_buffer_full) and
        // never holds its channel messages back; the payer sends the items again.
        const to = msg.peer === peer ? undefined : this.opts.session(msg.peer)
        if (to === undefined || !to.open) return
        if (to.bufferedAmount > this.opts.config.transport.maxSendBufferBytes / 2) return
        to.send({ ...msg, peer })
        return
      }
      case 'hub_policy': case 'hub_hello': case 'hub_auth': case 'client_auth': case 'auth_ok':
      case 'ping': case 'pong': case 'payment_held': case 'payment_receipt': case 'receipt_proof': case 'payout_policy_set':
      case 'payout_proposal': case 'node_key_rotation':
        // Answered about the channel it names, if any (nothing of that channel is read or changed).
        session.warn(`unexpected_message: ${msg.type} is not sent to the hub`, 'channel_id' in msg ? msg.channel_id : undefined)
        return
      default:
        return this.route(peer, msg.channel_id, msg, session, true)
    }
  }

  private route (peer: NodeId, channelId: string, msg: PeerMessage, session: PeerSession, warnIfUnknown: boolean): void {
    const ch = this.byId.get(channelId) ?? this.channelsOf(peer).find(c => c.channelId === channelId)
    if (ch === undefined) {
      if (warnIfUnknown) session.warn(`unknown_channel: ${channelId}`, channelId)
      return
    }
    // Scenario 19: never let one node id act on another's channel; the message is dropped whole.
    if (ch.peer !== peer) {
      this.log({ event: 'not_your_channel', peer, channel_id: channelId, type: msg.type })
      session.error(`not_your_channel: channel ${channelId} does not belong to this node id`, channelId)
      return
    }
    if (this.opts.blocked?.(ch.channelId) === true) {
      session.error('channel closed on-chain by the hub (its state here is older than its monitor)', channelId)
      return
    }
    const waiting = this.connecting.get(ch)
    if (waiting !== undefined && waiting.session === session) { waiting.msgs.push(msg); return }
    void ch.driver.peer(msg)
  }
}

/** Whether a block can change anything in this channel: an HTLC in flight, or a funding deadline. */
export function dependsOnHeight (s: ChannelState): boolean {
  return hasInFlight(s) || (s.phase === 'awaiting_funding_depth' && s.fundingDeadline !== undefined)
}
