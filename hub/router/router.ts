// Payments payer → hub → payee. An HTLC the payer's channel has irrevocably committed
// (`htlc_received`) names its recipient; the hub checks its fee and expiry delta, writes a durable
// circuit, and adds the downstream HTLC on the recipient's channel. The downstream outcome goes back
// upstream: a fulfill once the preimage is stored, a fail once the failure is irrevocably committed,
// each recorded in the circuit first (scenario 9).
//
// Failures upstream carry a typed reason: unknown_next_peer (no channel, and the hub opens none for it),
// temporary_channel_failure (insufficient liquidity), recipient_offline (payee not back before the
// deadline, or the hub holds as much for it as its caps allow), expiry_too_soon, fee_insufficient, or
// whatever the payee said.
//
// A payee that is offline (or whose channel is still opening) has its payments held (holds.ts): a
// durable record written before the payer is told (payment_held), kept across restarts, within the
// payee's caps (router.maxHeldPerPayee, router.maxHeldMsatPerPayee), until the payee returns (the
// record becomes the payment's circuit, in one batch) or the hold ends: after router.holdMs, or once
// the chain passes the last height at which the payment can still be forwarded (its expiry minus
// cltvExpiryDelta must leave the payee minFinalCltvExpiry blocks), whichever comes first.
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
// An HTLC that names its payer's idempotency key is checked against the payment the key was first used
// for (payer-keys.ts): a second payment under one key is refused (`duplicate_payment`, or
// `idempotency_key_reused` with other parameters); the key's record is written with the circuit or hold.
//
// After a restart, reconcile() replays: every circuit is matched with the state of its channels, every
// hold is armed again (or ended, if its deadline passed meanwhile), and every committed incoming HTLC
// with neither is handled as new. Replays are idempotent: a circuit
// is never forwarded twice while its downstream HTLC exists, and a preimage once stored is always
// carried upstream.
import {
  committedIncoming, findOffered, isOperating, quiescence, spendableMsat, type ChannelEvent, type ChannelState, type Htlc,
} from '../../protocol/channel/index.ts'
import { amountToForward } from '../../protocol/forwarding.ts'
import { MAX_FAIL_DETAIL_CHARS } from '../../protocol/limits.ts'
import type { ChannelId, Height, Msat, NodeId } from '../../protocol/types.ts'
import type { HtlcFailureReason } from '../../protocol/wire/index.ts'
import type { StoreOp } from '../../host/store/store.ts'
import type { HubConfig } from '../config.ts'
import type { ChannelListener, ChannelManager, ManagedChannel } from '../channels/manager.ts'
import type { HubReceipts } from '../audit/receipts.ts'
import type { Circuit, CircuitStore } from './circuits.ts'
import type { Hold, HoldStore } from './holds.ts'
import type { KeyUse, PayerKeys } from './payer-keys.ts'
import type { LedgerEntry } from '../accounting/ledger.ts'
import { parseTickReference } from '../../protocol/stream/tick.ts'

export interface RouterOptions {
  /** The ids the hub is known by now: its current node key and, during a rotation's grace, the other
   *  one served beside it (hub/identity/node-keys.ts servedIds). A payment to any of them is to the hub. */
  hubIds: () => readonly NodeId[]
  manager: ChannelManager
  circuits: CircuitStore
  /** Payments held for offline payees (loaded before reconcile()). */
  holds: HoldStore
  /** Payers' idempotency keys (loaded before reconcile()). */
  payerKeys: PayerKeys
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
  /** The hub's ledger of settled payments and fees (hub/accounting/ledger.ts): its entry is written in
   *  the batch that records a circuit's fulfilment. */
  ledger?: { ops: (e: LedgerEntry) => StoreOp[] }
  /** A router write failed: the store refuses writes from now on; the hub must stop. */
  fatal: (error: unknown) => void
  /** Receipts of settled payments (hub/audit/receipts.ts): their audit entries ride in the batch that
   *  records the fulfilled circuit. */
  receipts?: Pick<HubReceipts, 'prepare'>
  /** Told of every payment the hub forwards and of how each ends (the operator's figures:
   *  hub/admin/payments.ts). */
  onPayment?: (e: PaymentEvent) => void
}

export interface RouterStats { forwarded: number; fulfilled: number; failed: number; feesMsat: number }

