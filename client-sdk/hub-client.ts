// HubClient: what a platform, creator or co-op treasury embeds to use the hub. It owns a HubLink (the
// authenticated, reconnecting WebSocket), a ChannelSet (drivers, store, wallet funding, chain watch)
// and a PaymentBook (invoices and payments), and turns channel events into the SDK's typed events.
import path from 'node:path'
import fs from 'node:fs'
import { nodeIdOf } from '../protocol/auth/signature.ts'
import { amountToOffer, type FeePolicy } from '../protocol/driver/index.ts'
import { isFinal } from '../protocol/channel/phase.ts'
import { forceCloseOutcome, type ChannelEvent, type ChannelState, type ForceCloseOutcome, type Phase } from '../protocol/channel/index.ts'
import { bytesToHex, type ChannelId, type Msat, type NodeId, type Sat, type Txid } from '../protocol/types.ts'
import type { HubPolicy as HubPolicyMessage } from '../protocol/wire/index.ts'
import { BtcdChainBackend } from '../hub/chain/btcd-backend.ts'
import type { ChainBackend } from '../hub/chain/backend.ts'
import { Wallet } from '../hub/wallet/wallet.ts'
import { LevelStore } from '../hub/store/index.ts'
import { setDefaultCurve } from '../protocol/crypto/index.ts'
import { tinyCurve } from '../protocol/crypto/tiny.ts'
import { HubLink } from './transport/index.ts'
import { Emitter } from './transport/events.ts'
import { ChannelSet, type ClientChannel } from './channels.ts'
import { PaymentBook, type PayResult } from './payments.ts'
import { ClientMonitoring, type MonitorEvent } from './monitoring.ts'
import { clientOptionsSchema, createInvoiceArgs, openChannelArgs, parseArgs, payArgs, requestChannelArgs, type ClientOptions, type ClientOptionsInput, type Role } from './options.ts'

export interface ChannelInfo {
  channelId: ChannelId
  phase: Phase
  link: 'down' | 'reestablishing' | 'up'
  capacitySat: Sat
  /** We funded it (platform) or the hub did (creator, treasury). */
  funder: boolean
  fundingTxid: Txid | null
  /** Balances in the latest commitment we hold (before the commitment fee), and HTLCs in flight. */
  localMsat: Msat
  remoteMsat: Msat
  inFlightMsat: Msat
  /** No HTLC and no unsigned or unrevoked update on either side: both parties hold the same balances. */
  settled: boolean
}

export interface Balances {
  channels: ChannelInfo[]
  /** Sum of localMsat over channels that are not closed. */
  channelMsat: Msat
  onchain: { spendableSat: Sat; totalSat: Sat }
}

export interface CloseResult { channelId: ChannelId; closingTxid: Txid; localSat: Sat; remoteSat: Sat; feeSat: Sat }

/** What forceCloseChannel() did. `broadcast`: our latest commitment is going on-chain (our monitor
 *  broadcast it and rebroadcasts it until it confirms); false for a channel that was never funded
 *  (it is failed and forgotten, nothing is on-chain). */
export type ForceCloseResult =
  | { ok: true; channelId: ChannelId; broadcast: boolean }
  | { ok: false; channelId: ChannelId; reason: ForceCloseRefusal; detail: string }
/** unknown_channel: no such channel; we_are_behind: we lost state (restored from an old backup), our
 *  commitment may be revoked, so only the hub may close (it will, with its own, and our monitor
 *  sweeps what is ours); closing: a mutual close was agreed or the channel is closed; stopped: the
 *  channel stopped on a failed write (restart the client). */
export type ForceCloseRefusal = 'unknown_channel' | 'we_are_behind' | 'closing' | 'stopped'

export type HubClientEvents = {
  payment_received: [e: { paymentHash: string; amountMsat: Msat; memo: string; channelId: ChannelId }]
  payment_sent: [e: { paymentHash: string; amountMsat: Msat; feeMsat: Msat; preimage: string }]
  payment_failed: [e: { paymentHash: string | null; reason: string; detail: string }]
  channel_state: [e: ChannelInfo]
  /** Something the application may want to log (a refused message, a failed broadcast). */
  warning: [detail: string]
  /** The hub sent a connection-level `error` (e.g. it refused request_channel). */
  hub_refused: [detail: string]
  /** A chain monitor's decision about a channel (force closing, an HTLC settled on-chain, closed). */
  onchain: [e: { channelId: ChannelId; event: MonitorEvent }]
}

