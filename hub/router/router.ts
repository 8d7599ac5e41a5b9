// Payments payer → hub → payee. An HTLC the payer's channel has irrevocably committed
// (`htlc_received`) names its recipient; the hub checks its fee and expiry delta, writes a durable
// circuit, and adds the downstream HTLC on the recipient's channel. The downstream outcome goes back
// upstream: a fulfill once the preimage is stored, a fail once the failure is irrevocably committed,
// each recorded in the circuit first (scenario 9).
//
// Failures upstream carry a typed reason: unknown_next_peer (no channel, and the hub opens none for it),
// temporary_channel_failure (insufficient liquidity), recipient_offline (payee not back before the
// deadline), expiry_too_soon, fee_insufficient, or whatever the payee said.
//
// A payee's channel that is quiescent (BOLT #2: a splice is being negotiated and signed; no HTLC may be
// added until it ends) holds the payment like an offline payee, for at most router.holdMs: it is
// forwarded once quiescence ends (the splice signed or abandoned: quiescenceEnded), so payments keep
// flowing through a splice instead of failing for the seconds it takes.
//
// How long a payee may hold a forwarded HTLC (config router.maxHoldBlocks). BOLT #2: "For simplicity,
// a node can only remove HTLCs added by the other node": the hub cannot take back an HTLC it offered,
// and it must never fail the payment upstream while the payee can still fulfil downstream (the payee
// would be paid by the hub, the payer refunded by it). So the hold is bounded by the downstream HTLC's
// own expiry: at most maxHoldBlocks above the current height (and, as always, cltvExpiryDelta below
// the incoming one). A payee that has neither fulfilled nor failed by then (plus
// OFFERED_HTLC_GRACE_BLOCKS) makes the hub fail its channel (protocol/channel/expiry.ts, BOLT #2
// deadline); the chain monitor times the HTLC out on-chain, and once that is final the payment fails
// upstream (failedOnChain, called by channels/monitoring.ts). The payer waits at most that long,
// however far out its own expiry is.
//
// After a restart, reconcile() replays: every circuit is matched with the state of its channels, and
// every committed incoming HTLC without a circuit is handled as new. Replays are idempotent: a circuit
// is never forwarded twice while its downstream HTLC exists, and a preimage once stored is always
// carried upstream.
import { committedIncoming, findOffered, isOperating, quiescence, spendableMsat, type ChannelEvent, type ChannelState, type Htlc } from '../../protocol/channel/index.ts'
import { amountToForward } from '../../protocol/forwarding.ts'
import { MAX_FAIL_DETAIL_CHARS } from '../../protocol/limits.ts'
import type { ChannelId, Msat, NodeId } from '../../protocol/types.ts'
import type { HtlcFailureReason } from '../../protocol/wire/index.ts'
import type { HubConfig } from '../config.ts'
import type { ChannelListener, ChannelManager, ManagedChannel } from '../channels/manager.ts'
import type { Circuit, CircuitStore } from './circuits.ts'

export interface RouterOptions {
  hubId: NodeId
  manager: ChannelManager
  circuits: CircuitStore
  config: HubConfig
  /** Preimages learned while running (the router adds to it), for replays. */
  preimages: Map<string, string>
  /** A preimage any channel stored (host/channel/record.ts preimage index), for replays after a restart. */
  lookupPreimage?: (paymentHash: string) => Promise<string | undefined>
  height: () => number
  /** Opens a hub-funded channel to a payee that has none (funding/inbound.ts); returns why not, if
   *  the hub's policy opens none for it. */
  openChannel?: (peer: NodeId) => string | undefined
  log: (event: Record<string, unknown>) => void
  /** A router write failed: the store refuses writes from now on; the hub must stop. */
  fatal: (error: unknown) => void
}

export interface RouterStats { forwarded: number; fulfilled: number; failed: number; feesMsat: number }

interface Held { chIn: ManagedChannel; htlc: Htlc; outAmount: Msat; outCltv: number; timer: NodeJS.Timeout }

const key = (channelId: string, htlcId: number): string => `${channelId}/${htlcId}`

