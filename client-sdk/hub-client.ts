// HubClient: what a platform, creator or co-op treasury embeds to use the hub. It runs over parts it
// is given (a store, a chain backend, a wallet and a socket factory: options.ts clientHostSchema), so
// it runs in a browser as well as in Node (client-sdk/node.ts builds the parts from a data directory).
// It owns a HubLink (the authenticated, reconnecting WebSocket), a ChannelSet (drivers, wallet funding,
// chain watch), a PaymentBook (invoices and payments) and the chain monitors of its channels, and
// turns channel events into the SDK's typed events.
import { nodeIdOf } from '../protocol/auth/signature.ts'
import { addOutcome, type AddOutcome } from '../protocol/channel/add-outcome.ts'
import { amountToOffer, type FeePolicy } from '../protocol/forwarding.ts'
import { decodeInvoice } from '../protocol/invoice/index.ts'
import { isFinal } from '../protocol/channel/phase.ts'
import {
  closingTrims, committedIncoming, isSettled, offeredHtlcs, offersPayment, quiescence, spendableMsat, type ChannelEvent, type Phase,
} from '../protocol/channel/index.ts'
import { DEFAULT_FINALITY_DEPTH, MAX_FORWARDED_INVOICE_CHARS, MAX_QUOTED_CHARS } from '../protocol/limits.ts'
import { bytesToHex, type ChannelId, type Msat, type NodeId, type Sat, type Txid } from '../protocol/types.ts'
import type { HtlcMetadata, HubPolicy as HubPolicyMessage, PaymentHeld } from '../protocol/wire/index.ts'
import type { ChainBackend } from '../host/chain/backend.ts'
import type { Wallet, WalletError } from '../host/wallet/wallet.ts'
import { keys as storeKeys, type Store } from '../host/store/index.ts'
import { ChannelMonitors, type MonitorEvent } from '../host/monitor/index.ts'
import { HubLink, LinkGaveUp } from './transport/index.ts'
import { Emitter } from './transport/events.ts'
import { ChannelSet, type ClientChannel } from './channels.ts'
import { PaymentBook, type PayResult } from './payments.ts'
import { payPush } from './push-pay.ts'
import { SplitPayer, type SplitResult } from './split-pay.ts'
import { SplitReceiver } from './split-receive.ts'
import { PaymentStream } from './stream.ts'
import { StreamReceiver, type ReceivedTick } from './stream-receive.ts'
import type { IncomingTick } from './stream-records.ts'
import { exportAccounting, type AccountingPage } from './accounting.ts'
import { recordMoves, recordOnchainMoves } from './chain-moves.ts'
import { htlcMoves, sweepMoves } from '../protocol/accounting/onchain.ts'
import { monitorKeys } from '../protocol/monitor/index.ts'
import { exportAccountingArgs } from './stream-options.ts'
import { Payouts } from './payouts.ts'
import { isValidNodeId } from '../protocol/auth/signature.ts'
import { parseTickReference } from '../protocol/stream/tick.ts'
import type { PaymentRecord } from './records.ts'
import { EventOutbox, type EventData, type EventType } from './event-outbox.ts'
import { listInvoices, listPayments, type InvoiceInfo, type Page, type PaymentInfo } from './listing.ts'
import { ClientError, type ClientFailureCause, type ClientFailureReason, type ClientOperation } from './errors.ts'
import { claimStore } from './identity.ts'
import { HubKeys } from './hub-keys.ts'
import type { NodeKeyRotationMessage } from '../protocol/wire/index.ts'
import type { Receipt } from '../protocol/receipt/index.ts'
import {
  ReceiptBook, verifyReceipt, type RefusedProof, type ReceiptProofStatus, type ReceiptVerification, type StoredReceipt,
} from './receipts.ts'
import {
  clientHostSchema, clientOptionsSchema, closeArgs, connectArgs, createInvoiceArgs, listInvoicesArgs, listPaymentsArgs, openChannelArgs,
  parseArgs, payArgs, payoutPolicyArgs, receiptProofArgs, verifyReceiptArgs,
  requestChannelArgs, spliceInArgs, spliceOutArgs, spliceRbfArgs, untilReestablishedArgs, untilSpliceLockedArgs, type ClientHost,
  type ClientOptions, type ClientOptionsInput, type Role,
} from './options.ts'
import { closingAwaits, openingProgress, openingStalled, seconds, StopSignal, unlessStalled, withinTime } from './waits.ts'
import { channelOfSplice, runRbf, runSplice, untilLocked, type SpliceEvents, type SpliceLockedInfo, type SpliceResult } from './splices.ts'
import type { SpliceProgress } from '../host/channel/index.ts'
import { addressScript } from '../host/wallet/address.ts'

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
  /** The channel reserve the hub asks of us (its channel_reserve_satoshis, BOLT #2): what we must keep
   *  in the channel, so we have something to lose should we ever broadcast a revoked commitment. We
   *  pay out down to it; a close pays it out too. Null before the hub's open_channel/accept_channel. */
  reserveSat: Sat | null
  /** What we can pay out now: our balance less the reserve, the HTLCs we are adding and, for the
   *  channel we fund, a margin for its commitment fee (never below 0). */
  spendableMsat: Msat
  /** A splice is being negotiated or signed (the channel is quiescent, or resumes one after a restart). */
  splicing: boolean
  /** Splice transactions signed by both sides and not locked yet (the last one replaces the others). */
  pendingSplices: Txid[]
}

export interface Balances {
  channels: ChannelInfo[]
  /** Sum of localMsat over channels that are not closed. */
  channelMsat: Msat
  onchain: { spendableSat: Sat; totalSat: Sat }
}

/** A closing transaction, as it pays: an output below the dust limit is not in it (its amount 0) and
 *  its balance went to the miners with the fee. `local` is ours, `remote` the hub's. */
export interface CloseResult {
  channelId: ChannelId
  closingTxid: Txid
  localSat: Sat
  remoteSat: Sat
  /** What the transaction pays the miners: the capacity minus its outputs (the agreed fee, the msat
   *  both outputs round away, and any balance trimmed as dust). */
  feeSat: Sat
  /** fee_satoshis both sides agreed on. */
  agreedFeeSat: Sat
  trimmedLocalSat: Sat
  trimmedRemoteSat: Sat
}

/** An output a cooperative close would leave out: its owner would be paid nothing for `amountSat`. */
export interface DustTrim { channelId: ChannelId; side: 'ours' | 'hub'; amountSat: Sat; dustLimitSat: Sat }

/**
 * close()'s outcome. `dust_trim`: nothing was sent; a channel's closing transaction would leave out an
 * output below the dust limit (BOLT #3), so its owner would lose that balance. Close with
 * `{ allowDustTrim: true }` to accept it, or move the balance first (pay or receive a payment).
 */
export type CloseOutcome =
  | { ok: true; closed: CloseResult[] }
  | { ok: false; reason: 'dust_trim'; detail: string; trims: DustTrim[] }

/** An event delivered at least once (event-outbox.ts): `id` is stable across re-deliveries. */
export type DurableEvent<K extends EventType> = { id: string } & EventData<K>

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

export type HubClientEvents = SpliceEvents & {
  // Delivered at least once, across crashes, until every listener returned (or the promise it
  // returned resolved); de-duplicate by `id`. Register listeners before connect(): undelivered events
  // of an earlier run are delivered when it starts.
  /** An invoice of ours was paid (the HTLC is irrevocably committed and we fulfil it). */
  payment_received: [e: DurableEvent<'payment_received'>]
  /** A payment of ours succeeded. */
  payment_sent: [e: DurableEvent<'payment_sent'>]
  /** A payment of ours failed for good (not for a pay() that was refused before it began). */
  payment_failed: [e: DurableEvent<'payment_failed'>]
  /** A channel is closed on-chain and everything on it is resolved at depth. */
  channel_closed: [e: DurableEvent<'channel_closed'>]
  // Delivered once, as they happen.
  channel_state: [e: ChannelInfo]
  /** Something the application may want to log (a refused message, a failed broadcast). */
  warning: [detail: string]
  /** The hub sent a connection-level `error` (e.g. it refused request_channel). */
  hub_refused: [detail: string]
  /** A chain monitor's decision about a channel (force closing, an HTLC resolved on-chain, closed). */
  onchain: [e: { channelId: ChannelId; event: MonitorEvent }]
  /** A stream tick was paid to us (its record, items and our signature are durable): DESIGN.md "Streams". */
  stream_tick: [e: ReceivedTick]
  /** The hub's node key changed and we took it (durably): a rotation, or its rollback. We reconnect under
   *  the new key; `oldId` stays trusted until the chain reaches `graceUntilHeight` after a rotation. */
  hub_key: [e: { kind: 'rotate' | 'rollback'; seq: number; oldId: NodeId; newId: NodeId; graceUntilHeight: number }]
}

/** The hub's fee and CLTV policy the payer pays for (BOLT #7 fee_base_msat/fee_proportional_millionths),
 *  from the hub's hub_policy message. */
export interface HubPolicy extends FeePolicy { cltvExpiryDelta: number; fundingSat: number; minimumDepth: number }

/** Fee rate of the monitor's claim transactions (btcd has no fee estimation); bumped by RBF. */
const MONITOR_FEERATE_PER_KW = 1000

const nowSec = (): number => Math.floor(Date.now() / 1000)