/** The hub's fee and CLTV policy the payer pays for (BOLT #7 fee_base_msat/fee_proportional_millionths),
 *  from the hub's hub_policy message. */
export interface HubPolicy extends FeePolicy { cltvExpiryDelta: number; fundingSat: number; minimumDepth: number }

/** Confirmations before a monitor's on-chain outcome is reported (claims go out at one). */
const MONITOR_DEPTH = 3
/** Fee rate of the monitor's claim transactions (btcd has no fee estimation); bumped by RBF. */
const MONITOR_FEERATE_PER_KW = 1000

const nowSec = (): number => Math.floor(Date.now() / 1000)

export class HubClient extends Emitter<HubClientEvents> {
  readonly nodeId: NodeId
  readonly role: Role
  private readonly link: HubLink
  private readonly channelSet: ChannelSet
  private readonly book: PaymentBook
  /** Payments whose add was rolled back by a disconnect: offered again after reestablish. */
  private readonly toRetry = new Map<string, ClientChannel>()
  private readonly addRefused = new Map<ClientChannel, string>()
  private readonly inflight = new Set<Promise<unknown>>()
  private stopped = false
  private policy: HubPolicy | undefined
  private readonly policyWaiters: Array<() => void> = []
  /** The chain monitors of our channels (client-sdk/monitoring.ts), from create() on. */
  private monitoring: ClientMonitoring | undefined

  private constructor (
    private readonly opts: ClientOptions,
    private readonly store: LevelStore,
    readonly wallet: Wallet,
    private readonly chain: ChainBackend,
    private readonly ownsChain: boolean,
  ) {
    super(e => { this.emit('warning', `event listener threw: ${String(e)}`) })
    this.nodeId = nodeIdOf(opts.nodeKey)
    this.role = opts.role
    this.book = new PaymentBook(store, opts.nodeKey, this.nodeId, rec => {
      if (rec.status === 'succeeded') this.emit('payment_sent', { paymentHash: rec.paymentHash, amountMsat: rec.amountMsat as Msat, feeMsat: (rec.offeredMsat - rec.amountMsat) as Msat, preimage: rec.preimage! })
      else this.emit('payment_failed', { paymentHash: rec.paymentHash, reason: rec.failure!.reason, detail: rec.failure!.detail })
    })
    this.link = new HubLink(opts.hubUrl, opts.nodeKey, {
      expectedHubId: opts.hubId, backoff: { initialMs: opts.reconnectInitialMs, maxMs: opts.reconnectMaxMs },
      ...(opts.socketFactory !== undefined ? { socketFactory: opts.socketFactory } : {}),
    })
    this.channelSet = new ChannelSet(store, wallet, chain, opts, {
      send: msg => this.link.send(msg),
      disconnect: () => this.link.connection?.close(4005, 'channel asked to disconnect'),
      event: (ch, ev) => this.onChannelEvent(ch, ev),
      warn: w => this.emit('warning', w),
      persisted: (id, updates) => { this.monitoring?.persisted(id, updates) },
      carry: (id, monitor) => this.book.carry(id, monitor),
    })
    this.link.on('message', msg => {
      if (msg.type === 'hub_policy') { this.onPolicy(msg); return }
      if (msg.type === 'error' && /^0{64}$/.test(msg.channel_id)) { this.emit('hub_refused', msg.data); this.emit('warning', `hub error: ${msg.data}`); return }
      this.track(this.channelSet.receive(msg))
    })
    this.link.on('connected', () => this.track(this.channelSet.connected()))
    this.link.on('disconnected', () => this.track(this.channelSet.disconnected()))
    this.link.on('bad_frame', e => this.emit('warning', `bad frame from hub: ${e.detail}`))
  }