export class Router implements ChannelListener {
  private readonly held = new Map<string, Held>()
  /** Incoming HTLCs being worked on (between the checks and the durable circuit). */
  private readonly busy = new Set<string>()
  /** Circuits whose downstream add is queued on its channel but not stepped yet. */
  private readonly adding = new Set<Circuit>()
  readonly stats: RouterStats = { forwarded: 0, fulfilled: 0, failed: 0, feesMsat: 0 }

  constructor (private readonly opts: RouterOptions) {}

  // ── channel events ──

  event (ch: ManagedChannel, e: ChannelEvent): void {
    switch (e.type) {
      case 'htlc_received': return void this.guard(this.incoming(ch, e.htlc))
      case 'htlc_fulfilled': return void this.guard(this.downstreamFulfilled(ch, e.id, e.paymentHash, e.preimage))
      case 'htlc_failed': return void this.guard(this.downstreamFailed(ch, e.id, e.reason))
      case 'htlc_settled': return void this.guard(this.opts.circuits.remove(ch.channelId, e.id))
      case 'add_rolled_back': return this.rolledBack(ch, e.htlc, e.violation !== undefined)
      case 'channel_ready':
      case 'reestablished':
        this.retryHeld(ch.peer)
        this.retryUnsent(ch)
        return
      case 'channel_failed': return this.channelGone(ch)
      default:
    }
  }

  peerOnline (peer: NodeId): void { this.retryHeld(peer) }

  /** A splice's quiescence ended: what waited for the channel goes now. */
  quiescenceEnded (ch: ManagedChannel): void {
    this.retryHeld(ch.peer)
    this.retryUnsent(ch)
  }

  // ── on-chain outcomes (the chain monitor of the downstream channel, channels/monitoring.ts) ──

  /** An HTLC we offered downstream was timed out on-chain, and the timeout is final (the monitor's
   *  depth): the payment fails upstream. */
  failedOnChain (chOut: ManagedChannel, htlcId: number): void {
    void this.guard(this.downstreamFailed(chOut, htlcId, 'permanent_channel_failure'))
  }

  /** The preimage of an HTLC we offered downstream was revealed on-chain (scenario 8): the payment is
   *  fulfilled upstream, the same way as an off-chain fulfil. Idempotent (a resolved circuit is sent
   *  upstream again). */
  fulfilledOnChain (chOut: ManagedChannel, htlcId: number, paymentHash: string, preimage: string): void {
    void this.guard(this.downstreamFulfilled(chOut, htlcId, paymentHash, preimage))
  }

  private async guard (p: Promise<void>): Promise<void> {
    try { await p } catch (e) { this.opts.fatal(e) }
  }

  // ── incoming ──

  private async incoming (chIn: ManagedChannel, htlc: Htlc): Promise<void> {
    const inId = chIn.channelId
    const k = key(inId, htlc.id)
    const existing = this.opts.circuits.get(inId, htlc.id)
    if (existing !== undefined) return this.replay(existing)
    if (this.held.has(k) || this.busy.has(k)) return
    // A channel that failed goes on-chain: its incoming HTLCs are not forwarded (the payer's monitor
    // times them out there), so the hub never owes downstream what it could only claim on-chain.
    if (!isOperating(chIn.state.phase)) return
    const c = this.opts.config
    if (htlc.recipient === this.opts.hubId) return this.failUpstream(chIn, htlc.id, 'incorrect_or_unknown_payment_details', 'the hub is not a payee')
    const outAmount = amountToForward(htlc.amountMsat, { feeBaseMsat: c.fees.baseMsat, feePpm: c.fees.ppm })
    if (outAmount === null) return this.failUpstream(chIn, htlc.id, 'fee_insufficient', `fee is ${c.fees.baseMsat} msat + ${c.fees.ppm} ppm`)
    // The payee may hold it until this expiry at the latest (see the top of this file).
    const outCltv = Math.min(htlc.cltvExpiry - c.cltvExpiryDelta, this.opts.height() + c.router.maxHoldBlocks)
    if (outCltv < this.opts.height() + c.minFinalCltvExpiry) return this.failUpstream(chIn, htlc.id, 'expiry_too_soon', `cltv_expiry ${htlc.cltvExpiry} leaves less than ${c.cltvExpiryDelta} + ${c.minFinalCltvExpiry} blocks`)
    await this.forward(chIn, htlc, outAmount, outCltv)
  }