export class HubClient extends Emitter<HubClientEvents> {
  readonly nodeId: NodeId
  readonly role: Role
  private readonly link: HubLink
  private readonly channelSet: ChannelSet
  private readonly book: PaymentBook
  /** Streams we pay, by payee; and the payee's side of streams paid to us. */
  private readonly streams = new Map<string, PaymentStream>()
  private readonly streamReceiver: StreamReceiver
  /** Payments whose add was rolled back by a disconnect: offered again after reestablish. */
  private readonly toRetry = new Map<string, ClientChannel>()
  /** Payments being offered now (one offer at a time per payment). */
  private readonly offering = new Set<string>()
  /** Payments refused for a cap that HTLCs in flight hold (HELD_BY_IN_FLIGHT), waiting for one of
   *  them to settle to be offered again. */
  private readonly awaitingRoom = new Set<string>()
  private readonly inflight = new Set<Promise<unknown>>()
  private stopped = false
  /** Ends the calls still waiting when stop() runs (client_stopped). */
  private readonly stopSignal = new StopSignal()
  private policy: HubPolicy | undefined
  /** Set when the hub's policy names another chain than ours: connect() and every wait for the policy fail with it. */
  private policyRefused: ClientError | undefined
  private readonly policyWaiters: Array<{ resolve: (p: HubPolicy) => void; reject: (e: ClientError) => void }> = []
  /** The chain monitors of our channels (host/monitor/channel-monitors.ts), from create() on. */
  private monitoring: ChannelMonitors | undefined
  /** Events for the application, stored with the change that causes them until delivered. */
  private readonly events: EventOutbox
  /** Splits we pay (paySplit) and split legs paid to us (DESIGN.md "Splits"). */
  private readonly splits: SplitPayer
  private readonly splitLegs: SplitReceiver

  private readonly store: Store
  private readonly chain: ChainBackend
  readonly wallet: Wallet
  /** The hub's signed receipts of our payments, and their proofs (receipts.ts). */
  private readonly receipts: ReceiptBook
  /** Our payout policy and the hub's payout proposals (payouts.ts). */
  private readonly payouts: Payouts
  /** The hub keys we trust (hub-keys.ts), from create() on. */
  private hubKeys: HubKeys | undefined

  private constructor (private readonly opts: ClientOptions, private readonly host: ClientHost) {
    super(e => { this.emit('warning', `event listener threw: ${String(e)}`) })
    this.nodeId = nodeIdOf(opts.nodeKey)
    this.role = opts.role
    const { store, chain, wallet } = host
    this.store = store
    this.chain = chain
    this.wallet = wallet
    this.events = new EventOutbox(
      store, ev => this.deliver(ev.type, { id: ev.id, ...ev.data } as never), w => this.emit('warning', w), opts.eventRetryMs,
    )
    this.book = new PaymentBook(store, opts.nodeKey, this.nodeId, rec => { this.splits.legSettled(rec) }, this.events)
    this.streamReceiver = new StreamReceiver(
      store, opts.nodeKey, this.nodeId, msg => { this.link.send(msg) }, t => this.emit('stream_tick', t),
      detail => { this.emit('warning', detail) },
    )
    this.book.streams = this.streamReceiver
    this.link = new HubLink(opts.hubUrl, opts.nodeKey, {
      expectedHubId: opts.hubId, backoff: { initialMs: opts.reconnectInitialMs, maxMs: opts.reconnectMaxMs },
      socketFactory: host.socket,
      hubIds: () => {
        const trusted = this.hubKeys?.trusted(this.channelSet.tipHeight) ?? [opts.hubId]
        return { expected: trusted[0] ?? opts.hubId, accepted: trusted.slice(1) }
      },
    })
    this.payouts = new Payouts({ store, nodeId: this.nodeId, send: msg => this.link.send(msg), warn: w => this.emit('warning', w) })
    this.receipts = new ReceiptBook({
      store, nodeId: this.nodeId, hubId: () => this.link.hubId ?? opts.hubId, send: msg => this.link.send(msg),
      isHubKey: id => this.hubKeys?.known(id) === true,
      warn: w => this.emit('warning', w),
      disagrees: r => this.receiptDisagrees(r),
    })
    this.channelSet = new ChannelSet(store, wallet, chain, opts, {
      send: msg => this.link.send(msg),
      disconnect: () => this.link.connection?.close(4005, 'channel asked to disconnect'),
      hubId: () => this.link.hubId,
      event: (ch, ev) => this.onChannelEvent(ch, ev),
      warn: w => this.emit('warning', w),
      persisted: (id, updates) => { this.monitoring?.persisted(id, updates) },
      carry: (id, monitor) => this.book.carry(id, monitor),
      // A payout batch's session answers with the hub's proposal checked against our policy (payouts.ts).
      respondSplice: (ch, req) => this.payouts.respond(ch, req) ?? (opts.acceptHubSplices ? { accept: true } : {
        accept: false, reason: 'this client takes no splices from the hub',
      }),
      spliceProgress: (ch, p) => { this.onSpliceProgress(ch, p) },
      // An idle close the hub starts pays our balance to our policy's payout script (payouts.ts).
      closeScript: () => this.payouts.closeScript(),
    })
    this.splits = new SplitPayer({
      nodeId: this.nodeId, nodeKey: opts.nodeKey, store, book: this.book, payTimeoutMs: opts.payTimeoutMs,
      payingChannelSoon: d => this.payingChannelSoon(d), hubPolicy: () => this.hubPolicy(), offer: (ch, hash) => this.offer(ch, hash),
      inFlight: hash => this.channelSet.channels().some(c => offersPayment(c.driver.state, hash, 'anywhere')),
      send: msg => this.link.send(msg), warn: w => this.emit('warning', w),
    })
    this.splitLegs = new SplitReceiver({
      store, nodeKey: opts.nodeKey, nodeId: this.nodeId, book: this.book, acceptSplits: opts.acceptSplits,
      send: msg => this.link.send(msg), channel: id => this.channelSet.get(id), warn: w => this.emit('warning', w),
    })
    this.link.on('message', msg => {
      if (msg.type === 'hub_policy') { this.onPolicy(msg); return }
      if (msg.type === 'node_key_rotation') { this.track(this.onKeyRotation(msg)); return }
      if (msg.type === 'payment_held') { this.onHeld(msg); return }
      if (msg.type === 'payment_receipt') { this.track(this.receipts.onReceipt(msg)); return }
      if (msg.type === 'receipt_proof') { this.track(this.receipts.onProof(msg)); return }
      if (msg.type === 'split_leg_locked') { this.splits.legLocked(msg); return }
      if (msg.type === 'split_release') { this.track(this.splitLegs.release(msg)); return }
      if (msg.type === 'split_abort') { this.track(this.splitLegs.abort(msg)); return }
      if (msg.type === 'stream_items') { this.track(this.streamReceiver.onItems(msg)); return }
      if (msg.type === 'stream_receipt') { this.streams.get(msg.peer)?.onReceipt(msg); return }
      if (msg.type === 'payout_proposal') { this.payouts.onProposal(msg); return }
      if (msg.type === 'payout_policy_set') { this.payouts.onPolicySet(msg); return }
      if (msg.type === 'error' && /^0{64}$/.test(msg.channel_id)) {
        this.emit('hub_refused', msg.data); this.emit('warning', `hub error: ${msg.data}`); return
      }
      this.track(this.channelSet.receive(msg))
    })
    this.link.on('connected', () => this.track(this.channelSet.connected()))
    this.link.on('disconnected', () => this.track(this.channelSet.disconnected()))
    this.link.on('bad_frame', e => this.emit('warning', `bad frame from hub: ${e.detail}`))
  }

  /**
   * A client over `host` (its store, chain backend, wallet and socket factory): loads its channels and
   * starts their chain monitors. Throws a TypeError naming the field for a bad option or host part,
   * and a ClientError (errors.ts: chain_unavailable, monitor_unavailable) when it cannot start; then
   * it has stopped what it started and called `host.release`. In Node, client-sdk/node.ts builds the
   * parts from a data directory (createNodeClient).
   */
  static async create (input: ClientOptionsInput, hostInput: ClientHost): Promise<HubClient> {
    const opts = parseArgs(clientOptionsSchema, input, 'options')
    const host = parseArgs(clientHostSchema, hostInput, 'host')
    const client = new HubClient(opts, host)
    try {
      await claimStore(host.store, client.nodeId)
      client.hubKeys = await HubKeys.load(host.store, opts.hubId)
      await client.events.load()
      await client.payouts.load()
      await client.splits.load()
      await client.splitLegs.load()
      await client.channelSet.start()
      // Splices and closes stored by the channels whose accounting row a crash kept us from writing (a
      // row that cannot be written is named; the client starts all the same).
      for (const ch of client.channelSet.channels()) {
        await recordMoves(host.store, ch.driver.state, Date.now()).catch((e: unknown) => {
          client.emit('warning', `accounting: the splice or close of channel ${ch.driver.channelId} is not recorded: ${String(e)}`)
        })
      }
      client.monitoring = await client.startMonitors()
      // What the chain did with failed channels (HTLCs resolved, claims) whose rows a stop kept from being written.
      for (const ch of client.channelSet.channels()) {
        if (['failed', 'closed'].includes(ch.driver.state.phase)) await client.recordOnchain(ch.driver.channelId)
      }
    } catch (e) {
      // Whatever started is stopped and the parts are released; the failure is what the caller needs.
      await client.stop().catch(() => {})
      throw e
    }
    return client
  }