  /** Opens the client's store and wallet in `dataDir` and loads its channels. Throws a TypeError
   *  naming the field for a bad option. */
  static async create (input: ClientOptionsInput): Promise<HubClient> {
    const opts = parseArgs(clientOptionsSchema, input, 'options')
    // This client is Node-side (LevelDB): use the WASM curve, 2–3× faster than pure-JS noble for the
    // signatures and point operations of every commitment (protocol/crypto/curve.ts).
    setDefaultCurve(tinyCurve)
    fs.mkdirSync(path.join(opts.dataDir, 'wallet'), { recursive: true, mode: 0o700 })
    const ownsChain = opts.chain === undefined
    const chain = opts.chain ?? new BtcdChainBackend({ ...opts.btcdRpc!, pollMs: 200 })
    const store = await LevelStore.open(path.join(opts.dataDir, 'store'))
    const w = await Wallet.open({ dataDir: path.join(opts.dataDir, 'wallet'), chain, feeRate: opts.feeRateSatPerVb })
    if (!w.ok) { await store.close(); throw new Error(`wallet: ${JSON.stringify(w.error)}`) }
    const client = new HubClient(opts, store, w.value, chain, ownsChain)
    await client.channelSet.start()
    // Chain monitors for every channel: we enforce our latest state (and punish a revoked one) alone.
    client.monitoring = await ClientMonitoring.start({
      store, chain, sweepScript: bytesToHex(client.wallet.newAddress().script), depth: MONITOR_DEPTH, feeratePerKw: MONITOR_FEERATE_PER_KW,
      channels: client.channelSet.channels().filter(c => c.metaWritten).map(c => c.driver.channelId),
      keysOf: id => client.channelSet.get(id)?.keys,
      failChannel: async (id, reason) => {
        const ch = client.channelSet.get(id)
        if (ch !== undefined && !isFinal(ch.driver.state.phase)) await ch.driver.command({ type: 'force_close', reason: `monitor: ${reason}` })
      },
      onEvent: (id, event) => {
        // A payment we offered that settled on-chain: its outcome is final (the monitor reports a
        // timeout only once it is `depth` deep).
        if (event.kind === 'htlc_resolved' && event.htlc.offerer === 'local') {
          if (event.outcome === 'fulfilled' && event.preimage !== undefined) client.track(client.settleSent(event.htlc.paymentHash, event.preimage))
          else if (event.outcome === 'failed') client.track(client.settleFailed(event.htlc.paymentHash, 'timed_out_onchain', `HTLC ${event.htlc.id} timed out on-chain`))
        }
        if (event.kind === 'preimage_learned') client.track(client.settleSent(event.paymentHash, event.preimage))
        client.emit('onchain', { channelId: id as ChannelId, event })
      },
      warn: w => client.emit('warning', w),
    })
    return client
  }

  /** Runs `work` without blocking the caller. Ordering comes from the channel drivers: each queues its
   *  inputs synchronously at the call, so messages of one channel are stepped in arrival order while
   *  different channels (and their synced writes, merged by group commit) proceed concurrently. */
  private track (work: Promise<unknown>): void {
    this.inflight.add(work)
    work.catch(e => { this.emit('warning', `handling a hub message failed: ${String(e)}`) }).finally(() => this.inflight.delete(work))
  }