  /** Forwards now if the recipient has a usable channel; holds it if it may have one soon. */
  private async forward (chIn: ManagedChannel, htlc: Htlc, outAmount: Msat, outCltv: number): Promise<void> {
    const inId = chIn.channelId
    const k = key(inId, htlc.id)
    const candidates = this.opts.manager.channelsOf(htlc.recipient)
    const up = candidates.filter(ch => ch.state.phase === 'normal' && ch.state.link === 'up' && ch.driver.stoppedBy === undefined)
    const usable = up.filter(ch => quiescence(ch.state) === 'none').sort((a, b) => spendableMsat(b.state) - spendableMsat(a.state))
    const out = usable.find(ch => spendableMsat(ch.state) >= outAmount)
    if (out === undefined) {
      const online = this.opts.manager.isOnline(htlc.recipient)
      const opening = candidates.some(ch => ch.state.phase.startsWith('awaiting_'))
      const open = candidates.some(ch => ch.state.phase === 'normal')
      const splicing = up.length > usable.length
      if (usable.length > 0 && !splicing) return this.failUpstream(chIn, htlc.id, 'temporary_channel_failure', `insufficient liquidity towards ${htlc.recipient}`)
      if (!open && !opening) {
        if (!online || this.opts.config.channels.openOnPayment !== true || this.opts.openChannel === undefined) {
          return this.failUpstream(chIn, htlc.id, 'unknown_next_peer', `${htlc.recipient} has no channel with the hub`)
        }
        const refused = this.opts.openChannel(htlc.recipient)
        if (refused !== undefined) return this.failUpstream(chIn, htlc.id, 'unknown_next_peer', `${htlc.recipient} has no channel with the hub, and the hub opens none: ${refused}`)
      }
      // The payee is offline, reconnecting, splicing, or its channel is still opening: hold until the
      // deadline.
      this.hold(chIn, htlc, outAmount, outCltv)
      return
    }
    this.busy.add(k)
    const circuit: Circuit = {
      in: { channelId: inId, htlcId: htlc.id, amountMsat: htlc.amountMsat, paymentHash: htlc.paymentHash, cltvExpiry: htlc.cltvExpiry },
      out: { channelId: out.channelId, amountMsat: outAmount, cltvExpiry: outCltv, recipient: htlc.recipient },
      state: 'forwarding',
    }
    // This circuit's add is ours to make from now on: replays and retries leave it alone.
    this.adding.add(circuit)
    try {
      // Durable BEFORE the downstream add can leave: a crash after this never forwards twice.
      await this.opts.circuits.save(circuit)
      this.stats.forwarded++
      await this.addDownstream(out, circuit, htlc, true)
    } finally { this.busy.delete(k); this.adding.delete(circuit) }
  }

  private async addDownstream (out: ManagedChannel, circuit: Circuit, htlc?: Htlc, owned = false): Promise<void> {
    // One add at a time per circuit: a replay while the first is still queued must not add twice.
    if (!owned && this.adding.has(circuit)) return
    if (circuit.out.htlcId !== undefined) return
    this.adding.add(circuit)
    let assigned: number | undefined
    try {
      await out.driver.command({
      type: 'add_htlc', amountMsat: circuit.out.amountMsat, paymentHash: circuit.in.paymentHash, cltvExpiry: circuit.out.cltvExpiry,
      recipient: circuit.out.recipient, ...(htlc?.metadata !== undefined ? { metadata: htlc.metadata } : {}),
      }, (before, after) => { if (after.nextLocalHtlcId === before.nextLocalHtlcId + 1) assigned = before.nextLocalHtlcId })
    } finally { if (!owned) this.adding.delete(circuit) }
    if (assigned !== undefined) { circuit.out.htlcId = assigned; return }
    // Refused (liquidity, HTLC slots, link gone): an add that never left can fail back at once.
    if (out.state.link !== 'up') return // retried on reestablish
    if (quiescence(out.state) !== 'none') return // retried when the splice is signed or abandoned
    await this.resolve(circuit, 'failed', { reason: 'temporary_channel_failure' })
  }