/** A payment through the hub, identified by its incoming HTLC: forwarded (its circuit durable), then
 *  fulfilled or failed back (failed also without being forwarded: refused, or a hold that ended). */
export type PaymentEvent =
  | { type: 'forwarded'; channelIn: ChannelId; htlcIn: number; paymentHash: string; amountMsat: Msat; payee: NodeId }
  | { type: 'fulfilled'; channelIn: ChannelId; htlcIn: number; paymentHash: string; amountMsat: Msat; feeMsat: number; payee: NodeId }
  | {
    type: 'failed'; channelIn: ChannelId; htlcIn: number; reason: HtlcFailureReason; detail?: string
    paymentHash?: string; amountMsat?: Msat; payee?: NodeId
  }

/** Where a payment for a recipient can go now. */
type Route =
  | { kind: 'ready'; out: ManagedChannel }  // a usable channel with the liquidity
  | { kind: 'no_liquidity' }                // usable channels, none with enough to spend
  | { kind: 'wait' }                        // a channel that is down, reestablishing, still opening or quiescent
  | { kind: 'none' }                        // no channel at all

/** A channel whose link is up. One that has not run since the hub started is down (its stored state
 *  still says how its link was when it was written). */
const isUp = (ch: ManagedChannel): boolean =>
  ch.running && ch.state.phase === 'normal' && ch.state.link === 'up' && ch.driver.stoppedBy === undefined
/** A channel that can carry a payment now: up, and not quiescent (BOLT #2: no update may be added
 *  while a splice is negotiated and signed). */
const isUsable = (ch: ManagedChannel): boolean => isUp(ch) && quiescence(ch.state) === 'none'

/** Ended idempotency key records are deleted at most this often (on a block). */
const PRUNE_KEYS_EVERY_MS = 3_600_000

/** Node's timers fire at most this far out (2^31 - 1 ms); a later deadline re-arms when it fires. */
const MAX_TIMER_MS = 2_147_483_647

const key = (channelId: string, htlcId: number): string => `${channelId}/${htlcId}`

export class Router implements ChannelListener {
  /** The deadline timer of each hold in state `held`. */
  private readonly timers = new Map<string, NodeJS.Timeout>()
  /** Incoming HTLCs being worked on (between the checks and the durable circuit or hold). */
  private readonly busy = new Set<string>()
  /** Circuits whose downstream add is queued on its channel but not stepped yet. */
  private readonly adding = new Set<Circuit>()
  readonly stats: RouterStats = { forwarded: 0, fulfilled: 0, failed: 0, feesMsat: 0 }
  private keysPrunedAt = 0

  constructor (private readonly opts: RouterOptions) {}

  // ── channel events ──