  /** Chain monitors for every channel: we enforce our latest state (and punish a revoked one) alone. */
  private async startMonitors (): Promise<ChannelMonitors> {
    const started = await ChannelMonitors.start({
      store: this.store,
      chain: this.chain,
      channel: id => {
        const ch = this.channelSet.get(id)
        return ch === undefined ? undefined : { state: ch.driver.state, driver: ch.driver }
      },
      keysOf: id => this.channelSet.get(id)?.keys,
      loaded: this.channelSet.channels().filter(c => c.writer.stored).map(c => ({ state: c.driver.state })),
      sweepScript: bytesToHex(this.wallet.newAddress().script),
      depth: DEFAULT_FINALITY_DEPTH,
      feeratePerKw: MONITOR_FEERATE_PER_KW,
      // Awaited by the monitor before it stores the decision as reported (at least once): the payment
      // outcome a decision brings is durable, with its event, before the monitor moves on.
      onEvent: async (id, event) => { await this.onMonitorEvent(id as ChannelId, event) },
      onBroadcastError: (id, txid, reason, detail) => {
        this.emit('warning', `monitor of channel ${id}: broadcast of ${txid} refused (${reason}): ${detail.slice(0, MAX_QUOTED_CHARS)}`)
      },
      onChainWiped: e => { this.emit('warning', `monitor: the chain was wiped: ${e.detail}`) },
      onFeedError: e => { this.emit('warning', `monitor: feeding updates failed: ${String(e)}`) },
      onStale: (id, stateSeq, monitorSeq) => {
        this.channelSet.block(id)
        this.emit('warning', `channel ${id}: its stored state (update ${stateSeq}) is older than its monitor's (update ${monitorSeq}): `
          + 'it will not run; the monitor closes it')
      },
    })
    if (!started.ok) {
      const e = started.error
      const reason = e.kind === 'bad_state' ? 'monitor_unavailable' : 'chain_unavailable'
      throw new ClientError('create', reason, `chain monitors: ${e.detail}`, e)
    }
    return started.value
  }

  private async onMonitorEvent (id: ChannelId, event: MonitorEvent): Promise<void> {
    this.emit('onchain', { channelId: id, event })
    // A payment we offered that was resolved on-chain: its outcome is final (the monitor reports a
    // timeout only once it is `depth` deep).
    if (event.kind === 'htlc_resolved' && event.htlc.offerer === 'local') {
      if (event.outcome === 'fulfilled' && event.preimage !== undefined) await this.settleSent(event.htlc.paymentHash, event.preimage)
      else if (event.outcome === 'failed') {
        await this.settleFailed(event.htlc.paymentHash, 'timed_out_onchain', `HTLC ${event.htlc.id} timed out on-chain`)
      }
    }
    if (event.kind === 'preimage_learned') await this.settleSent(event.paymentHash, event.preimage)
    if (event.kind === 'closed') await this.events.record('channel_closed', id, { channelId: id, how: event.how }, nowSec())
    // Their accounting rows read the monitor's state, which the monitor hands out after this step.
    if (event.kind === 'htlc_resolved' || event.kind === 'closed') this.track(this.recordOnchain(id))
  }

  /** The accounting rows of what the chain did with a force-closed channel (chain-moves.ts
   *  recordOnchainMoves): the HTLCs it gave us, and our claims once every output is resolved. */
  private async recordOnchain (id: string): Promise<void> {
    const monitors = this.monitoring
    const ch = this.channelSet.get(id)
    if (monitors === undefined || ch === undefined) return
    // Only after a force close (its close_force record: the channel failed with our commitment).
    if (await this.store.get(storeKeys.chainMove(id, id)) === undefined) return
    const state = await monitors.host.inspect(id)
    if (state === undefined) return
    const moves = [...htlcMoves(state, monitorKeys(ch.keys), 'local'), ...sweepMoves(state, 'local')]
    await recordOnchainMoves(this.store, id, moves, Date.now()).catch((e: unknown) => {
      this.emit('warning', `accounting: the on-chain outcome of channel ${id} is not recorded: ${String(e)}`)
    })
  }

  /** Runs `work` without blocking the caller. Ordering comes from the channel drivers: each queues its
   *  inputs synchronously at the call, so messages of one channel are stepped in arrival order while
   *  different channels (and their synced writes, merged by group commit) proceed concurrently. */
  private track (work: Promise<unknown>): void {
    this.inflight.add(work)
    work.catch(e => { this.emit('warning', `handling a hub message failed: ${String(e)}`) }).finally(() => this.inflight.delete(work))
  }