  /** Resolves when nothing started by a message or an event is still running. */
  private async quiet (): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
  }

  /** Connects to the hub (and keeps reconnecting); channels reestablish on every connection. */
  async connect (): Promise<void> {
    await this.link.start()
    await this.hubPolicy()
    await this.quiet()
    await this.recoverPayments()
    this.recoverIncoming()
  }

  /** The hub's policy (sent by the hub right after authentication). */
  private hubPolicy (): Promise<HubPolicy> {
    if (this.policy !== undefined) return Promise.resolve(this.policy)
    return new Promise(resolve => { this.policyWaiters.push(() => resolve(this.policy!)) })
  }

  private onPolicy (m: HubPolicyMessage): void {
    if (!this.channelSet.setChainHash(m.chain_hash)) {
      this.emit('warning', `hub_policy.chain_hash ${m.chain_hash} is not our chain: disconnecting`)
      this.link.stop()
      return
    }
    this.policy = { feeBaseMsat: m.fee_base_msat, feePpm: m.fee_proportional_millionths, cltvExpiryDelta: m.cltv_expiry_delta, fundingSat: m.funding_satoshis, minimumDepth: m.minimum_depth }
    for (const w of this.policyWaiters.splice(0)) w()
  }

  /** What the hub charges and expects (after connect()). */
  get hubPolicyInfo (): HubPolicy | undefined { return this.policy }

  get connected (): boolean { return this.link.connected }

  /** Resolves once connected and every open channel has reestablished (link 'up'). */
  async untilReestablished (): Promise<void> {
    const done = (): boolean => this.link.connected && this.channelSet.channels().every(c => isFinal(c.driver.state.phase) || c.driver.state.link === 'up')
    while (!done()) {
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { off(); resolve() }, 50)
        const off = this.on('channel_state', () => { clearTimeout(timer); off(); resolve() })
      })
    }
  }

  /** A new address of the client's on-chain wallet (to fund it). */
  newAddress (): string { return this.wallet.newAddress().address }

  /** Platform: opens a channel of `capacitySat` to the hub, funded from the client's wallet. Resolves
   *  once the channel is ready for payments (the funding tx must confirm: mine blocks on regtest). */
  async openChannel (args: { capacitySat: number }): Promise<ChannelInfo> {
    const a = parseArgs(openChannelArgs, args, 'openChannel')
    const ch = await this.channelSet.open(a.capacitySat)
    return await this.untilReady(ch)
  }

  /** Creator/treasury: asks the hub for a channel it funds (inbound liquidity). Resolves when it is
   *  ready for payments (the hub's funding must confirm: mine blocks on regtest). */
  async requestChannel (args: { capacitySat?: number } = {}): Promise<ChannelInfo> {
    const a = parseArgs(requestChannelArgs, args, 'requestChannel')
    const ready = this.channels().find(c => c.phase === 'normal')
    if (ready !== undefined) return ready
    const next = new Promise<ChannelInfo>((resolve, reject) => {
      const offS = this.on('channel_state', info => { if (info.phase === 'normal') { offS(); offW(); resolve(info) } })
      const offW = this.on('hub_refused', detail => { offS(); offW(); reject(new Error(`requestChannel: the hub refused: ${detail}`)) })
    })
    this.link.send({ type: 'request_channel', ...(a.capacitySat !== undefined ? { funding_satoshis: a.capacitySat as Sat } : {}) })
    return await next
  }

  private untilReady (ch: ClientChannel): Promise<ChannelInfo> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const s = ch.driver.state
        if (s.phase === 'normal') { off(); resolve(this.info(ch)); return true }
        if (ch.fundingError !== undefined) { off(); reject(new Error(`openChannel: ${ch.fundingError}`)); return true }
        if (isFinal(s.phase) || ch.driver.stoppedBy !== undefined) { off(); reject(new Error(`openChannel: channel ended in phase ${s.phase}`)); return true }
        return false
      }
      const off = this.on('channel_state', () => { check() })
      check()
    })
  }

  /** A BOLT #11 invoice (lnbcrt…) signed by our node key; its preimage is stored before it is returned. */
  async createInvoice (args: { amountMsat: number; memo?: string; expirySec?: number }): Promise<{ invoice: string; paymentHash: string; expiresAt: number }> {
    const a = parseArgs(createInvoiceArgs, args, 'createInvoice')
    const rec = await this.book.createInvoice(a.amountMsat, a.memo, a.expirySec, this.opts.finalCltvDelta, nowSec())
    return { invoice: rec.invoice, paymentHash: rec.paymentHash, expiresAt: rec.expiresAt }
  }

  /** Cancels an unpaid invoice of ours (payments for it are refused). False if unknown or already paid. */
  async cancelInvoice (paymentHash: string): Promise<boolean> {
    if (typeof paymentHash !== 'string' || !/^[0-9a-f]{64}$/.test(paymentHash)) throw new TypeError('cancelInvoice.paymentHash: must be 32 bytes of lowercase hex')
    return await this.book.cancelInvoice(paymentHash)
  }

  /**
   * Pays `invoice` through the hub. Resolves with the preimage, or a typed failure (never throws for
   * a payment problem). With the same `idempotencyKey` (or the same invoice), a second call pays
   * nothing and returns the first payment's outcome.
   */
  async pay (invoice: string, opts: { idempotencyKey?: string; reference?: string } = {}): Promise<PayResult> {
    if (typeof invoice !== 'string') throw new TypeError('pay.invoice: must be a BOLT #11 invoice string')
    const o = parseArgs(payArgs, opts, 'pay')
    if (o.idempotencyKey !== undefined) {
      const prior = await this.book.paymentByKey(o.idempotencyKey)
      if (prior !== undefined) return await this.book.outcomeOf(prior)
    }
    const checked = this.book.checkInvoice(invoice, nowSec())
    if (!checked.ok) { this.emit('payment_failed', { paymentHash: checked.paymentHash, reason: checked.reason, detail: checked.detail }); return checked }
    const { inv, amountMsat } = checked
    const prior = await this.book.payment(inv.paymentHash)
    if (prior !== undefined) return await this.book.outcomeOf(prior)
    const ch = await this.payingChannelSoon()
    if (ch === undefined) return this.failEarly(inv.paymentHash, 'no_channel', 'no channel with the hub is ready')
    // A channel is up, so the hub has sent its policy on this connection.
    const offered = amountToOffer(amountMsat, await this.hubPolicy())
    if (ch.driver.state.localCommit!.spec.toLocalMsat < offered) return this.failEarly(inv.paymentHash, 'insufficient_balance', `channel balance below ${offered} msat`)
    // Durable with the channel's next persist batch, before the commitment signing its HTLC leaves
    // (PaymentBook: begin). A payment begun meanwhile for this invoice or key is that payment.
    const begun = this.book.begin({
      paymentHash: inv.paymentHash, invoice, payee: inv.payee, amountMsat, offeredMsat: offered, status: 'pending',
      ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey } : {}), ...(o.reference !== undefined ? { reference: o.reference } : {}),
    }, ch.driver.channelId)
    if (begun !== undefined) return await this.book.outcomeOf(begun)
    const outcome = this.book.wait(inv.paymentHash)
    await this.offer(ch, inv.paymentHash)
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<PayResult>(resolve => { timer = setTimeout(() => resolve({ ok: false, paymentHash: inv.paymentHash, reason: 'timeout', detail: `no outcome within ${this.opts.payTimeoutMs} ms (still in flight)` }), this.opts.payTimeoutMs) })
    try { return await Promise.race([outcome, timeout]) } finally { clearTimeout(timer) }
  }

  private failEarly (paymentHash: string, reason: 'no_channel' | 'insufficient_balance', detail: string): PayResult {
    this.emit('payment_failed', { paymentHash, reason, detail })
    return { ok: false, paymentHash, reason, detail }
  }

  /** A channel to pay from; if our channels are only disconnected (the link is coming back), waits
   *  for one to reestablish, at most payTimeoutMs. */
  private async payingChannelSoon (): Promise<ClientChannel | undefined> {
    const deadline = Date.now() + this.opts.payTimeoutMs
    for (;;) {
      const ch = this.payingChannel()
      if (ch !== undefined) return ch
      const waiting = this.channelSet.channels().some(c => c.driver.state.phase === 'normal' && c.driver.stoppedBy === undefined)
      if (!waiting || this.stopped || Date.now() > deadline) return undefined
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { off(); resolve() }, 100)
        const off = this.on('channel_state', () => { clearTimeout(timer); off(); resolve() })
      })
    }
  }

  private payingChannel (): ClientChannel | undefined {
    return this.channelSet.channels()
      .filter(c => c.driver.state.phase === 'normal' && c.driver.state.link === 'up' && c.driver.stoppedBy === undefined)
      .sort((a, b) => b.driver.state.localCommit!.spec.toLocalMsat - a.driver.state.localCommit!.spec.toLocalMsat)[0]
  }

  /** Offers the HTLC of a pending payment on `ch`. */
  private async offer (ch: ClientChannel, paymentHash: string): Promise<void> {
    const rec = await this.book.payment(paymentHash)
    if (rec === undefined || rec.status !== 'pending') return
    const cltvExpiry = this.channelSet.tipHeight + this.opts.finalCltvDelta + (await this.hubPolicy()).cltvExpiryDelta
    const metadata = { invoice: rec.invoice.length <= 2_048 ? rec.invoice : undefined, ...(rec.reference !== undefined ? { reference: rec.reference } : {}) }
    if (metadata.invoice === undefined) delete metadata.invoice
    this.addRefused.delete(ch)
    await ch.driver.command({ type: 'add_htlc', amountMsat: rec.offeredMsat as Msat, paymentHash, cltvExpiry, recipient: rec.payee as NodeId, metadata })
    const refused = this.addRefused.get(ch)
    if (refused !== undefined) {
      this.addRefused.delete(ch)
      await this.settleFailed(paymentHash, refused.startsWith('insufficient_funds') || refused.startsWith('reserve') ? 'insufficient_balance' : 'temporary_channel_failure', refused)
    }
  }

  /** After a restart: pending payments whose HTLC is in no channel (never committed, or already
   *  resolved while we were down) are looked after: resolved from a stored preimage, or offered again. */
  private async recoverPayments (): Promise<void> {
    for (const rec of await this.book.pending()) {
      const inFlight = this.channelSet.channels().some(c => offersHash(c, rec.paymentHash))
      if (inFlight) continue
      const preimage = await this.channelSet.storedPreimage(rec.paymentHash)
      if (preimage !== undefined) { await this.settleSent(rec.paymentHash, preimage); continue }
      const ch = this.payingChannel()
      if (ch !== undefined) await this.offer(ch, rec.paymentHash)
    }
  }

  /** After a restart: incoming HTLCs irrevocably committed (in both commitments) that nobody has
   *  fulfilled or failed yet are decided again (idempotent: an invoice remembers the HTLC that paid it). */
  private recoverIncoming (): void {
    for (const ch of this.channelSet.channels()) {
      const s = ch.driver.state
      if (s.localCommit === undefined || s.remoteCommit === undefined || isFinal(s.phase)) continue
      const inRemote = new Set(s.remoteCommit.spec.htlcs.filter(h => h.offerer === 'remote').map(h => h.id))
      const removing = new Set([...s.localChanges.proposed, ...s.localChanges.signed, ...s.localChanges.acked, ...s.holding]
        .flatMap(u => (u.kind === 'fulfill' || u.kind === 'fail' ? [u.id] : [])))
      for (const h of s.localCommit.spec.htlcs) {
        if (h.offerer === 'remote' && inRemote.has(h.id) && !removing.has(h.id)) this.track(this.receiveHtlc(ch, h))
      }
    }
  }

  /** Settles a payment (once; the book reports payment_sent/payment_failed). A preimage learned by
   *  a channel usually settled it already, in the batch that stored the preimage. */
  private async settleSent (paymentHash: string, preimage: string): Promise<void> {
    await this.book.settle(paymentHash, { preimage })
  }

  private async settleFailed (paymentHash: string, reason: string, detail: string): Promise<void> {
    await this.book.settle(paymentHash, { reason, detail })
  }

  /** The channel machine's events. Runs synchronously inside the driver's emit: anything that needs
   *  the store or the driver again is queued, never awaited here. */
  private onChannelEvent (ch: ClientChannel, ev: ChannelEvent): void {
    switch (ev.type) {
      case 'htlc_received': this.track(this.receiveHtlc(ch, ev.htlc)); break
      case 'htlc_fulfilled': this.track(this.settleSent(ev.paymentHash, ev.preimage)); break
      case 'htlc_failed': this.track(this.settleFailed(ev.paymentHash, ev.reason, 'failed by the hub')); break
      case 'add_rolled_back': this.toRetry.set(ev.htlc.paymentHash, ch); break
      case 'reestablished': this.track(this.retryRolledBack(ch)); break
      case 'command_failed':
        // Emitted while our add_htlc command runs (inputs of a channel are serialized): offer() reads it.
        if (ev.command === 'add_htlc') this.addRefused.set(ch, `${ev.error.reason}: ${ev.error.detail}`)
        break
      case 'channel_failed':
        this.track(this.failInFlight(ch))
        break
      default: break
    }
    this.emit('channel_state', this.info(ch))
  }

  private async receiveHtlc (ch: ClientChannel, htlc: Parameters<PaymentBook['decideIncoming']>[1]): Promise<void> {
    const d = await this.book.decideIncoming(ch.driver.channelId, htlc, nowSec())
    if (d.action === 'fail') { await ch.driver.command({ type: 'fail_htlc', id: htlc.id, reason: d.reason, detail: d.detail }); return }
    await ch.driver.command({ type: 'fulfill_htlc', id: htlc.id, preimage: d.preimage })
    // The "paid by" mark rode on the fulfil's persist batch; written here if that batch did not happen.
    await this.book.invoiceDurable(htlc.paymentHash)
    if (d.firstTime) this.emit('payment_received', { paymentHash: htlc.paymentHash, amountMsat: htlc.amountMsat, memo: d.record.memo, channelId: ch.driver.channelId })
  }

  private async retryRolledBack (ch: ClientChannel): Promise<void> {
    for (const [hash, c] of [...this.toRetry]) {
      if (c !== ch) continue
      this.toRetry.delete(hash)
      await this.offer(ch, hash)
    }
  }

  private async failInFlight (ch: ClientChannel): Promise<void> {
    for (const rec of await this.book.pending()) if (offersHash(ch, rec.paymentHash)) await this.settleFailed(rec.paymentHash, 'channel_failed', 'the channel failed with the payment in flight')
  }

  channels (): ChannelInfo[] { return this.channelSet.channels().map(c => this.info(c)) }

  private info (ch: ClientChannel): ChannelInfo {
    const s = ch.driver.state
    const spec = s.localCommit?.spec
    const inFlight = spec?.htlcs.reduce((t, h) => t + h.amountMsat, 0) ?? 0
    return {
      channelId: s.channelId, phase: s.phase, link: s.link, capacitySat: s.setup.capacitySat, funder: s.setup.isFunder,
      fundingTxid: s.setup.funding?.txid ?? null,
      localMsat: (spec?.toLocalMsat ?? 0) as Msat, remoteMsat: (spec?.toRemoteMsat ?? 0) as Msat, inFlightMsat: inFlight as Msat,
      settled: isSettled(s),
    }
  }

  balances (): Balances {
    const channels = this.channels()
    const b = this.wallet.balance()
    return {
      channels,
      channelMsat: channels.filter(c => c.phase !== 'closed').reduce((t, c) => t + c.localMsat, 0) as Msat,
      onchain: { spendableSat: b.spendable, totalSat: b.total },
    }
  }

  /** Closes every open channel cooperatively; resolves with each closing transaction once both sides
   *  agreed and it was broadcast (mine a block to confirm it). */
  async close (): Promise<CloseResult[]> {
    const open = this.channelSet.channels().filter(c => c.driver.state.phase === 'normal' || c.driver.state.phase === 'shutting_down')
    const results = await Promise.all(open.map(async ch => {
      const done = new Promise<void>(resolve => {
        // 'closing' is the agreement: its closing_agreed event (which builds closingTx) is emitted
        // only once that state is durable, and the driver's state shows the phase before then (its
        // writes are pipelined): wait for the transaction, unless the channel ended otherwise.
        const ended = (): boolean => ch.driver.stoppedBy !== undefined || (isFinal(ch.driver.state.phase) && ch.driver.state.phase !== 'closing')
        const check = (): void => { if (ch.closingTx !== undefined || ended()) { off(); resolve() } }
        const off = this.on('channel_state', check)
        check()
      })
      if (ch.driver.state.closing.localScript === undefined) await this.channelSet.shutdown(ch)
      await done
      await ch.closingBroadcast
      return ch
    }))
    return results.filter(ch => ch.closingTx !== undefined).map(ch => ({
      channelId: ch.driver.channelId, closingTxid: ch.closingTx!.txid, localSat: ch.closingTx!.localSat, remoteSat: ch.closingTx!.remoteSat, feeSat: ch.closingTx!.feeSat,
    }))
  }

  /** The closing transaction of a channel, once agreed. */
  closingOf (channelId: string): CloseResult | undefined {
    const ch = this.channelSet.get(channelId)
    if (ch?.closingTx === undefined) return undefined
    return { channelId: ch.driver.channelId, closingTxid: ch.closingTx.txid, localSat: ch.closingTx.localSat, remoteSat: ch.closingTx.remoteSat, feeSat: ch.closingTx.feeSat }
  }

  /**
   * Closes a channel (or every funded channel) alone. Returns the channels whose latest commitment is
   * going on-chain; forceCloseChannel() says why a channel is not.
   */
  async forceClose (channelId?: string): Promise<ChannelId[]> {
    const ids = channelId !== undefined ? [channelId] : this.channelSet.channels().filter(c => c.driver.state.localCommit !== undefined).map(c => c.driver.channelId)
    const closed: ChannelId[] = []
    for (const id of ids) {
      const r = await this.forceCloseChannel(id)
      if (r.ok && r.broadcast) closed.push(r.channelId)
    }
    return closed
  }

  /**
   * Closes one channel alone. The channel fails first: it sends nothing more (no update, signature
   * or revocation, not even one already waiting for a write), so it never revokes the commitment that
   * goes on-chain. Once that is stored, our chain monitor broadcasts our latest durable commitment
   * (resolves after that) and later sweeps our outputs to our wallet. Refused, with a typed reason,
   * when our commitment must not go on-chain (we lost state) or the channel is closing already.
   */
  async forceCloseChannel (channelId: string): Promise<ForceCloseResult> {
    if (typeof channelId !== 'string' || !/^[0-9a-f]{64}$/.test(channelId)) throw new TypeError('forceCloseChannel.channelId: must be 32 bytes of lowercase hex')
    const id = channelId as ChannelId
    const ch = this.channelSet.get(channelId)
    if (ch === undefined) return { ok: false, channelId: id, reason: 'unknown_channel', detail: `no channel ${channelId}` }
    let outcome: ForceCloseOutcome | undefined
    const r = await ch.driver.command({ type: 'force_close', reason: 'requested by the application' }, before => { outcome = forceCloseOutcome(before) })
    if (r === 'stopped' || outcome === undefined) return { ok: false, channelId: id, reason: 'stopped', detail: 'the channel stopped on a failed write' }
    switch (outcome.kind) {
      case 'refused': return { ok: false, channelId: id, reason: outcome.error.reason === 'we_are_behind' ? 'we_are_behind' : 'closing', detail: outcome.error.detail }
      case 'unfunded': return { ok: true, channelId: id, broadcast: false }
      case 'failing': case 'already_failed':
        // The force_close update reached the feed when its write became durable: once the feed is
        // idle our monitor has acted on it.
        await this.monitoring?.idle()
        return { ok: true, channelId: id, broadcast: true }
    }
  }

  /** Disconnects and closes the store, wallet and (if the client created it) chain connection. The
   *  channels stay open: a new client on the same data directory carries on. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.link.stop()
    this.channelSet.stop()
    await this.quiet()
    await Promise.all(this.channelSet.channels().map(c => c.driver.idle()))
    await this.book.flush()
    await this.monitoring?.stop()
    this.wallet.close()
    await this.store.close()
    if (this.ownsChain) await this.chain.close()
  }
}

function isSettled (s: ChannelState): boolean {
  const lists = [s.localChanges.proposed, s.localChanges.signed, s.localChanges.acked, s.remoteChanges.proposed, s.remoteChanges.acked, s.remoteChanges.signed, s.holding]
  return s.localCommit !== undefined && s.remoteCommit !== undefined && s.nextRemoteCommit === undefined &&
    s.localCommit.spec.htlcs.length === 0 && s.remoteCommit.spec.htlcs.length === 0 && lists.every(l => l.length === 0)
}

/** Whether `ch` holds an HTLC we offered for `paymentHash` (in any commitment or pending update). */
function offersHash (ch: ClientChannel, paymentHash: string): boolean {
  const s = ch.driver.state
  const specs = [s.localCommit?.spec, s.remoteCommit?.spec, s.nextRemoteCommit?.commit.spec]
  if (specs.some(sp => sp?.htlcs.some(h => h.offerer === 'local' && h.paymentHash === paymentHash))) return true
  const updates = [...s.localChanges.proposed, ...s.localChanges.signed, ...s.localChanges.acked]
  return updates.some(u => u.kind === 'add' && u.htlc.paymentHash === paymentHash)
}