  private hold (chIn: ManagedChannel, htlc: Htlc, outAmount: Msat, outCltv: number): void {
    const k = key(chIn.channelId, htlc.id)
    if (this.held.has(k)) return
    const timer = setTimeout(() => {
      if (this.held.get(k)?.timer !== timer) return
      this.held.delete(k)
      void this.guard(this.failUpstream(chIn, htlc.id, 'recipient_offline', `${htlc.recipient} did not come back within ${this.opts.config.router.holdMs} ms`))
    }, this.opts.config.router.holdMs)
    timer.unref()
    this.held.set(k, { chIn, htlc, outAmount, outCltv, timer })
    this.opts.log({ event: 'payment_held', recipient: htlc.recipient, channel_id: chIn.channelId, htlc_id: htlc.id })
  }

  private retryHeld (peer: NodeId): void {
    for (const [k, h] of this.held) {
      if (h.htlc.recipient !== peer) continue
      const usable = this.opts.manager.channelsOf(peer).some(ch => ch.state.phase === 'normal' && ch.state.link === 'up' && quiescence(ch.state) === 'none')
      if (!usable) continue
      clearTimeout(h.timer)
      this.held.delete(k)
      void this.guard(this.forward(h.chIn, h.htlc, h.outAmount, h.outCltv))
    }
  }

  // ── outcomes ──

  private findOut (chOut: ManagedChannel, htlcId: number, paymentHash?: string): Circuit | undefined {
    const mine = this.opts.circuits.outgoing(chOut.channelId).filter(c => c.state === 'forwarding')
    return mine.find(c => c.out.htlcId === htlcId) ??
      (paymentHash !== undefined ? mine.find(c => c.out.htlcId === undefined && c.in.paymentHash === paymentHash) : undefined)
  }

  private async downstreamFulfilled (chOut: ManagedChannel, htlcId: number, paymentHash: string, preimage: string): Promise<void> {
    this.opts.preimages.set(paymentHash, preimage)
    const c = this.findOut(chOut, htlcId, paymentHash) ?? this.opts.circuits.outgoing(chOut.channelId).find(x => x.in.paymentHash === paymentHash && x.state === 'fulfilled')
    if (c === undefined) { this.opts.log({ event: 'fulfill_without_circuit', channel_id: chOut.channelId, htlc_id: htlcId }); return }
    await this.resolve(c, 'fulfilled', { preimage })
  }

  private async downstreamFailed (chOut: ManagedChannel, htlcId: number, reason: HtlcFailureReason): Promise<void> {
    const c = this.findOut(chOut, htlcId)
    if (c === undefined) return
    await this.resolve(c, 'failed', { reason })
  }

  /** Records the outcome durably, then sends it upstream. */
  private async resolve (c: Circuit, state: 'fulfilled' | 'failed', o: { preimage?: string; reason?: HtlcFailureReason }): Promise<void> {
    if (c.state === 'forwarding') {
      c.state = state
      if (o.preimage !== undefined) c.preimage = o.preimage
      if (o.reason !== undefined) c.reason = o.reason
      await this.opts.circuits.save(c)
      if (state === 'fulfilled') { this.stats.fulfilled++; this.stats.feesMsat += c.in.amountMsat - c.out.amountMsat } else this.stats.failed++
    }
    await this.sendUpstream(c)
  }

  private async sendUpstream (c: Circuit): Promise<void> {
    const chIn = this.opts.manager.get(c.in.channelId)
    if (chIn === undefined) return
    if (c.state === 'fulfilled') await chIn.driver.command({ type: 'fulfill_htlc', id: c.in.htlcId, preimage: c.preimage! })
    else if (c.state === 'failed') await chIn.driver.command({ type: 'fail_htlc', id: c.in.htlcId, reason: c.reason ?? 'temporary_channel_failure' })
  }