  event (ch: ManagedChannel, e: ChannelEvent): void {
    switch (e.type) {
      case 'htlc_received': return void this.guard(this.incoming(ch, e.htlc))
      case 'htlc_fulfilled': return void this.guard(this.downstreamFulfilled(ch, e.id, e.paymentHash, e.preimage))
      case 'htlc_failed': return void this.guard(this.downstreamFailed(ch, e.id, e.reason))
      case 'htlc_settled':
        return void this.guard(Promise.all([
          this.opts.circuits.remove(ch.channelId, e.id), this.opts.holds.remove(ch.channelId, e.id),
        ]).then(() => {}))
      case 'add_rolled_back': return this.rolledBack(ch, e.htlc, e.violation !== undefined)
      case 'channel_ready':
      case 'reestablished':
        this.retryHeld(ch.peer)
        this.retryUnsent(ch)
        this.tellHeldOn(ch)
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

  /** Disarms every hold's timer (the holds stay stored: a restart arms them again). */
  stop (): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
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
    const held = this.opts.holds.get(inId, htlc.id)
    if (held !== undefined) return this.replayHold(held)
    if (this.busy.has(k)) return
    // A channel that failed goes on-chain: its incoming HTLCs are not forwarded (the payer's monitor
    // times them out there), so the hub never owes downstream what it could only claim on-chain.
    if (!isOperating(chIn.state.phase)) return
    const c = this.opts.config
    if (this.opts.hubIds().includes(htlc.recipient)) return this.failUpstream(
      chIn, htlc.id, 'incorrect_or_unknown_payment_details', 'the hub is not a payee',
    )
    const outAmount = amountToForward(htlc.amountMsat, { feeBaseMsat: c.fees.baseMsat, feePpm: c.fees.ppm })
    if (outAmount === null) return this.failUpstream(
      chIn, htlc.id, 'fee_insufficient', `fee is ${c.fees.baseMsat} msat + ${c.fees.ppm} ppm`,
    )
    // The payee may hold it until this expiry at the latest (see the top of this file).
    const outCltv = Math.min(htlc.cltvExpiry - c.cltvExpiryDelta, this.opts.height() + c.router.maxHoldBlocks)
    if (outCltv < this.opts.height() + c.minFinalCltvExpiry) return this.failUpstream(
      chIn, htlc.id, 'expiry_too_soon',
      `cltv_expiry ${htlc.cltvExpiry} leaves less than ${c.cltvExpiryDelta} + ${c.minFinalCltvExpiry} blocks`,
    )
    const idempotencyKey = htlc.metadata?.idempotency_key
    const use: KeyUse | undefined = idempotencyKey === undefined ? undefined : {
      payer: chIn.peer, key: idempotencyKey, paymentHash: htlc.paymentHash, recipient: htlc.recipient, amountMsat: outAmount,
      ...(htlc.metadata?.reference !== undefined ? { reference: htlc.metadata.reference } : {}), in: { channelId: inId, htlcId: htlc.id },
    }
    if (use !== undefined) {
      const v = this.opts.payerKeys.check(use)
      if (v.kind === 'reused') {
        return this.failUpstream(
          chIn, htlc.id, 'idempotency_key_reused',
          `key ${use.key} belongs to payment ${v.record.paymentHash} with another payee, amount or reference; nothing was paid`,
        )
      }
      if (v.kind === 'duplicate') {
        return this.failUpstream(chIn, htlc.id, 'duplicate_payment', `key ${use.key} names payment ${v.record.paymentHash}, which ` +
          `${v.record.state === 'succeeded' ? 'succeeded' : 'is in flight'}; nothing was paid twice`)
      }
    }
    await this.forward(chIn, htlc, outAmount, outCltv, use)
  }

  /** The op recording `use` as its key's payment, for the batch that forwards or holds it. */
  private keyOps (use: KeyUse | undefined): StoreOp[] {
    return use === undefined ? [] : [this.opts.payerKeys.use(use, Date.now())]
  }

  /** Forwards now if the recipient has a usable channel; holds it if it may have one soon. */
  private async forward (chIn: ManagedChannel, htlc: Htlc, outAmount: Msat, outCltv: number, use?: KeyUse): Promise<void> {
    const r = this.route(htlc.recipient, outAmount)
    if (r.kind === 'no_liquidity') return this.failUpstream(
      chIn, htlc.id, 'temporary_channel_failure', `insufficient liquidity towards ${htlc.recipient}`,
    )
    if (r.kind === 'none') {
      if (!this.opts.manager.isOnline(htlc.recipient) || this.opts.config.channels.openOnPayment !== true ||
        this.opts.openChannel === undefined) {
        return this.failUpstream(chIn, htlc.id, 'unknown_next_peer', `${htlc.recipient} has no channel with the hub`)
      }
      const refused = this.opts.openChannel(htlc.recipient)
      if (refused !== undefined) return this.failUpstream(
        chIn, htlc.id, 'unknown_next_peer', `${htlc.recipient} has no channel with the hub, and the hub opens none: ${refused}`,
      )
    }
    // The payee is offline, reconnecting, or its channel is still opening: hold until the deadline.
    if (r.kind !== 'ready') return this.hold(chIn, htlc, outAmount, use)
    await this.forwardOn(r.out, chIn.channelId, htlc, outAmount, outCltv, () => this.keyOps(use))
  }

  private route (recipient: NodeId, amount: Msat): Route {
    const candidates = this.opts.manager.channelsOf(recipient)
    const usable = candidates.filter(isUsable).sort((a, b) => spendableMsat(b.state) - spendableMsat(a.state))
    const out = usable.find(ch => spendableMsat(ch.state) >= amount)
    if (out !== undefined) return { kind: 'ready', out }
    // A quiescent channel may have the liquidity once its splice is signed: wait for it.
    if (candidates.some(ch => isUp(ch) && !isUsable(ch))) return { kind: 'wait' }
    if (usable.length > 0) return { kind: 'no_liquidity' }
    return candidates.some(ch => ch.state.phase === 'normal' || ch.state.phase.startsWith('awaiting_'))
      ? { kind: 'wait' }
      : { kind: 'none' }
  }

  /** Writes the circuit (with `also`, in the same batch), then adds the downstream HTLC on `out`. */
  private async forwardOn (
    out: ManagedChannel, inId: ChannelId, htlc: Htlc, outAmount: Msat, outCltv: number, also: () => StoreOp[] = () => [],
  ): Promise<void> {
    const k = key(inId, htlc.id)
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
      await this.opts.circuits.save(circuit, also())
      this.stats.forwarded++
      this.opts.onPayment?.({
        type: 'forwarded', channelIn: inId, htlcIn: htlc.id, paymentHash: htlc.paymentHash, amountMsat: htlc.amountMsat,
        payee: htlc.recipient,
      })
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

  // ── holds (holds.ts) ──

  /** Holds an incoming HTLC for a payee that may have a usable channel soon: within the payee's caps,
   *  durably, then the payer is told (payment_held). */
  private async hold (chIn: ManagedChannel, htlc: Htlc, outAmount: Msat, use?: KeyUse): Promise<void> {
    const k = key(chIn.channelId, htlc.id)
    if (this.busy.has(k) || this.opts.holds.get(chIn.channelId, htlc.id) !== undefined) return
    const c = this.opts.config
    const who = htlc.recipient
    const refuse = (detail: string): Promise<void> => this.failUpstream(chIn, htlc.id, 'recipient_offline', detail)
    if (c.router.holdMs === 0) return refuse(`${who} is offline, and the hub holds no payments (router.holdMs is 0)`)
    const held = this.opts.holds.heldFor(who)
    if (held.length >= c.router.maxHeldPerPayee) {
      return refuse(`${who} is offline, and the hub holds ${held.length} payments for it already (router.maxHeldPerPayee)`)
    }
    const heldMsat = held.reduce((t, h) => t + h.outAmountMsat, 0)
    const capMsat = c.router.maxHeldMsatPerPayee ?? c.channels.fundingSat * 1000
    if (heldMsat + outAmount > capMsat) {
      return refuse(`${who} is offline, and the hub holds ${heldMsat} msat for it already: ${outAmount} msat more is over ` +
        `router.maxHeldMsatPerPayee (${capMsat} msat)`)
    }
    const now = Date.now()
    const hold: Hold = {
      in: {
        channelId: chIn.channelId, htlcId: htlc.id, amountMsat: htlc.amountMsat, paymentHash: htlc.paymentHash, cltvExpiry: htlc.cltvExpiry,
      },
      recipient: who, outAmountMsat: outAmount, heldAt: now, untilTime: now + c.router.holdMs,
      // The last height at which it can still be forwarded: the payee gets its minimum window below
      // the incoming expiry minus the hub's delta (incoming() checked that this is not behind us).
      untilHeight: htlc.cltvExpiry - c.cltvExpiryDelta - c.minFinalCltvExpiry,
      state: 'held',
    }
    this.busy.add(k)
    try { await this.opts.holds.save(hold, this.keyOps(use)) } finally { this.busy.delete(k) }
    this.opts.log({
      event: 'payment_held', recipient: who, channel_id: chIn.channelId, htlc_id: htlc.id, payment_hash: htlc.paymentHash,
      amount_msat: outAmount, until_time: hold.untilTime, until_height: hold.untilHeight,
    })
    this.tellHeld(chIn.peer, hold)
    this.arm(hold)
    // The payee may have come back while the hold was being written.
    this.retryHeld(who)
  }

  /** payment_held to the payer (its hold is durable). */
  private tellHeld (payer: NodeId, h: Hold): void {
    this.opts.manager.send(payer, {
      type: 'payment_held', channel_id: h.in.channelId, id: h.in.htlcId, payment_hash: h.in.paymentHash,
      until_time: Math.floor(h.untilTime / 1000), until_height: h.untilHeight as Height,
    })
  }

  /** The payer's channel is back: tell it again which of its payments are held. */
  private tellHeldOn (chIn: ManagedChannel): void {
    for (const h of this.opts.holds.all()) if (h.state === 'held' && h.in.channelId === chIn.channelId) this.tellHeld(chIn.peer, h)
  }

  private arm (h: Hold): void {
    const k = key(h.in.channelId, h.in.htlcId)
    clearTimeout(this.timers.get(k))
    const timer = setTimeout(() => {
      if (this.timers.get(k) !== timer) return
      this.timers.delete(k)
      if (Date.now() < h.untilTime) { this.arm(h); return }
      void this.guard(this.expire(h, `${h.recipient} did not come back within ${Math.round((h.untilTime - h.heldAt) / 1000)} s`))
    }, Math.min(MAX_TIMER_MS, Math.max(0, h.untilTime - Date.now())))
    timer.unref()
    this.timers.set(k, timer)
  }

  private disarm (h: Hold): void {
    const k = key(h.in.channelId, h.in.htlcId)
    clearTimeout(this.timers.get(k))
    this.timers.delete(k)
  }

  /** A new block: holds whose payment the chain has made too late to forward end now. */
  block (height: number): void {
    const now = Date.now()
    if (now - this.keysPrunedAt >= PRUNE_KEYS_EVERY_MS) void this.guard(this.pruneKeys(now))
    for (const h of this.opts.holds.all()) {
      if (h.state === 'held' && height > h.untilHeight) {
        void this.guard(this.expire(
          h, `${h.recipient} did not come back before block ${h.untilHeight + 1} (the payment's expiry leaves no more room)`,
        ))
      }
    }
  }

  private async pruneKeys (now: number): Promise<void> {
    this.keysPrunedAt = now
    const n = await this.opts.payerKeys.prune(now - this.opts.config.router.idempotencyDays * 86_400_000)
    if (n > 0) this.opts.log({ event: 'idempotency_keys_pruned', count: n })
  }

  /** The hold ended (unless the payee took it meanwhile): the payment fails back. */
  private async expire (h: Hold, detail: string): Promise<void> {
    if (this.opts.holds.get(h.in.channelId, h.in.htlcId) !== h || h.state !== 'held') return
    await this.failHeld(h, 'recipient_offline', detail)
  }

  /** Records the end of a hold, then fails the payment upstream. */
  private async failHeld (h: Hold, reason: HtlcFailureReason, detail: string): Promise<void> {
    if (h.state !== 'held') return
    this.disarm(h)
    h.state = 'failed'
    h.reason = reason
    h.detail = detail.slice(0, MAX_FAIL_DETAIL_CHARS)
    await this.opts.holds.save(h, this.opts.payerKeys.ended(h.in.channelId, h.in.htlcId, 'failed', Date.now()))
    await this.failHeldUpstream(h)
  }

  /** `again`: a hold that failed before (a restart found it): the operator's figures counted it then. */
  private async failHeldUpstream (h: Hold, again = false): Promise<void> {
    const chIn = this.opts.manager.get(h.in.channelId)
    if (chIn !== undefined) await this.failUpstream(chIn, h.in.htlcId, h.reason ?? 'recipient_offline', h.detail ?? '', again)
  }

  /** The incoming HTLC a hold is for, if its channel still carries it. */
  private heldHtlc (h: Hold): { chIn: ManagedChannel; htlc: Htlc } | undefined {
    const chIn = this.opts.manager.get(h.in.channelId)
    if (chIn === undefined || !isOperating(chIn.state.phase)) return undefined
    const htlc = committedIncoming(chIn.state).find(x => x.id === h.in.htlcId && x.paymentHash === h.in.paymentHash)
    return htlc === undefined ? undefined : { chIn, htlc }
  }

  private retryHeld (peer: NodeId): void {
    const held = this.opts.holds.heldFor(peer)
    if (held.length === 0 || !this.opts.manager.channelsOf(peer).some(isUsable)) return
    for (const h of held) void this.guard(this.release(h))
  }

  /** The payee is back: the held payment is forwarded; its circuit replaces the hold in one batch. */
  private async release (h: Hold): Promise<void> {
    if (this.opts.holds.get(h.in.channelId, h.in.htlcId) !== h || h.state !== 'held') return
    const found = this.heldHtlc(h)
    // The payer's channel failed, or the HTLC left it: the chain decides it (nothing to forward).
    if (found === undefined) { this.disarm(h); await this.opts.holds.remove(h.in.channelId, h.in.htlcId); return }
    const c = this.opts.config
    const height = this.opts.height()
    if (height > h.untilHeight) return this.expire(
      h, `${h.recipient} came back after block ${h.untilHeight}, too late to forward the payment`,
    )
    const r = this.route(h.recipient, h.outAmountMsat)
    if (r.kind === 'no_liquidity') return this.failHeld(h, 'temporary_channel_failure', `insufficient liquidity towards ${h.recipient}`)
    if (r.kind !== 'ready') return
    this.disarm(h)
    const outCltv = Math.min(h.in.cltvExpiry - c.cltvExpiryDelta, height + c.router.maxHoldBlocks)
    await this.forwardOn(r.out, h.in.channelId, found.htlc, h.outAmountMsat, outCltv, () => [this.opts.holds.release(h)])
  }

  /** The payer gave up on a held payment (a split's signed abort, hub/router/split-relay.ts): if the
   *  hub still holds it for its offline payee, it fails back now (mpp_timeout) instead of at the hold's end. */
  abandonHeld (chIn: ManagedChannel, htlcId: number, detail: string): void {
    const h = this.opts.holds.get(chIn.channelId, htlcId)
    if (h !== undefined && h.state === 'held') void this.guard(this.failHeld(h, 'mpp_timeout', detail))
  }

  /** A hold found again (restart, or its HTLC reported again): a failed one fails upstream again; a
   *  held one is armed, or ends if its deadline passed meanwhile, or is forgotten if its HTLC is gone. */
  private async replayHold (h: Hold): Promise<void> {
    if (h.state === 'failed') return this.failHeldUpstream(h, true)
    if (this.heldHtlc(h) === undefined) { this.disarm(h); await this.opts.holds.remove(h.in.channelId, h.in.htlcId); return }
    if (this.opts.height() > h.untilHeight) return this.expire(h, `${h.recipient} did not come back before block ${h.untilHeight + 1}`)
    if (Date.now() >= h.untilTime) return this.expire(
      h, `${h.recipient} did not come back within ${Math.round((h.untilTime - h.heldAt) / 1000)} s`,
    )
    this.arm(h)
    this.retryHeld(h.recipient)
  }

  // ── outcomes ──

  private findOut (chOut: ManagedChannel, htlcId: number, paymentHash?: string): Circuit | undefined {
    const mine = this.opts.circuits.outgoing(chOut.channelId).filter(c => c.state === 'forwarding')
    return mine.find(c => c.out.htlcId === htlcId) ??
      (paymentHash !== undefined ? mine.find(c => c.out.htlcId === undefined && c.in.paymentHash === paymentHash) : undefined)
  }

  private async downstreamFulfilled (chOut: ManagedChannel, htlcId: number, paymentHash: string, preimage: string): Promise<void> {
    this.opts.preimages.set(paymentHash, preimage)
    const c = this.findOut(
      chOut, htlcId, paymentHash,
    ) ?? this.opts.circuits.outgoing(chOut.channelId).find(x => x.in.paymentHash === paymentHash && x.state === 'fulfilled')
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
      const now = Date.now()
      const keyOps = this.opts.payerKeys.ended(c.in.channelId, c.in.htlcId, state === 'fulfilled' ? 'succeeded' : 'failed', now)
      // The ledger entry and the receipt's audit entry join this batch: prepared and written in one synchronous step.
      const receipt = state === 'fulfilled' ? this.receiptOf(c) : undefined
      await this.opts.circuits.save(c, [...keyOps, ...(state === 'fulfilled' ? this.ledgerOps(c, now) : []), ...(receipt?.ops ?? [])])
      receipt?.deliver()
      const id = { channelIn: c.in.channelId, htlcIn: c.in.htlcId, paymentHash: c.in.paymentHash }
      if (state === 'fulfilled') {
        this.stats.fulfilled++; this.stats.feesMsat += c.in.amountMsat - c.out.amountMsat
        this.opts.onPayment?.({
          type: 'fulfilled', ...id, amountMsat: c.in.amountMsat, feeMsat: c.in.amountMsat - c.out.amountMsat, payee: c.out.recipient,
        })
      } else {
        this.stats.failed++
        this.opts.onPayment?.({ type: 'failed', ...id, reason: c.reason ?? 'temporary_channel_failure' })
      }
    }
    await this.sendUpstream(c)
  }

  /** The receipt of a fulfilled circuit: payer, payee, amounts and the payer's reference. */
  private receiptOf (c: Circuit): { ops: StoreOp[]; deliver: () => void } | undefined {
    const chIn = this.opts.manager.get(c.in.channelId)
    if (this.opts.receipts === undefined || chIn === undefined) return undefined
    const htlc = chIn.state.localCommit?.spec.htlcs.find(h => h.offerer === 'remote' && h.id === c.in.htlcId)
    return this.opts.receipts.prepare({
      paymentHash: c.in.paymentHash, amountMsat: c.out.amountMsat, feeMsat: c.in.amountMsat - c.out.amountMsat,
      payer: chIn.peer, payee: c.out.recipient, reference: htlc?.metadata?.reference ?? null,
    })
  }

  /** The ledger entry of a fulfilled circuit: amounts, the hub's fee, both parties, and what kind of
   *  payment its incoming HTLC's metadata says it is. */
  private ledgerOps (c: Circuit, at: number): StoreOp[] {
    const chIn = this.opts.manager.get(c.in.channelId)
    if (this.opts.ledger === undefined || chIn === undefined) return []
    const md = committedIncoming(chIn.state).find(h => h.id === c.in.htlcId)?.metadata
    // A stream tick is a push payment whose reference commits to its root (protocol/stream/tick.ts);
    // a split's leg names its split in split_leg.
    const streamRoot = md?.stream_root ?? (md?.reference !== undefined ? parseTickReference(md.reference)?.root : undefined)
    const splitId = md?.split_leg?.split_id ?? md?.split_id
    return this.opts.ledger.ops({
      at, payment_hash: c.in.paymentHash, payer: chIn.peer, payee: c.out.recipient, in_msat: c.in.amountMsat, out_msat: c.out.amountMsat,
      fee_msat: c.in.amountMsat - c.out.amountMsat, in_channel: c.in.channelId, in_htlc: c.in.htlcId, out_channel: c.out.channelId,
      ...(streamRoot !== undefined ? { stream_root: streamRoot } : {}),
      ...(splitId !== undefined ? { split_id: splitId } : {}),
    })
  }

  private async sendUpstream (c: Circuit): Promise<void> {
    const chIn = this.opts.manager.get(c.in.channelId)
    if (chIn === undefined) return
    if (c.state === 'fulfilled') await chIn.driver.command({ type: 'fulfill_htlc', id: c.in.htlcId, preimage: c.preimage! })
    else if (c.state === 'failed') await chIn.driver.command({
      type: 'fail_htlc', id: c.in.htlcId, reason: c.reason ?? 'temporary_channel_failure',
    })
  }

  private async failUpstream (
    chIn: ManagedChannel, htlcId: number, reason: HtlcFailureReason, detail: string, again = false,
  ): Promise<void> {
    this.stats.failed++
    if (this.opts.onPayment !== undefined && !again) {
      const htlc = committedIncoming(chIn.state).find(h => h.id === htlcId)
      this.opts.onPayment({
        type: 'failed', channelIn: chIn.channelId, htlcIn: htlcId, reason, detail,
        ...(htlc !== undefined ? { paymentHash: htlc.paymentHash, amountMsat: htlc.amountMsat, payee: htlc.recipient } : {}),
      })
    }
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
    // Payments held from a channel that failed: its HTLCs go on-chain, and the payer's monitor times
    // them out there; nothing is forwarded.
    for (const h of this.opts.holds.all()) {
      if (h.in.channelId === chOut.channelId) { this.disarm(h); void this.guard(this.opts.holds.remove(h.in.channelId, h.in.htlcId)) }
    }
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
    await this.pruneKeys(Date.now())
    for (const c of this.opts.circuits.all()) await this.replay(c)
    for (const h of this.opts.holds.all()) await this.replayHold(h)
    for (const ch of this.opts.manager.all()) {
      for (const htlc of committedIncoming(ch.state)) {
        if (this.opts.circuits.get(ch.channelId, htlc.id) === undefined && this.opts.holds.get(ch.channelId, htlc.id) === undefined) {
          await this.incoming(ch, htlc)
        }
      }
    }
  }
}

/** Our HTLC matching a circuit's outgoing half, anywhere in the channel (proposed, signed, committed). */
function findOutgoing (s: ChannelState, c: Circuit, claimed: ReadonlySet<number>): number | undefined {
  return findOffered(s, { paymentHash: c.in.paymentHash, amountMsat: c.out.amountMsat, cltvExpiry: c.out.cltvExpiry }, claimed)
}

export type { ChannelId }