  /** Resolves when nothing started by a message or an event is still running. */
  private async idle (): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
  }

  /** Connects to the hub (and keeps reconnecting); channels reestablish on every connection. Starts
   *  delivering events: first those an earlier run recorded and did not deliver (or that were not
   *  acknowledged), and any recorded while the client was created. */
  async connect (args: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = parseArgs(connectArgs, args, 'connect').timeoutMs ?? this.opts.connectTimeoutMs
    const deadline = Date.now() + timeoutMs
    this.events.start()
    try {
      await this.link.start({ timeoutMs })
    } catch (e) {
      if (!(e instanceof LinkGaveUp)) throw e
      const why = e.why
      if ('failure' in why && why.failure === 'hub_id_mismatch') throw new ClientError(
        'connect', 'hub_key_untrusted',
        `${this.opts.hubUrl} proves another hub key than the one we trust (${why.detail}): a wrong hubId or another hub at that URL, `
        + 'or its operator rotated the hub\'s node key and the grace ended while this client was away: get the new hub id from the '
        + 'operator and pass it as options.hubId',
        why,
      )
      if ('final' in why && why.final) throw new ClientError(
        'connect', 'hub_auth_failed', `${this.opts.hubUrl}: ${why.reason}: ${why.detail}`, why,
      )
      throw new ClientError(
        'connect', 'hub_unreachable',
        `no connection to ${this.opts.hubUrl} after ${seconds(timeoutMs)}: ${'detail' in why ? why.detail : why.reason}`,
        'detail' in why ? why : undefined,
      )
    }
    await withinTime(this.hubPolicy(), Math.max(0, deadline - Date.now()),
      () => new ClientError(
        'connect', 'hub_not_responding',
        `connected to ${this.opts.hubUrl}, but the hub's hub_policy did not come within ${seconds(timeoutMs)}`,
      ))
    await this.idle()
    // Splits first: a leg of a split that is no longer locking must not be offered again.
    this.splits.resume()
    await this.recoverPayments()
    this.recoverIncoming()
  }

  /** node_key_rotation: a claim to check (hub-keys.ts). Taken: durable first, then we reconnect under
   *  the new key if this connection is under another. */
  private async onKeyRotation (m: NodeKeyRotationMessage): Promise<void> {
    const keys = this.hubKeys
    if (keys === undefined) return
    const d = await keys.take(m)
    if (d.kind === 'refused') { this.emit('warning', `node_key_rotation refused: ${d.why}: ${d.detail}`); return }
    if (d.kind === 'ignored') return
    this.emit('hub_key', { kind: m.kind, seq: m.seq, oldId: m.old_id, newId: m.new_id, graceUntilHeight: m.grace_until_height })
    if (this.link.hubId !== undefined && this.link.hubId !== keys.current) this.link.reconnect('the hub rotated its node key')
  }

  /** The hub's policy (sent by the hub right after authentication). */
  private hubPolicy (): Promise<HubPolicy> {
    if (this.policy !== undefined) return Promise.resolve(this.policy)
    if (this.policyRefused !== undefined) return Promise.reject(this.policyRefused)
    return new Promise((resolve, reject) => { this.policyWaiters.push({ resolve, reject }) })
  }

  private onPolicy (m: HubPolicyMessage): void {
    if (!this.channelSet.setChainHash(m.chain_hash)) {
      const detail = `the hub's chain (hub_policy.chain_hash ${m.chain_hash}) is not the chain our backend follows: disconnected`
      this.emit('warning', detail)
      this.link.stop()
      this.policyRefused = new ClientError('connect', 'wrong_chain', detail)
      for (const w of this.policyWaiters.splice(0)) w.reject(this.policyRefused)
      return
    }
    this.policy = {
      feeBaseMsat: m.fee_base_msat, feePpm: m.fee_proportional_millionths, cltvExpiryDelta: m.cltv_expiry_delta,
      fundingSat: m.funding_satoshis, minimumDepth: m.minimum_depth,
    }
    for (const w of this.policyWaiters.splice(0)) w.resolve(this.policy)
  }

  /** The hub holds a payment of ours for its offline payee. A claim of the hub's, checked: it must
   *  name an HTLC we offered on that channel, for that payment hash. */
  private onHeld (m: PaymentHeld): void {
    const ch = this.channelSet.get(m.channel_id)
    const ours = ch !== undefined && offeredHtlcs(ch.driver.state, 'anywhere').some(h => h.id === m.id && h.paymentHash === m.payment_hash)
    if (!ours) { this.emit('warning', `payment_held for HTLC ${m.id} of channel ${m.channel_id} names no HTLC of ours: ignored`); return }
    this.book.markHeld(m.payment_hash, m.until_time)
  }

  /** What the hub charges and expects (after connect()). */
  get hubPolicyInfo (): HubPolicy | undefined { return this.policy }

  get connected (): boolean { return this.link.connected }
  /** The hub key this connection proved (undefined while disconnected). After the hub rotates its node key
   *  it is the new one (DESIGN.md "Node-key rotation"). */
  get connectedHubId (): NodeId | undefined { return this.link.connected ? this.link.hubId : undefined }

  /** Resolves once connected and every open channel has reestablished (link 'up'); rejects with a
   *  ClientError (hub_unreachable, hub_not_responding) after `timeoutMs` (default connectTimeoutMs). */
  async untilReestablished (args: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = parseArgs(untilReestablishedArgs, args, 'untilReestablished').timeoutMs ?? this.opts.connectTimeoutMs
    const waiting = (): ClientChannel[] => this.channelSet.channels().filter(
      c => !isFinal(c.driver.state.phase) && c.driver.state.link !== 'up'
    )
    const deadline = Date.now() + timeoutMs
    while (!this.link.connected || waiting().length > 0) {
      if (Date.now() >= deadline) {
        if (!this.link.connected) throw new ClientError(
          'untilReestablished', 'hub_unreachable', `not connected to ${this.opts.hubUrl} after ${seconds(timeoutMs)}`,
        )
        const ids = waiting().map(c => c.driver.channelId).join(', ')
        throw new ClientError(
          'untilReestablished', 'hub_not_responding',
          `waiting for the hub's channel_reestablish of channel ${ids} for ${seconds(timeoutMs)}`,
        )
      }
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { off(); resolve() }, 50)
        const off = this.on('channel_state', () => { clearTimeout(timer); off(); resolve() })
      })
    }
  }

  /** A receipt is the hub's claim: it must say what our own records say of the payment. */
  private async receiptDisagrees (r: Receipt): Promise<string | undefined> {
    if (r.payer === this.nodeId) {
      const p = await this.book.payment(r.payment_hash)
      if (p === undefined) return 'we made no payment with this hash'
      if (p.payee !== r.payee) return `we paid ${p.payee}, it says ${r.payee}`
      if (r.amount_msat + r.fee_msat !== p.offeredMsat) return `we offered ${p.offeredMsat} msat, it says ${r.amount_msat} ` +
        `+ fee ${r.fee_msat}`
      if (r.amount_msat < p.amountMsat) return `the payee was to receive ${p.amountMsat} msat, it says ${r.amount_msat}`
      if ((p.reference ?? null) !== r.reference) return `our reference is ${JSON.stringify(p.reference ?? null)}`
      return undefined
    }
    const inv = await this.book.invoice(r.payment_hash)
    if (inv === undefined) return 'we have no invoice or push payment with this hash'
    if (inv.receivedMsat !== undefined &&
      inv.receivedMsat !== r.amount_msat) return `we received ${inv.receivedMsat} msat, it says ${r.amount_msat}`
    return undefined
  }

  /** The hub's signed receipt of a payment of ours (as payer or payee), with its inclusion proof once
   *  fetched (getReceiptProof); undefined until the hub sent it. */
  async receipt (paymentHash: string): Promise<StoredReceipt | undefined> {
    return await this.receipts.get(parseArgs(receiptProofArgs, { paymentHash }, 'receipt').paymentHash)
  }

  /**
   * Asks the hub for a payment's receipt and, once its audit entry is anchored at depth, the inclusion
   * proof; the proof is checked and stored with the receipt. `anchored`: the stored receipt has its
   * proof; `not_anchored`: not yet (ask again after the next anchor); `unknown`: the hub has no receipt
   * of this payment for us. `refused`: the hub sent a proof that does not prove our receipt (its entry
   * was rewritten or dropped after anchoring): why, naming the entry; the stored receipt keeps any
   * earlier proof. Throws ClientError hub_not_responding when the hub does not answer in time.
   */
  async getReceiptProof (args: { paymentHash: string; timeoutMs?: number }): Promise<{
    status: ReceiptProofStatus; receipt?: StoredReceipt; refused?: RefusedProof
  }> {
    const a = parseArgs(receiptProofArgs, args, 'getReceiptProof')
    const timeoutMs = a.timeoutMs ?? this.opts.connectTimeoutMs
    const req = this.receipts.request(a.paymentHash)
    const status = await withinTime(req.answer, timeoutMs, () => {
      req.cancel()
      return new ClientError('getReceiptProof', 'hub_not_responding', `the hub's receipt_proof did not come within ${seconds(timeoutMs)}`)
    })
    const receipt = await this.receipts.get(a.paymentHash)
    const refused = status === 'anchored' ? this.receipts.refusedProof(a.paymentHash) : undefined
    return {
      status: status === 'anchored' && receipt?.proof == null ? 'not_anchored' : status,
      ...(receipt !== undefined ? { receipt } : {}), ...(refused !== undefined ? { refused } : {}),
    }
  }

  /**
   * Sets our payout policy at the hub (docs/DESIGN.md "Batched settlement"): payouts to `address` once
   * the balance above `keepSat` reaches `thresholdSat`, at most every `intervalBlocks`. Resolves once
   * the hub stored it; from then on every payout the hub proposes is checked against it, and one that
   * does not hold is refused. Throws ClientError hub_refused (outside the hub's bounds: the detail names
   * the field) or hub_not_responding.
   */
  async setPayoutPolicy (args: {
    address: string; thresholdSat: number; intervalBlocks: number; keepSat: number; closeIdleBlocks?: number; timeoutMs?: number
  }): Promise<void> {
    const a = parseArgs(payoutPolicyArgs, args, 'setPayoutPolicy')
    const script = addressScript(a.address)
    if (!script.ok) throw new TypeError(`setPayoutPolicy.address: ${script.error}`)
    const timeoutMs = a.timeoutMs ?? this.opts.connectTimeoutMs
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new ClientError(
        'setPayoutPolicy', 'hub_not_responding', `the hub's payout_policy_set did not come within ${seconds(timeoutMs)}`,
      )), timeoutMs)
    })
    try {
      const r = await this.payouts.set({
        payoutScript: script.value, thresholdSat: a.thresholdSat, intervalBlocks: a.intervalBlocks, keepSat: a.keepSat,
        ...(a.closeIdleBlocks !== undefined ? { closeIdleBlocks: a.closeIdleBlocks } : {}),
      }, timeout)
      if (r.refused) throw new ClientError('setPayoutPolicy', 'hub_refused', r.detail ?? 'the hub refused the policy')
    } finally {
      clearTimeout(timer)
    }
  }

  /** Verifies a stored receipt and its proof against our chain backend only (receipts.ts verifyReceipt). */
  async verifyReceipt (args: { paymentHash: string; minDepth?: number }): Promise<ReceiptVerification> {
    const a = parseArgs(verifyReceiptArgs, args, 'verifyReceipt')
    const r = await this.receipts.get(a.paymentHash)
    if (r === undefined) return { ok: false, entry: -1, reason: 'no_proof', detail: `no receipt of payment ${a.paymentHash}` }
    return await verifyReceipt(r, this.chain, { minDepth: a.minDepth ?? DEFAULT_FINALITY_DEPTH })
  }

  /** A new address of the client's on-chain wallet (to fund it). */
  newAddress (): string { return this.wallet.newAddress().address }

  /** Platform: opens a channel of `capacitySat` to the hub, funded from the client's wallet. Resolves
   *  once the channel is ready for payments (the funding tx must confirm: mine blocks on regtest).
   *  Rejects with a ClientError once nothing moved for `timeoutMs` (default progressTimeoutMs):
   *  funding_not_confirmed or hub_not_responding; the channel goes on (channel_state events). */
  async openChannel (args: { capacitySat: number; timeoutMs?: number }): Promise<ChannelInfo> {
    const a = parseArgs(openChannelArgs, args, 'openChannel')
    const ch = await this.channelSet.open(a.capacitySat)
    return await this.untilReady(ch, a.timeoutMs ?? this.opts.progressTimeoutMs)
  }

  /** Creator/treasury: asks the hub for a channel it funds (inbound liquidity). Resolves when it is
   *  ready for payments (the hub's funding must confirm: mine blocks on regtest); while one the hub
   *  funds is still opening (an earlier call that timed out), waits for that one. Rejects with a
   *  ClientError once nothing moved for `timeoutMs` (default progressTimeoutMs). */
  async requestChannel (args: { capacitySat?: number; timeoutMs?: number } = {}): Promise<ChannelInfo> {
    const a = parseArgs(requestChannelArgs, args, 'requestChannel')
    const ready = this.channels().find(c => c.phase === 'normal')
    if (ready !== undefined) return ready
    const opening = this.channelSet.channels().find(c => !c.driver.state.setup.isFunder && isOpening(c.driver.state.phase))
    const known = new Set(this.channelSet.channels())
    /** The channel the hub opens for this request (or the one already opening). */
    const requested = (): ClientChannel | undefined => opening ?? this.channelSet.channels().find(
      c => !known.has(c) && !c.driver.state.setup.isFunder
    )
    let stopWatching = (): void => {}
    const next = new Promise<ChannelInfo>((resolve, reject) => {
      const check = (): void => {
        const ch = requested()
        if (ch === undefined) return
        const s = ch.driver.state
        if (s.phase === 'normal') { stopWatching(); resolve(this.info(ch)); return }
        if (!isFinal(s.phase)) return
        stopWatching()
        // The hub's funding was not what it signed for (funding-check.ts): this channel will never be used.
        if (s.phase === 'abandoned') reject(new ClientError(
          'requestChannel', 'channel_abandoned', `the hub's channel ${s.channelId} was abandoned: its funding is missing, wrong or late`,
          { phase: s.phase },
        ))
        else reject(new ClientError('requestChannel', 'channel_failed', `the channel ended in phase ${s.phase}`, { phase: s.phase }))
      }
      const offS = this.on('channel_state', check)
      const offW = this.on('hub_refused', detail => {
        stopWatching()
        reject(new ClientError('requestChannel', 'hub_refused', detail))
      })
      stopWatching = () => { offS(); offW() }
      check()
    })
    if (opening === undefined) this.link.send({
      type: 'request_channel', ...(a.capacitySat !== undefined ? { funding_satoshis: a.capacitySat as Sat } : {})
    })
    return await unlessStalled(next, {
      timeoutMs: a.timeoutMs ?? this.opts.progressTimeoutMs,
      progress: () => {
        const ch = requested();
        return ch === undefined ? 'awaiting open_channel' : openingProgress(ch.driver.state, this.channelSet.tipHeight)
      },
      stalled: idleMs => {
        const ch = requested()
        if (ch !== undefined) return openingStalled(
          'requestChannel', ch.driver.state, { tipHeight: this.channelSet.tipHeight, connected: this.link.connected, idleMs },
        )
        return new ClientError(
          'requestChannel', 'hub_not_responding',
          `waiting for the hub's open_channel for ${seconds(idleMs)}${this.link.connected ? '' : ' (not connected to the hub)'}`,
        )
      },
      abandon: () => stopWatching(),
      stop: this.endsOnStop('requestChannel'),
    })
  }

  private untilReady (ch: ClientChannel, timeoutMs: number): Promise<ChannelInfo> {
    let off = (): void => {}
    const ready = new Promise<ChannelInfo>((resolve, reject) => {
      const check = (): boolean => {
        const s = ch.driver.state
        if (s.phase === 'normal') { off(); resolve(this.info(ch)); return true }
        const failed = (reason: ClientFailureReason, detail: string, cause?: ClientFailureCause): true => {
          off(); reject(new ClientError('openChannel', reason, detail, cause)); return true
        }
        const f = ch.fundingError
        if (f !== undefined) return failed(
          f.kind === 'insufficient_funds' ? 'insufficient_funds' : 'funding_failed', `cannot fund the channel: ${fundingFailure(f)}`, f,
        )
        const stopped = ch.driver.stoppedBy
        if (stopped !== undefined) return failed(
          'channel_stopped', `the channel stopped in phase ${s.phase}: ${String(stopped.error)}`, { phase: s.phase },
        )
        if (isFinal(s.phase)) return failed('channel_failed', `the channel ended in phase ${s.phase}`, { phase: s.phase })
        return false
      }
      off = this.on('channel_state', () => { check() })
      check()
    })
    return unlessStalled(ready, {
      timeoutMs,
      progress: () => openingProgress(ch.driver.state, this.channelSet.tipHeight),
      stalled: idleMs => openingStalled(
        'openChannel', ch.driver.state, { tipHeight: this.channelSet.tipHeight, connected: this.link.connected, idleMs },
      ),
      abandon: () => off(),
      stop: this.endsOnStop('openChannel'),
    })
  }

  /**
   * Pays `amountSat` of our channel balance to `address` on-chain without closing the channel (a
   * splice-out): the fee comes out of the balance too. Resolves once both sides signed the splice
   * transaction and it is broadcast (the channel carries payments again from then on); it becomes the
   * channel's funding after its confirmations (untilSpliceLocked, or the splice_locked event). Rejects
   * with a ClientError: no_channel, splice_refused (its cause says which rule), splice_aborted (the
   * hub refused, or the connection dropped first), hub_not_responding (nothing moved for `timeoutMs`,
   * default progressTimeoutMs, naming what it waited for).
   */
  async spliceOut (args: {
    amountSat: number; address: string; feerateSatPerKw?: number; channelId?: string; timeoutMs?: number
  }): Promise<SpliceResult> {
    const a = parseArgs(spliceOutArgs, args, 'spliceOut')
    const script = addressScript(a.address)
    if (!script.ok) throw new TypeError(`spliceOut.address: ${script.error}`)
    const ch = this.spliceChannel('spliceOut', a.channelId)
    return await runSplice(this.spliceHost(), 'spliceOut', ch, { kind: 'out', amountSat: a.amountSat, script: script.value },
      a.feerateSatPerKw ?? this.opts.spliceFeeratePerKw, a.timeoutMs ?? this.opts.progressTimeoutMs)
  }

  /**
   * Adds `amountSat` from our wallet to our channel balance (a splice-in): confirmed coins, their
   * change back to the wallet; the wallet's coins pay the fee. Resolves and rejects as spliceOut(),
   * and with insufficient_funds when the wallet's spendable coins cannot pay the amount and the fee.
   */
  async spliceIn (args: { amountSat: number; feerateSatPerKw?: number; channelId?: string; timeoutMs?: number }): Promise<SpliceResult> {
    const a = parseArgs(spliceInArgs, args, 'spliceIn')
    const ch = this.spliceChannel('spliceIn', a.channelId)
    return await runSplice(this.spliceHost(), 'spliceIn', ch, { kind: 'in', amountSat: a.amountSat },
      a.feerateSatPerKw ?? this.opts.spliceFeeratePerKw, a.timeoutMs ?? this.opts.progressTimeoutMs)
  }

  /**
   * Replaces our pending splice `txid` (signed, not locked) by the same splice at `feerateSatPerKw`
   * (BOLT #2 tx_init_rbf): the same payout or the same wallet coins, the higher fee paid by us. Resolves
   * with the replacement once both sides signed it and our node answered its broadcast; whichever of the
   * two confirms becomes the channel's funding (untilSpliceLocked with the new txid). Rejects as
   * spliceOut(), and with no_channel when no channel has `txid` pending (unknown, or locked already),
   * splice_refused when the feerate is below 25/24 of the replaced one's, the splice is replaced already
   * or the hub's, or we sent splice_locked for it.
   */
  async spliceRbf (args: { txid: string; feerateSatPerKw: number; timeoutMs?: number }): Promise<SpliceResult> {
    const a = parseArgs(spliceRbfArgs, args, 'spliceRbf')
    const ch = channelOfSplice(this.channelSet.channels(), a.txid as Txid)
    return await runRbf(this.spliceHost(), ch, a.txid as Txid, a.feerateSatPerKw, a.timeoutMs ?? this.opts.progressTimeoutMs)
  }

  /** Resolves once splice `txid` is its channel's funding (its confirmations on our node, and
   *  splice_locked both ways). Rejects with a ClientError: no_channel (no channel knows the txid),
   *  splice_not_confirmed (the tip did not move for `timeoutMs`), hub_not_responding (the hub's
   *  splice_locked did not come), splice_aborted (its replacement — or the original it replaced — locked
   *  instead, or the channel ended). */
  async untilSpliceLocked (args: { txid: string; timeoutMs?: number }): Promise<SpliceLockedInfo> {
    const a = parseArgs(untilSpliceLockedArgs, args, 'untilSpliceLocked')
    return await untilLocked(this.spliceHost(), this.channelSet.channels(), a.txid as Txid, a.timeoutMs ?? this.opts.progressTimeoutMs)
  }

  /** The channel a splice call runs on: the named one, or the open, connected one with the most of our
   *  balance. */
  private spliceChannel (operation: 'spliceOut' | 'spliceIn', channelId: string | undefined): ClientChannel {
    if (channelId !== undefined) {
      const ch = this.channelSet.get(channelId)
      if (ch === undefined) throw new ClientError(operation, 'no_channel', `no channel ${channelId}`)
      if (ch.driver.state.phase !== 'normal' || ch.driver.state.link !== 'up') {
        throw new ClientError(
          operation, 'no_channel',
          `channel ${channelId} is ${ch.driver.state.phase} (link ${ch.driver.state.link}): only an open, connected channel splices`,
        )
      }
      return ch
    }
    const ch = this.payingChannel()
    if (ch === undefined) throw new ClientError(
      operation, 'no_channel', `no channel with the hub is open and connected${this.link.connected ? '' : ' (not connected to the hub)'}`,
    )
    return ch
  }

  private spliceHost () {
    return {
      on: <K extends keyof SpliceEvents>(event: K, fn: (...args: SpliceEvents[K]) => void) => this.on(event, fn as never),
      splice: (
        ch: ClientChannel, wish: Parameters<ChannelSet['splice']>[1], feeratePerKw: number,
      ) => this.channelSet.splice(ch, wish, feeratePerKw),
      rbf: (ch: ClientChannel, txid: Txid, feeratePerKw: number) => this.channelSet.spliceRbf(ch, txid, feeratePerKw),
      connected: () => this.link.connected,
      tipHeight: () => this.channelSet.tipHeight,
      broadcast: (txid: Txid) => this.channelSet.spliceBroadcast(txid),
      endsOnStop: (operation: ClientOperation) => this.endsOnStop(operation),
    }
  }

  /** How a wait of `operation` ends when the client stops while it runs. */
  private endsOnStop (operation: ClientOperation): { signal: StopSignal; error: () => Error } {
    return {
      signal: this.stopSignal,
      error: () => new ClientError(operation, 'client_stopped', 'the client stopped while the call waited; what was stored goes on ' +
        'after it starts again'),
    }
  }

  /** A splice moved (host/channel/splicing.ts): the SDK's splice events. */
  private onSpliceProgress (ch: ClientChannel, p: SpliceProgress): void {
    const channelId = ch.driver.channelId
    // A proposal whose session ended is of no later splice.
    if (p.kind === 'aborted') this.payouts.forget(channelId)
    switch (p.kind) {
      case 'negotiated': this.emit(
        'splice_negotiated', { channelId, txid: p.txid, capacitySat: p.capacitySat, contributionSat: p.contributionSat, feeSat: p.feeSat },
      ); break
      case 'signed':
        // Its accounting row (chain-moves.ts): the signed candidate is in the durable state now.
        this.track(recordMoves(this.store, ch.driver.state, Date.now()))
        this.emit('splice_signed', { channelId, txid: p.txid }); break
      case 'confirmed': this.emit('splice_confirmed', { channelId, txid: p.txid, depth: p.depth }); break
      case 'locked': this.emit('splice_locked', { channelId, txid: p.txid, capacitySat: p.capacitySat }); break
      case 'aborted': this.emit('splice_aborted', { channelId, reason: p.reason, byPeer: p.byPeer }); break
      case 'dropped':
        // The reversal of its accounting row (chain-moves.ts): the drop is in the durable state now.
        this.track(recordMoves(this.store, ch.driver.state, Date.now()))
        this.emit('splice_aborted', { channelId, reason: `splice ${p.txid} double-spent: ${p.reason}`, byPeer: false }); break
      case 'broadcast': if (!p.ok) this.emit('warning', `splice ${p.txid}: broadcast refused: ${p.detail ?? ''}`); break
    }
  }

  /** A BOLT #11 invoice (lnbcrt…) signed by our node key; its preimage is stored before it is returned. */
  async createInvoice (args: { amountMsat: number; memo?: string; expirySec?: number }): Promise<{
    invoice: string; paymentHash: string; expiresAt: number
  }> {
    const a = parseArgs(createInvoiceArgs, args, 'createInvoice')
    const rec = await this.book.createInvoice(a.amountMsat, a.memo, a.expirySec, this.opts.finalCltvDelta, nowSec())
    return { invoice: rec.invoice, paymentHash: rec.paymentHash, expiresAt: rec.expiresAt }
  }

  /**
   * A stream of line items to the node id `to` (DESIGN.md "Streams"): `push({ id, amountMsat, memo })`
   * adds an item; items are paid one tick (one push payment) at a time, each with a receipt signed by
   * the payee (`receipt(id)`, `receipts()`; protocol/stream verifyStreamReceipt checks one offline).
   * One stream per payee: a second call returns the same stream. A TypeError names a bad argument.
   */
  stream (to: string, options: { tickMs?: number; maxTickMsat?: number; holdBlocks?: number } = {}): PaymentStream {
    if (typeof to !== 'string' || !isValidNodeId(to)) throw new TypeError('stream.to: must be a node id (33-byte compressed key, hex)')
    if (to === this.nodeId) throw new TypeError('stream.to: is our own node id')
    const known = this.streams.get(to)
    if (known !== undefined) return known
    const s = new PaymentStream({
      nodeId: this.nodeId, store: this.store, book: this.book, payTimeoutMs: this.opts.payTimeoutMs,
      payingChannelSoon: d => this.payingChannelSoon(d), hubPolicy: () => this.hubPolicy(), offer: (ch, hash) => this.offer(ch, hash),
      send: msg => { this.link.send(msg) }, warn: w => this.emit('warning', w),
    }, to, options)
    this.streams.set(to, s)
    return s
  }

  /**
   * This account's payments in and out (and stream ticks, fees), as CSV or JSON lines, with
   * from ≤ created < to (seconds since 1970), a page at a time (`nextCursor`): client-sdk/accounting.ts.
   * The rows' amount_msat sum to the change of our channel balance over the payments they cover.
   */
  async exportAccounting (args: { from?: number; to?: number; format?: 'csv' | 'jsonl'; limit?: number; cursor?: string } = {}):
  Promise<AccountingPage> {
    return await exportAccounting(this.store, parseArgs(exportAccountingArgs, args, 'exportAccounting'))
  }

  /** A stream tick paid to us, with its items (undefined: no such tick). */
  async streamTick (paymentHash: string): Promise<IncomingTick | undefined> {
    if (typeof paymentHash !== 'string' || !/^[0-9a-f]{64}$/.test(paymentHash)) throw new TypeError(
      'streamTick.paymentHash: must be 32 bytes of lowercase hex'
    )
    return await this.streamReceiver.tick(paymentHash)
  }

  /** Our invoices with their status, by creation time (oldest first), a page at a time: pass a page's
   *  nextCursor as `cursor` for the next. Shows what is stored (durable). */
  async listInvoices (args: {
    since?: number; limit?: number; cursor?: string; status?: 'unpaid' | 'paid' | 'cancelled' | 'expired'
  } = {}): Promise<Page<InvoiceInfo>> {
    return await listInvoices(this.store, parseArgs(listInvoicesArgs, args, 'listInvoices'), nowSec())
  }

  /** Our payments with their status, by the time pay() began them (oldest first), a page at a time.
   *  A payment is listed once its record is stored (before its HTLC can be signed). */
  async listPayments (args: {
    since?: number; limit?: number; cursor?: string; status?: 'pending' | 'succeeded' | 'failed'
  } = {}): Promise<Page<PaymentInfo>> {
    return await listPayments(this.store, parseArgs(listPaymentsArgs, args, 'listPayments'))
  }

  /** Cancels an unpaid invoice of ours (payments for it are refused). False if unknown or already paid. */
  async cancelInvoice (paymentHash: string): Promise<boolean> {
    if (typeof paymentHash !== 'string' || !/^[0-9a-f]{64}$/.test(paymentHash)) throw new TypeError(
      'cancelInvoice.paymentHash: must be 32 bytes of lowercase hex'
    )
    return await this.book.cancelInvoice(paymentHash)
  }

  /**
   * Pays `invoice` through the hub. Never throws for a payment problem (only a TypeError for a bad
   * argument); resolves with one of:
   *
   * - `{ ok: true, preimage, amountMsat, feeMsat }`: paid. Final; stored before it is returned.
   * - `{ ok: false, reason, detail }`, any reason but `timeout`: not paid, and this payment never will
   *   be: its HTLC never entered a commitment, or the hub failed it and that removal is irrevocably
   *   committed, or it timed out on-chain. Final. To try again, ask the payee for a new invoice.
   *   `idempotency_key_reused`: the key names a payment of another invoice; nothing was paid.
   * - `{ ok: false, reason: 'timeout' }`: no outcome within `payTimeoutMs`. NOT final: the payment is
   *   in flight and resolves later. Do not pay the invoice again: call pay() again with the same key
   *   (or invoice) for its outcome, or wait for payment_sent / payment_failed.
   *
   * A second call with the same `idempotencyKey` and invoice, or the same invoice, pays nothing and
   * returns the first payment's outcome (waiting for it at most `payTimeoutMs`).
   */
  async pay (invoice: string, opts?: { idempotencyKey?: string; reference?: string }): Promise<PayResult>
  /**
   * Pays `amountMsat` to the node id `to` without an invoice (a push payment): we pick the preimage
   * and seal it, with the amount, to the payee's node key in the HTLC's metadata
   * (protocol/push/secret.ts), so the hub cannot read it and the payee need not be online: the hub
   * holds the payment until it returns (at most `holdBlocks` blocks, and the hub's own hold limit).
   * Resolves with the outcomes of pay(invoice), and one more, not final: `pending`, as soon as the hub
   * holds it for its offline payee (the payment completes or fails later: payment_sent /
   * payment_failed, or pay() again with the same `idempotencyKey`). A key used before with other
   * parameters is refused (`idempotency_key_reused`); a TypeError names a bad argument.
   */
  async pay (push: { to: string; amountMsat: number; reference: string; idempotencyKey?: string; holdBlocks?: number }): Promise<PayResult>
  async pay (target: string | object, opts: { idempotencyKey?: string; reference?: string } = {}): Promise<PayResult> {
    if (typeof target === 'object' && target !== null) {
      return await payPush({
        nodeId: this.nodeId, book: this.book, payTimeoutMs: this.opts.payTimeoutMs, payingChannelSoon: d => this.payingChannelSoon(d),
        hubPolicy: () => this.hubPolicy(), offer: (ch, hash) => this.offer(ch, hash),
      }, target)
    }
    const invoiceText = target
    if (typeof invoiceText !== 'string') throw new TypeError('pay.invoice: must be a BOLT #11 invoice string')
    // Whitespace around an invoice is how it arrives when copied from a file, a form or a terminal.
    const invoice = invoiceText.trim()
    const o = parseArgs(payArgs, opts, 'pay')
    const deadline = Date.now() + this.opts.payTimeoutMs
    if (o.idempotencyKey !== undefined) {
      const prior = await this.book.paymentByKey(o.idempotencyKey)
      if (prior !== undefined) return await this.priorOutcome(prior, invoice, o.idempotencyKey, deadline)
    }
    const checked = this.book.checkInvoice(invoice, nowSec())
    if (!checked.ok) return checked
    const { inv, amountMsat } = checked
    const prior = await this.book.payment(inv.paymentHash)
    if (prior !== undefined) return await this.priorOutcome(prior, invoice, o.idempotencyKey, deadline)
    const ch = await this.payingChannelSoon(deadline)
    if (ch === undefined) return {
      ok: false, paymentHash: inv.paymentHash, reason: 'no_channel', detail: 'no channel with the hub is ready',
    }
    // A channel is up, so the hub has sent its policy on this connection.
    const offered = amountToOffer(amountMsat, await this.hubPolicy())
    const balanceMsat = ch.driver.state.localCommit!.spec.toLocalMsat
    if (balanceMsat < offered) {
      return {
        ok: false, paymentHash: inv.paymentHash, reason: 'insufficient_balance',
        detail: `the channel's balance ${balanceMsat} msat is below the ${offered} msat to offer (${amountMsat} msat and the hub's fee)`,
      }
    }
    // Durable with the channel's next persist batch, before the commitment signing its HTLC leaves
    // (PaymentBook: begin). A payment begun meanwhile for this invoice or key is that payment.
    const begun = this.book.begin({
      paymentHash: inv.paymentHash, invoice, payee: inv.payee, amountMsat, offeredMsat: offered, status: 'pending', createdAt: nowSec(),
      ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey } : {}),
      ...(o.reference !== undefined ? { reference: o.reference } : {}),
    }, ch.driver.channelId)
    if (begun !== undefined) return await this.priorOutcome(begun, invoice, o.idempotencyKey, deadline)
    const outcome = this.book.outcomeWithin(inv.paymentHash, this.opts.payTimeoutMs)
    await this.offer(ch, inv.paymentHash)
    return await outcome
  }

  /**
   * Pays `total` msat to several recipients at once, by shares (DESIGN.md "Splits"): every recipient
   * is paid its share or none is, and the hub can keep none. `shares` are all `{ to, ppm }` (parts
   * per million of the total, summing to 1,000,000: each leg gets floor(total · ppm / 1,000,000) msat
   * and the remainder goes one msat each to the first legs, in the order given) or all `{ to, msat }`
   * (summing to the total). The hub's fee on each leg comes on top. Resolves with:
   *
   * - `{ ok: true, splitId, totalMsat, feeMsat, legs }`: every leg was claimed by its recipient. Final.
   * - `{ ok: false, reason: 'aborted' }`: nobody was paid, every leg failed back (a recipient offline
   *   past the lock timeout, one that refused, a leg the hub failed). Final.
   * - `{ ok: false, reason: 'partial' }`: released, but a recipient did not claim its leg before its
   *   HTLC expired (that share came back to us). Final.
   * - `{ ok: false, reason: 'timeout' }`: not over within payTimeoutMs. NOT final: it completes or
   *   rolls back on its own (payment_sent / payment_failed of each leg); do not pay it again.
   * - `no_channel`, `insufficient_balance`, `wrong_payee`: refused before anything was sent.
   * - With `idempotencyKey`: a second call with the key answers with the first split's outcome;
   *   `idempotency_key_reused`: the key names a split with other parameters, nothing was paid;
   *   `duplicate_payment`: the hub refused the legs, our node (another data directory) paid a split
   *   under this key; nobody was paid by this call. Final.
   *
   * A TypeError names a bad argument.
   */
  async paySplit (args: {
    total: number; shares: Array<{ to: string; ppm: number } | { to: string; msat: number }>; reference: string; lockTimeoutMs?: number
    idempotencyKey?: string
  }): Promise<SplitResult> {
    return await this.splits.pay(args)
  }

  /** A pay() that found its payment already begun (same key, or same invoice): that payment's
   *  outcome, unless the key was used for another invoice. */
  private async priorOutcome (prior: PaymentRecord, invoice: string, key: string | undefined, deadline: number): Promise<PayResult> {
    if (key !== undefined && prior.idempotencyKey === key && prior.invoice.toLowerCase() !== invoice.toLowerCase()) {
      const d = decodeInvoice(invoice, { network: 'bcrt' })
      return {
        ok: false, paymentHash: d.ok ? d.value.paymentHash : null, reason: 'idempotency_key_reused',
        detail: `idempotency key ${JSON.stringify(key)} belongs to payment ${prior.paymentHash} of another invoice; nothing was paid`,
      }
    }
    return await this.book.outcomeWithin(prior.paymentHash, Math.max(0, deadline - Date.now()))
  }

  /** A channel to pay from; if our channels are only disconnected (the link is coming back), waits
   *  for one to reestablish until `deadline`. */
  private async payingChannelSoon (deadline: number): Promise<ClientChannel | undefined> {
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

  /**
   * Offers the HTLC of a pending payment on `ch`. What became of the add is read from its own step
   * (the driver's observer), never from a later event: a refusal held behind another payment's write
   * is still this payment's. Every pending payment keeps an HTLC or an offer still to come:
   * - added: the HTLC is on its way (a disconnect before it is signed hands it back: add_rolled_back);
   * - refused while the link is down: offered again once the channel reestablishes (toRetry);
   * - refused for a cap our HTLCs in flight hold (HELD_BY_IN_FLIGHT): offered again once one of them
   *   has settled (offerWhen; after a restart, recoverPayments offers it);
   * - refused because a splice holds the channel quiescent: offered again once it ended (offerWhen);
   * - refused otherwise: it never left, so the payment fails now;
   * - not stepped (the driver stopped: its store failed): offered again after a restart (recoverPayments).
   */
  private async offer (ch: ClientChannel, paymentHash: string): Promise<void> {
    if (this.offering.has(paymentHash) || this.awaitingRoom.has(paymentHash) || !this.splits.mayOffer(paymentHash) ||
      this.channelSet.channels().some(c => offersPayment(c.driver.state, paymentHash, 'anywhere'))) return
    this.offering.add(paymentHash)
    try {
      const rec = await this.book.payment(paymentHash)
      if (rec === undefined || rec.status !== 'pending') return
      // A push payment's expiry lies holdBlocks further out: how long the hub may hold it for an offline payee.
      const cltvExpiry = this.channelSet.tipHeight + this.opts.finalCltvDelta + (
        await this.hubPolicy()
      ).cltvExpiryDelta + (rec.holdBlocks ?? 0)
      const metadata: HtlcMetadata = {
        ...(rec.push !== undefined ? { push: rec.push } : rec.invoice.length <= MAX_FORWARDED_INVOICE_CHARS ? {
          invoice: rec.invoice
        } : {}),
        ...(rec.reference !== undefined ? { reference: rec.reference } : {}),
        // A stream tick's root, in clear for the hub's ledger (the sealed reference is what binds it).
        ...(rec.push !== undefined && rec.reference !== undefined && parseTickReference(rec.reference) !== undefined
          ? { stream_root: parseTickReference(rec.reference)!.root }
          : {}),
        // The hub checks the key too: a second data directory of ours that does not know this payment
        // cannot pay it again.
        ...(rec.idempotencyKey !== undefined ? { idempotency_key: rec.idempotencyKey } : {}),
        ...(rec.splitLeg !== undefined ? { split_leg: rec.splitLeg as NonNullable<HtlcMetadata['split_leg']> } : {}),
      }
      let outcome: AddOutcome | undefined
      await ch.driver.command({
        type: 'add_htlc', amountMsat: rec.offeredMsat as Msat, paymentHash, cltvExpiry, recipient: rec.payee as NodeId, metadata,
      }, (before, after, effects) => {
        outcome = addOutcome(before, after, effects)
        // Decided inside the step, so a reestablish stepped after it finds the payment to retry.
        if (outcome.kind === 'refused' && after.phase === 'normal' && after.link !== 'up') this.toRetry.set(paymentHash, ch)
      })
      if (outcome?.kind !== 'refused' || this.toRetry.get(paymentHash) === ch) return
      const e = outcome.error
      const holding = offeredHtlcIds(ch)
      if (HELD_BY_IN_FLIGHT.has(e.reason) && holding.size > 0) {
        this.awaitingRoom.add(paymentHash)
        this.track(this.offerWhen(ch, paymentHash, () => [...holding].some(id => !offeredHtlcIds(ch).has(id))))
        return
      }
      // A splice is being negotiated on the channel (quiescence): offered again once it is signed or
      // abandoned, within the payment's timeout like any wait.
      if (e.reason === 'channel_quiescent') {
        this.awaitingRoom.add(paymentHash)
        this.track(this.offerWhen(ch, paymentHash, () => quiescence(ch.driver.state) === 'none'))
        return
      }
      await this.settleFailed(
        paymentHash, e.reason === 'insufficient_funds' || e.reason === 'reserve' ? 'insufficient_balance' : 'temporary_channel_failure',
        `${e.reason}: ${e.detail}`,
      )
    } finally {
      this.offering.delete(paymentHash)
    }
  }

  /** A payment refused for what will pass (a cap the HTLCs in flight hold: once one of them is gone
   *  from the channel, its removal irrevocably committed; a splice's quiescence: once it ended): offered
   *  again once `freed()`, or the channel left `normal` (the offer then gets the channel's final
   *  answer). A client that stops first leaves it pending: the next start offers it (recoverPayments). */
  private async offerWhen (ch: ClientChannel, paymentHash: string, freed: () => boolean): Promise<void> {
    do {
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { off(); resolve() }, 100)
        const off = this.on('channel_state', () => { clearTimeout(timer); off(); resolve() })
      })
    } while (!this.stopped && ch.driver.stoppedBy === undefined && ch.driver.state.phase === 'normal' && !freed())
    this.awaitingRoom.delete(paymentHash)
    if (!this.stopped) await this.offer(ch, paymentHash)
  }

  /** After a restart: pending payments whose HTLC is in no channel (never committed, or already
   *  resolved while we were down) are looked after: resolved from a stored preimage, offered again
   *  (now, or once a channel reestablishes), or failed if no channel is left to offer them on. */
  private async recoverPayments (): Promise<void> {
    for (const rec of await this.book.pending()) {
      const inFlight = this.channelSet.channels().some(c => offersPayment(c.driver.state, rec.paymentHash, 'anywhere'))
      if (inFlight) continue
      const preimage = await this.channelSet.storedPreimage(rec.paymentHash)
      if (preimage !== undefined) { await this.settleSent(rec.paymentHash, preimage); continue }
      const ch = this.payingChannel()
      if (ch !== undefined) { await this.offer(ch, rec.paymentHash); continue }
      const later = this.channelSet.channels().find(c => c.driver.state.phase === 'normal' && c.driver.stoppedBy === undefined)
      if (later !== undefined) this.toRetry.set(rec.paymentHash, later)
      else await this.settleFailed(rec.paymentHash, 'no_channel', 'no channel with the hub left to offer it on')
    }
  }

  /** After a restart: incoming HTLCs irrevocably committed (in both commitments) that nobody has
   *  fulfilled or failed yet are decided again (idempotent: an invoice remembers the HTLC that paid it). */
  private recoverIncoming (): void {
    for (const ch of this.channelSet.channels()) {
      if (isFinal(ch.driver.state.phase)) continue
      for (const h of committedIncoming(ch.driver.state)) this.track(this.receiveHtlc(ch, h))
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
      case 'htlc_failed': this.track(this.settleFailed(
        ev.paymentHash, ev.reason, ev.detail !== undefined ? `failed by the hub: ${ev.detail}` : 'failed by the hub',
      )); break
      case 'add_rolled_back': this.toRetry.set(ev.htlc.paymentHash, ch); break
      case 'reestablished':
        this.track(this.retryRolledBack(ch))
        this.splitLegs.reestablished(ch.driver.channelId)
        this.splits.resume()
        break
      case 'channel_failed':
        this.track(this.failInFlight(ch))
        // A force close (the failure is durable before this event): its accounting row (chain-moves.ts).
        if (ev.broadcastOurCommitment) this.track(recordMoves(this.store, ch.driver.state, Date.now()))
        break
      // A mutual close both signed (durable before this event): its accounting row (chain-moves.ts).
      case 'closing_agreed': this.track(recordMoves(this.store, ch.driver.state, Date.now())); break
      default: break
    }
    this.emit('channel_state', this.info(ch))
  }

  private async receiveHtlc (ch: ClientChannel, htlc: Parameters<PaymentBook['decideIncoming']>[1]): Promise<void> {
    if (htlc.metadata?.split_leg !== undefined) { await this.splitLegs.htlc(ch, htlc); return }
    const d = await this.book.decideIncoming(ch.driver.channelId, htlc, nowSec())
    if (d.action === 'fail') { await ch.driver.command({ type: 'fail_htlc', id: htlc.id, reason: d.reason, detail: d.detail }); return }
    await ch.driver.command({ type: 'fulfill_htlc', id: htlc.id, preimage: d.preimage })
    // The "paid by" mark (and its payment_received, delivered once durable) rode on the fulfil's
    // persist batch; written here if that batch did not happen.
    await this.book.invoiceDurable(htlc.paymentHash)
  }

  private async retryRolledBack (ch: ClientChannel): Promise<void> {
    for (const [hash, c] of [...this.toRetry]) {
      if (c !== ch) continue
      this.toRetry.delete(hash)
      await this.offer(ch, hash)
    }
  }

  /** The channel failed: a payment whose HTLC never entered a commitment (an add not signed yet, or
   *  one waiting to be offered again) fails now. One in a commitment stays pending: the chain decides
   *  it (the monitor's htlc_resolved or preimage_learned settles it). */
  private async failInFlight (ch: ClientChannel): Promise<void> {
    for (const [hash, c] of [...this.toRetry]) {
      if (c !== ch) continue
      this.toRetry.delete(hash)
      await this.settleFailed(hash, 'channel_failed', 'the channel failed before the payment was offered again')
    }
    for (const rec of await this.book.pending()) {
      if (offersPayment(ch.driver.state, rec.paymentHash, 'anywhere') &&
        !offersPayment(ch.driver.state, rec.paymentHash, 'committed')) await this.settleFailed(
        rec.paymentHash, 'channel_failed', 'the channel failed before the payment\'s HTLC was signed',
      )
    }
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
      reserveSat: s.setup.remote?.channelReserveSat ?? null,
      spendableMsat: Math.max(0, spendableMsat(s)) as Msat,
      splicing: s.splice?.session !== undefined || s.splice?.request !== undefined,
      pendingSplices: (s.splice?.candidates ?? []).map(c => c.txid),
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
   *  agreed and it was broadcast (mine a block to confirm it). If a closing transaction would leave
   *  out an output as dust, nothing is sent and the outcome says which (`dust_trim`), unless
   *  `allowDustTrim` is true. Rejects with a ClientError (hub_not_responding) once no channel's close
   *  moved for `timeoutMs` (default progressTimeoutMs); the close goes on when the hub answers
   *  (channel_state events). */
  async close (options?: { allowDustTrim?: boolean; timeoutMs?: number }): Promise<CloseOutcome> {
    const { allowDustTrim, timeoutMs } = parseArgs(closeArgs, options, 'close')
    const open = this.channelSet.channels().filter(c => c.driver.state.phase === 'normal' || c.driver.state.phase === 'shutting_down')
    // A channel whose shutdown we already sent is past deciding; the others are checked before ours leaves.
    const trims: DustTrim[] = open.filter(
      c => c.driver.state.closing.localScript === undefined
    ).flatMap(c => closingTrims(c.driver.state).map(t => ({
      channelId: c.driver.channelId, side: t.side === 'local' ? 'ours' as const : 'hub' as const, amountSat: t.amountSat,
      dustLimitSat: t.dustLimitSat,
    })))
    if (trims.length > 0 && !allowDustTrim) {
      const detail = trims.map(t => `channel ${t.channelId}: ${t.side === 'ours' ? 'our' : 'the hub\'s'} ${t.amountSat} sat are below ` +
        `the dust limit of ${t.dustLimitSat} sat and would not be paid`).join('; ')
      return { ok: false, reason: 'dust_trim', detail: `${detail}; close({ allowDustTrim: true }) to close anyway`, trims }
    }
    const closing = Promise.all(open.map(async ch => {
      const done = new Promise<void>(resolve => {
        // 'closing' is the agreement: its closing_agreed event (which carries closingTx) is emitted
        // only once that state is durable, and the driver's state shows the phase before then (its
        // writes are pipelined): wait for the transaction, unless the channel ended otherwise.
        const ended = (): boolean => ch.driver.stoppedBy !== undefined || (
          isFinal(ch.driver.state.phase) && ch.driver.state.phase !== 'closing'
        )
        const check = (): void => { if (ch.closingTx !== undefined || ended()) { off(); resolve() } }
        const off = this.on('channel_state', check)
        check()
      })
      if (ch.driver.state.closing.localScript === undefined) await this.channelSet.shutdown(ch)
      await done
      await ch.closingBroadcast
      return ch
    }))
    const pending = (): ClientChannel[] => open.filter(c => c.closingTx === undefined && c.driver.stoppedBy === undefined && !(
      isFinal(c.driver.state.phase) && c.driver.state.phase !== 'closing'
    ))
    const results = await unlessStalled(closing, {
      timeoutMs: timeoutMs ?? this.opts.progressTimeoutMs,
      progress: () => open.map(c => [
        c.driver.state.phase, c.driver.state.closing.lastReceivedFeeSat, c.driver.state.localCommit?.spec.htlcs.length, c.closingTx?.txid,
      ].join(':')).join(','),
      stalled: idleMs => new ClientError('close', 'hub_not_responding',
        pending().map(c => `channel ${c.driver.channelId}: waiting for ${closingAwaits(c.driver.state)}`).join('; ') +
        ` for ${seconds(idleMs)}${this.link.connected ? '' : ' (not connected to the hub)'}; the close goes on when the hub answers`),
      stop: this.endsOnStop('close'),
    })
    return { ok: true, closed: results.filter(ch => ch.closingTx !== undefined).map(ch => closeResult(ch)) }
  }

  /** The closing transaction of a channel, once agreed. */
  closingOf (channelId: string): CloseResult | undefined {
    const ch = this.channelSet.get(channelId)
    if (ch?.closingTx === undefined) return undefined
    return closeResult(ch)
  }

  /**
   * Closes a channel (or every funded channel) alone. Returns the channels whose latest commitment is
   * going on-chain; forceCloseChannel() says why a channel is not.
   */
  async forceClose (channelId?: string): Promise<ChannelId[]> {
    const ids = channelId !== undefined
      ? [channelId]
      : this.channelSet.channels().filter(c => c.driver.state.localCommit !== undefined).map(c => c.driver.channelId)
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
    if (typeof channelId !== 'string' || !/^[0-9a-f]{64}$/.test(channelId)) throw new TypeError(
      'forceCloseChannel.channelId: must be 32 bytes of lowercase hex'
    )
    const id = channelId as ChannelId
    const ch = this.channelSet.get(channelId)
    if (ch === undefined) return { ok: false, channelId: id, reason: 'unknown_channel', detail: `no channel ${channelId}` }
    const monitors = this.monitoring
    const outcome = monitors === undefined ? { kind: 'stopped' as const } : await monitors.forceClose(id, 'requested by the application')
    switch (outcome.kind) {
      case 'unknown_channel': return { ok: false, channelId: id, reason: 'unknown_channel', detail: `no channel ${channelId}` }
      case 'stopped': return { ok: false, channelId: id, reason: 'stopped', detail: 'the channel stopped on a failed write' }
      case 'refused': return {
        ok: false, channelId: id, reason: outcome.error.reason === 'we_are_behind' ? 'we_are_behind' : 'closing',
        detail: outcome.error.detail,
      }
      case 'unfunded': return { ok: true, channelId: id, broadcast: false }
      // The monitor has acted on the durable force_close update (broadcast our commitment).
      case 'failing': case 'already_failed': return { ok: true, channelId: id, broadcast: true }
    }
  }

  /** Disconnects, stops the chain monitors and releases the host parts (`host.release`: in Node, the
   *  store, wallet and chain connection the client opened). The channels stay open: a new client on
   *  the same store carries on. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.stopSignal.stop()
    for (const st of this.streams.values()) st.stop()
    this.book.abandonWaits()
    this.splits.stop()
    this.splitLegs.stop()
    this.link.stop()
    this.channelSet.stop()
    await this.idle()
    await Promise.all(this.channelSet.channels().map(c => c.driver.idle()))
    await this.book.flush()
    await this.events.stop()
    await this.monitoring?.stop()
    await this.host.release?.()
  }
}

/** Refusals of our add that our own HTLCs in flight cause (BOLT #2: the peer's `max_accepted_htlcs`
 *  and `max_htlc_value_in_flight_msat`, our `max_dust_htlc_exposure_msat`): they end as those HTLCs
 *  settle, so the payment waits for that instead of failing. Many small payments at once hit them
 *  first: HTLCs below the dust limit are trimmed, and their sum is capped. */
const HELD_BY_IN_FLIGHT: ReadonlySet<string> = new Set(['too_many_htlcs', 'max_in_flight', 'dust_exposure'])

/** Ids of the HTLCs we offered on `ch` that are in a commitment or still being added. */
function offeredHtlcIds (ch: ClientChannel): Set<number> {
  return new Set(offeredHtlcs(ch.driver.state, 'anywhere').map(h => h.id))
}

/** Phases of a channel being opened (BOLT #2 "Channel Establishment"), before it is ready. */
const OPENING_PHASES: readonly Phase[] = [
  'awaiting_accept', 'awaiting_funding_tx', 'awaiting_funding_created', 'awaiting_funding_signed', 'awaiting_funding_depth',
]
const isOpening = (p: Phase): boolean => OPENING_PHASES.includes(p)

/** Why our wallet could not fund a channel, in words (amounts in sat, as the wallet counts them). */
function fundingFailure (f: WalletError): string {
  switch (f.kind) {
    case 'insufficient_funds': return `the wallet has ${f.available} sat spendable and the funding needs ${f.needed} sat (the capacity ` +
      `and the fee): fund it (newAddress()) and retry`
    case 'invalid_output': return `the funding output was refused: ${f.detail}`
    case 'chain_wiped': return `the chain under the wallet was wiped: ${f.detail}`
    case 'broadcast_failed': return `the funding transaction was not relayed: ${f.failure.kind}: ${f.failure.detail}`
  }
}

function closeResult (ch: ClientChannel): CloseResult {
  const c = ch.closingTx!
  return {
    channelId: ch.driver.channelId, closingTxid: c.txid, localSat: c.localSat, remoteSat: c.remoteSat,
    feeSat: c.feeSat, agreedFeeSat: c.agreedFeeSat, trimmedLocalSat: c.trimmedLocalSat, trimmedRemoteSat: c.trimmedRemoteSat,
  }
}