  private async failUpstream (chIn: ManagedChannel, htlcId: number, reason: HtlcFailureReason, detail: string): Promise<void> {
    this.stats.failed++
    this.opts.log({ event: 'payment_failed', channel_id: chIn.channelId, htlc_id: htlcId, reason, detail })
    await chIn.driver.command({ type: 'fail_htlc', id: htlcId, reason, detail: detail.slice(0, MAX_FAIL_DETAIL_CHARS) })
  }

  /** Our downstream add was undone before the payee held a signature for it. After a plain
   *  disconnect it is added again on reestablish. After a violation by the payee (it was dropped for
   *  breaking the protocol) the payment fails back at once: offering it again would meet the same
   *  peer, and the payer must not wait for its HTLC deadline. */
  private rolledBack (chOut: ManagedChannel, htlc: Htlc, violation: boolean): void {
    const c = this.findOut(chOut, htlc.id)
    if (c === undefined) return
    delete c.out.htlcId
    if (violation) void this.guard(this.resolve(c, 'failed', { reason: 'temporary_channel_failure' }))
  }

  /** Circuits whose downstream add is not (or no longer) in the channel: add it again. */
  private retryUnsent (chOut: ManagedChannel): void {
    for (const c of this.opts.circuits.outgoing(chOut.channelId)) {
      if (c.state !== 'forwarding' || c.out.htlcId !== undefined || this.adding.has(c)) continue
      const found = findOutgoing(chOut.state, c, this.claimedIds(chOut))
      if (found !== undefined) { c.out.htlcId = found; continue }
      void this.guard(this.addDownstream(chOut, c))
    }
  }

  private claimedIds (chOut: ManagedChannel): Set<number> {
    return new Set(this.opts.circuits.outgoing(chOut.channelId).map(c => c.out.htlcId).filter((x): x is number => x !== undefined))
  }

  private channelGone (chOut: ManagedChannel): void {
    // Adds that never became part of a commitment can fail back now; committed ones are the chain
    // monitor's (their outcome comes from the chain).
    for (const c of this.opts.circuits.outgoing(chOut.channelId)) {
      if (c.state === 'forwarding' && findOutgoing(chOut.state, c, new Set()) === undefined) {
        void this.guard(this.resolve(c, 'failed', { reason: 'permanent_channel_failure' }))
      }
    }
  }

  // ── restart ──

  private async replay (c: Circuit): Promise<void> {
    if (c.state !== 'forwarding') return this.sendUpstream(c)
    const chOut = this.opts.manager.get(c.out.channelId)
    if (chOut === undefined) return this.resolve(c, 'failed', { reason: 'permanent_channel_failure' })
    const found = c.out.htlcId ?? findOutgoing(chOut.state, c, this.claimedIds(chOut))
    if (found !== undefined) { c.out.htlcId = found; return }
    // Not in the downstream channel: either it never got there, or it was resolved and removed.
    const preimage = this.opts.preimages.get(c.in.paymentHash) ?? await this.opts.lookupPreimage?.(c.in.paymentHash)
    if (preimage !== undefined) return this.resolve(c, 'fulfilled', { preimage })
    if (chOut.state.link === 'up' && chOut.state.phase === 'normal') await this.addDownstream(chOut, c)
    // else: retryUnsent on reestablish
  }

  /** After a restart (channels loaded and restored): pick up every circuit and every committed
   *  incoming HTLC that has none. */
  async reconcile (): Promise<void> {
    for (const c of this.opts.circuits.all()) await this.replay(c)
    for (const ch of this.opts.manager.all()) {
      for (const htlc of committedIncoming(ch.state)) {
        if (this.opts.circuits.get(ch.channelId, htlc.id) === undefined) await this.incoming(ch, htlc)
      }
    }
  }
}

/** Our HTLC matching a circuit's outgoing half, anywhere in the channel (proposed, signed, committed). */
function findOutgoing (s: ChannelState, c: Circuit, claimed: ReadonlySet<number>): number | undefined {
  return findOffered(s, { paymentHash: c.in.paymentHash, amountMsat: c.out.amountMsat, cltvExpiry: c.out.cltvExpiry }, claimed)
}

export type { ChannelId }
