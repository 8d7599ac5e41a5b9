// The client's channels with the hub: one ChannelDriver each (host/channel, the same runner the hub
// uses), their persistence in the client's own store, message routing, funding from the client's
// wallet, funding watching, and the cooperative closing transaction.
//
// A channel is stored as the hub stores its channels (host/channel/record.ts: the hub's node id, the
// key seed, the state) by the same batch (host/channel/persist.ts, carrying the PaymentBook's records),
// so after a restart every funded channel comes back with its keys. A new channel first claims its id
// with a create-only write, and its writes wait for the claim: a channel id the hub names twice can
// never replace our record of another channel (nor can our own bug). A funding_created from the hub
// naming the id of a channel we know is refused before it reaches a channel.
//
// The hub's funding of a channel it opens to us is checked like the hub checks ours: every block we
// look the funding outpoint up on our own node (host/chain/funding-output.ts) and the channel machine
// abandons the channel if the output is missing or does not pay the 2-of-2 exactly the capacity
// (protocol/channel/funding-check.ts); channel_ready waits for our own fundingConfirmations.
//
// Splicing (host/channel/splicing.ts, the same host code the hub runs): our splice-outs and splice-ins,
// the hub's splices answered by the client's policy (accepted, taking no part, by default), our wallet
// coins signed, each candidate's depth fed from our own node every block.
import { ChannelDriver, ChannelWriter, Splicing, loadPreimage, loadStoredChannels } from '../host/channel/index.ts'
import type {
  SpliceAnswer, SpliceProgress, SpliceRefusal, SpliceRequest, SpliceWish, PlannedContribution, Replacement,
} from '../host/channel/index.ts'
import type { ChannelWriteHost, DriverPorts } from '../host/channel/index.ts'
import { broadcastClose, pendingClose } from '../host/channel/closing.ts'
import { channelKeys, type ChannelKeys, type SideLimits } from '../protocol/keys/channel.ts'
import {
  acceptFromSeed, bolt3Signer, channelIdFromFunding, openFromSeed,
  type ChannelEvent, type ChannelSigner, type ChannelState, type MonitorUpdate, type SignedClosing,
} from '../protocol/channel/index.ts'
import { defaultPolicy } from '../protocol/channel/policy.ts'
import { channelError, errorText } from '../protocol/errors.ts'
import { isFinal } from '../protocol/channel/phase.ts'
import { isAllowedShutdownScript } from '../protocol/channel/rules/shutdown.ts'
import { fundingScriptPubkey } from '../protocol/tx/index.ts'
import { parseTx } from '../protocol/tx/serialize.ts'
import { bytesToHex, hexToBytes, type ChannelId, type Msat, type NodeId, type Sat, type Txid } from '../protocol/types.ts'
import type { Result } from '../protocol/result.ts'
import { nodeIdOf } from '../protocol/auth/signature.ts'
import type { OpenChannel, PeerMessage } from '../protocol/wire/index.ts'
import type { ChainBackend } from '../host/chain/backend.ts'
import { lookupFunding } from '../host/chain/funding-output.ts'
import { random32 } from '../host/random.ts'
import type { Wallet, WalletError } from '../host/wallet/wallet.ts'
import { StoreConflict, type Store } from '../host/store/index.ts'
import { crashPoints } from '../host/crash-points.ts'
import { ClientError } from './errors.ts'
import type { ClientOptions } from './options.ts'
import type { Carried } from './payments.ts'
import { SignDefer } from './sign-defer.ts'

/** Our limits on the hub (BOLT #2 open_channel/accept_channel fields). */
const DUST_LIMIT_SAT = 354
const TO_SELF_DELAY = 144
const MAX_ACCEPTED_HTLCS = 100
/** BOLT #2 suggests a reserve of 1% of the channel; never below the dust limit. */
const reserveFor = (capacitySat: number): Sat => Math.max(DUST_LIMIT_SAT, Math.floor(capacitySat / 100)) as Sat
const crashPoint = crashPoints('SDK_CRASH_AT')

export interface ClientChannel {
  driver: ChannelDriver
  keys: ChannelKeys
  signer: ChannelSigner
  /** 32-byte hex seed of the channel's keys (stored in its record). */
  seed: string
  /** Its durable writes (host/channel/persist.ts); `writer.stored` once its id is claimed. */
  writer: ChannelWriter
  /** The agreed closing transaction, with both signatures, once its agreement is durable (see CloseResult). */
  closingTx?: SignedClosing
  /** Set when our wallet could not fund the channel we opened. */
  fundingError?: WalletError
  /** Resolves once the closing tx was handed to the node (accepted, or already known). */
  closingBroadcast?: Promise<void>
}

export interface ChannelSetHost {
  /** Sends to the hub; false if not connected (reestablish retransmits). */
  send (msg: PeerMessage): boolean
  /** Drops the connection (the link reconnects). */
  disconnect (): void
  /** The hub id our connection proved (a hub rotating its node key: the key we authenticated it under). */
  hubId? (): NodeId | undefined
  /** A channel event, after it is safe to act on (the driver's emit). Must not wait for the driver. */
  event (ch: ClientChannel, ev: ChannelEvent): void
  /** Something went wrong that the client should report (never thrown into the transport). */
  warn (what: string): void
  /** A persist batch with these monitor updates is durable (the chain monitors, host/monitor/channel-monitors.ts). */
  persisted? (channelId: string, updates: readonly MonitorUpdate[]): void
  /** Records to write in the same atomic batch as this channel write (the PaymentBook's: payments.ts
   *  says why each may wait for it), told once the batch is durable or failed. */
  carry? (channelId: string, monitor: readonly MonitorUpdate[]): Carried | undefined
  /** The hub asks to splice our channel: our answer (default: accept, taking no part). */
  respondSplice? (ch: ClientChannel, request: SpliceRequest): SpliceAnswer | Promise<SpliceAnswer>
  /** A splice of ours or the hub's moved (negotiated, signed, broadcast, confirmed, locked, aborted). */
  spliceProgress? (ch: ClientChannel, p: SpliceProgress): void
  /** Where our balance goes when the hub starts a cooperative close (our payout policy's script, when
   *  it asks for idle closes: payouts.ts); undefined: the channel's own shutdown script. */
  closeScript? (): string | undefined
}

export class ChannelSet {
  private readonly byId = new Map<string, ClientChannel>()
  private readonly all = new Set<ClientChannel>()
  private height = 0
  private chainHash = ''
  private genesis = ''
  private stopFollow: (() => void) | undefined
  private readonly signs = new SignDefer()
  /** Channels that must not run: stored state older than their chain monitor's (scenario 6). */
  private readonly blocked = new Set<ClientChannel>()
  /** Every channel's writes: the group-committed store, watched by SignDefer, carrying the PaymentBook's records. */
  private readonly writes: ChannelWriteHost
  private readonly splicing: Splicing<ClientChannel>
  /** Each splice transaction's broadcast, once handed to our node (spliceOut/spliceIn wait for it). */
  private readonly spliceBroadcasts = new Map<string, Promise<void>>()

  constructor (
    private readonly store: Store,
    private readonly wallet: Wallet,
    private readonly chain: ChainBackend,
    private readonly opts: ClientOptions,
    private readonly host: ChannelSetHost,
  ) {
    this.writes = {
      write: ops => this.signs.write(() => this.store.write(ops)),
      carry: req => this.host.carry?.(req.channelId, req.monitor),
      crashPoint,
      persisted: (id, updates) => { this.host.persisted?.(id, updates) },
    }
    this.splicing = new Splicing<ClientChannel>({
      chain, wallet, localNodeId: nodeIdOf(opts.nodeKey), remoteNodeId: () => host.hubId?.() ?? opts.hubId,
      respond: (ch, req) => host.respondSplice?.(ch, req) ?? { accept: true },
      progress: (ch, p) => { host.spliceProgress?.(ch, p) },
      log: e => {
        // What the owner must hear of: a broadcast the node refused, our coins not signed.
        if ((e.event === 'splice_broadcast' && e.ok === false) || e.event === 'splice_not_signed') host.warn(`splice: ${JSON.stringify(e)}`)
      },
    })
  }

  get tipHeight (): number { return this.height }
  channels (): ClientChannel[] { return [...this.all] }
  get (channelId: string): ClientChannel | undefined { return this.byId.get(channelId) }

  /** Loads every stored channel (restored: link down, everything in it durable) and starts
   *  following the chain. Rejects with a ClientError (chain_unavailable) if the chain does not answer. */
  async start (): Promise<void> {
    const genesis = await this.chain.getBlockHash(0)
    if (!genesis.ok) throw new ClientError('create', 'chain_unavailable', `the genesis block: ${genesis.error.detail}`, genesis.error)
    if (genesis.value === null) throw new ClientError('create', 'chain_unavailable', 'the chain has no genesis block')
    this.genesis = genesis.value
    const tip = await this.chain.tip()
    if (!tip.ok) throw new ClientError('create', 'chain_unavailable', tip.error.detail, tip.error)
    this.height = tip.value.height
    for (const r of await loadStoredChannels(this.store)) {
      const state = r.state
      const ch = this.make(state, r.seed, true)
      // An agreed close is durable with its transaction: a crash before its broadcast went out
      // broadcasts it now, if the funding output is still unspent (host/channel/closing.ts). That
      // decides it: a closing_agreed the restored machine emits again does not broadcast twice.
      if (state.closing.signedTx !== undefined) {
        ch.closingTx = state.closing.signedTx
        const pending = await pendingClose(this.chain, state)
        if (!pending.ok) this.host.warn(`closing ${state.channelId}: funding output lookup: ${pending.error.detail}`)
        else ch.closingBroadcast = pending.value === undefined ? Promise.resolve() : this.broadcastClosing(ch, pending.value)
      }
      await ch.driver.restored()
      await ch.driver.chain({ type: 'block', height: this.height })
      // A funding we built and stored but may not have broadcast before a crash: broadcast again.
      const funding = state.setup.funding
      if (state.setup.isFunder && state.phase === 'awaiting_funding_depth' &&
        funding !== undefined) await this.broadcastFunding(funding.txid)
    }
    const follow = await this.chain.follow({ connected: async b => { await this.onBlock(b.height) } })
    if (!follow.ok) throw new ClientError('create', 'chain_unavailable', `following the chain: ${follow.error.detail}`, follow.error)
    this.stopFollow = follow.value
    await this.checkFundingDepths()
    // Splices stored before a stop: locks of ones that can no longer happen are released, signed ones
    // our node does not know go out again, and depths are fed.
    await this.splicing.resume(this.runnable())
  }

  /** The hub's chain_hash (hub_policy): accepted if it is our genesis block hash in either byte
   *  order (BOLT #2 puts it in internal order; RPC shows it reversed). */
  setChainHash (hash: string): boolean {
    const reversed = hash.match(/../g)?.reverse().join('') ?? ''
    if (hash !== this.genesis && reversed !== this.genesis) return false
    this.chainHash = hash
    return true
  }

  stop (): void { this.stopFollow?.(); this.stopFollow = undefined; this.splicing.stop() }

  /** Channels that may run: not final, not blocked (stale). */
  private runnable (): ClientChannel[] { return this.channels().filter(c => !isFinal(c.driver.state.phase) && !this.blocked.has(c)) }

  /** Resolves once splice `txid`'s broadcast was answered by our node (at once if none was made here). */
  async spliceBroadcast (txid: string): Promise<void> { await this.spliceBroadcasts.get(txid) }

  /** Starts a splice of `ch` (host/channel/splicing.ts): resolves once the channel machine took it. */
  async splice (ch: ClientChannel, wish: Exclude<SpliceWish, { kind: 'none' }>, feeratePerKw: number): Promise<Result<PlannedContribution,
  SpliceRefusal>> {
    return await this.splicing.splice(ch, wish, feeratePerKw)
  }

  /** Replaces our pending splice `txid` of `ch` at a higher feerate (host/channel/splicing.ts rbf). */
  async spliceRbf (ch: ClientChannel, txid: Txid, feeratePerKw: number): Promise<Result<Replacement, SpliceRefusal>> {
    return await this.splicing.rbf(ch, txid, feeratePerKw)
  }

  /** A stale channel (its monitor holds newer state, scenario 6) must not run: it gets no message,
   *  block or reconnection from now on; its chain monitor closes it with the newest commitment. */
  block (channelId: string): void {
    const ch = this.byId.get(channelId)
    if (ch !== undefined) this.blocked.add(ch)
  }

  private make (state: ChannelState, seed: string, stored: boolean): ClientChannel {
    const keys = channelKeys(hexToBytes(seed))
    const signer = bolt3Signer(keys.secrets)
    const ch = { keys, signer, seed } as ClientChannel
    ch.writer = new ChannelWriter(this.opts.hubId, seed, this.writes, { stored })
    ch.driver = new ChannelDriver(state, signer, this.ports(ch))
    this.all.add(ch)
    this.byId.set(state.channelId, ch)
    this.byId.set(state.temporaryChannelId, ch)
    return ch
  }

  private ports (ch: ClientChannel): DriverPorts {
    return {
      persist: req => {
        // Once the real channel id is fixed (funding_created/funding_signed), route by it too.
        if (this.byId.get(req.channelId) === undefined) this.byId.set(req.channelId, ch)
        return ch.writer.persist(req)
      },
      send: msg => {
        // funding_created fixes the real channel id (no write yet on the opener's side): route by it from now.
        if (this.byId.get(ch.driver.channelId) === undefined) this.byId.set(ch.driver.channelId, ch)
        this.host.send(msg)
      },
      broadcastFunding: txid => { void this.broadcastFunding(txid).then(() => this.checkFundingDepths()) },
      broadcastSplice: (txid, tx) => {
        this.spliceBroadcasts.set(txid, this.splicing.broadcast(ch, txid, tx).finally(() => { this.spliceBroadcasts.delete(txid) }))
      },
      disconnect: () => { this.host.disconnect() },
      emit: ev => {
        if (ev.type === 'funding_needed') { void this.fund(ch, ev.capacitySat, ev.fundingScriptPubkeys); return }
        if (ev.type === 'closing_agreed') { ch.closingTx = ev.tx; ch.closingBroadcast ??= this.broadcastClosing(ch, ev.tx) }
        this.splicing.event(ch, ev)
        this.host.event(ch, ev)
      },
      stopped: (e) => {
        this.host.warn(`channel ${ch.driver.channelId} stopped: ${String(e)}`)
        // Refused before anything of it was written (create-only): nothing to keep.
        if (e instanceof StoreConflict) this.drop(ch)
      },
      // Sign at once while the store is idle, else once per event-loop turn (sign-defer.ts).
      defer: this.signs.defer,
    }
  }

  private limits (capacitySat: number): SideLimits {
    return {
      dustLimitSat: DUST_LIMIT_SAT as Sat, maxHtlcValueInFlightMsat: (capacitySat * 1000) as Msat,
      channelReserveSat: reserveFor(capacitySat),
      htlcMinimumMsat: 1 as Msat, toSelfDelay: TO_SELF_DELAY, maxAcceptedHtlcs: MAX_ACCEPTED_HTLCS,
    }
  }

  private shutdownScript (): string { return bytesToHex(this.wallet.newAddress().script) }

  /** Opens a channel we fund from our wallet. Resolves once open_channel is sent; the channel then
   *  goes through accept/funding on its own (channel_state events). */
  async open (capacitySat: number): Promise<ClientChannel> {
    const seed = random32()
    const opened = openFromSeed({
      seed, temporaryChannelId: bytesToHex(random32()) as ChannelId, chainHash: this.chainHash, channelType: 'static_remotekey',
      fundingSat: capacitySat as Sat, pushMsat: 0 as Msat, feeratePerKw: this.opts.commitmentFeeratePerKw,
      limits: this.limits(capacitySat), policy: defaultPolicy(), localShutdownScript: this.shutdownScript(), height: this.height,
    })
    const ch = this.make(opened.step.state, bytesToHex(seed), false)
    await ch.driver.start(opened.step)
    return ch
  }

  /** The hub opens a channel to us (inbound liquidity): accept it with fresh keys. */
  private async accept (open: OpenChannel): Promise<void> {
    const seed = random32()
    const r = acceptFromSeed({
      seed, chainHash: this.chainHash, minimumDepth: this.opts.fundingConfirmations, limits: this.limits(open.funding_satoshis),
      policy: defaultPolicy(), localShutdownScript: this.shutdownScript(), height: this.height,
    }, open)
    if (!r.ok) {
      this.host.warn(`refused open_channel: ${r.error.reason}: ${r.error.detail}`)
      this.host.send({ type: 'error', channel_id: open.temporary_channel_id, data: errorText(r.error) })
      return
    }
    const ch = this.make(r.value.step.state, bytesToHex(seed), false)
    await ch.driver.start(r.value.step)
  }

  /** A message from the hub. Connection-level errors and unknown channels are reported, not fatal. */
  async receive (msg: PeerMessage): Promise<void> {
    if (msg.type === 'open_channel') return this.accept(msg)
    const id = 'channel_id' in msg ? msg.channel_id : 'temporary_channel_id' in msg ? msg.temporary_channel_id : undefined
    if (id === undefined) return
    const ch = this.byId.get(id)
    if (ch === undefined) {
      if (msg.type === 'error' || msg.type === 'warning') this.host.warn(`hub ${msg.type}: ${msg.data}`)
      return
    }
    if (this.blocked.has(ch)) return
    if (msg.type === 'funding_created' && ch.driver.state.phase === 'awaiting_funding_created') {
      // A channel id (the funding outpoint) belongs to one channel forever: never let the hub point a
      // new channel at one we know.
      const real = channelIdFromFunding(msg.funding_txid, msg.funding_output_index)
      const holder = this.byId.get(real)
      if (holder !== undefined && holder !== ch) {
        const detail = `channel_id_in_use: funding_created names ${msg.funding_txid}:${msg.funding_output_index}, the ` +
          `outpoint of channel ${real}`
        this.host.warn(`refused the hub's ${detail}`)
        this.host.send({ type: 'error', channel_id: msg.temporary_channel_id, data: detail })
        this.drop(ch)
        return
      }
    }
    if (msg.type === 'shutdown') this.shutdownFirst(ch)
    await ch.driver.peer(msg)
  }

  /** The hub starts a cooperative close (an idle close of our payout policy, hub/settlement/idle-closes.ts):
   *  our own shutdown goes first, naming host.closeScript(), so the closing transaction we sign pays our
   *  balance there whatever the hub's shutdown says (each side's output pays the script of its own
   *  shutdown). It is queued before the hub's shutdown, in the driver's input order, so no later message
   *  overtakes either. Where the channel machine cannot send a shutdown now (BOLT #2: updates of ours not
   *  signed yet; a splice in progress) it refuses the command, and the hub's shutdown is answered with
   *  the channel's own shutdown script: still ours. */
  private shutdownFirst (ch: ClientChannel): void {
    const script = this.host.closeScript?.()
    if (script === undefined || ch.driver.state.closing.localScript !== undefined) return
    if (!isAllowedShutdownScript(script)) {
      this.host.warn(`channel ${ch.driver.channelId}: our payout script is not a shutdown script; the close pays our wallet`)
      return
    }
    void ch.driver.command({ type: 'shutdown', scriptPubkey: script })
  }

  /** Forgets a channel that never stored anything (refused while being opened). */
  private drop (ch: ClientChannel): void {
    this.all.delete(ch)
    for (const [id, c] of this.byId) if (c === ch) this.byId.delete(id)
  }

  async connected (): Promise<void> {
    await Promise.all(this.channels().filter(c => !isFinal(c.driver.state.phase) && !this.blocked.has(c)).map(c => c.driver.connected()))
  }

  async disconnected (): Promise<void> {
    await Promise.all(this.channels().map(c => c.driver.disconnected()))
  }

  // ── Funding ──

  private async fund (ch: ClientChannel, capacitySat: number, pubkeys: { local: string; remote: string }): Promise<void> {
    const script = fundingScriptPubkey(hexToBytes(pubkeys.local), hexToBytes(pubkeys.remote))
    const built = this.wallet.buildTx([{ script, value: capacitySat }])
    if (!built.ok) {
      // Nothing is stored or sent yet: the opening simply ends here (openChannel rejects with this).
      ch.fundingError = built.error
      const error = channelError('insufficient_funds', `cannot fund the channel: ${JSON.stringify(built.error)}`, 'ignore')
      this.host.event(ch, { type: 'command_failed', command: 'funding_built', error })
      return
    }
    const outputIndex = parseTx(built.value.hex).outputs.findIndex(o => bytesToHex(o.script) === bytesToHex(script))
    await ch.driver.command({ type: 'funding_built', txid: built.value.txid, outputIndex })
  }

  private async broadcastFunding (txid: string): Promise<void> {
    const r = await this.wallet.broadcast(txid)
    if (!r.ok) this.host.warn(`funding broadcast ${txid}: ${JSON.stringify(r.error)}`)
  }

  private async onBlock (height: number): Promise<void> {
    this.height = Math.max(this.height, height)
    for (const c of this.channels()) {
      if (!isFinal(c.driver.state.phase) && !this.blocked.has(c)) void c.driver.chain({ type: 'block', height: this.height })
    }
    await this.checkFundingDepths()
    await this.splicing.onBlock(this.runnable())
  }

  /** Tells each channel waiting for its funding what our node shows at its funding outpoint: depth
   *  and output (the channel machine checks the output, funding-check.ts). Nothing while the node does
   *  not know the transaction. */
  async checkFundingDepths (): Promise<void> {
    for (const c of this.channels()) {
      const s = c.driver.state
      if (s.phase !== 'awaiting_funding_depth' || s.setup.funding === undefined) continue
      const r = await lookupFunding(this.chain, s.setup.funding.txid, s.setup.funding.outputIndex)
      if (r.ok && r.value !== null) await c.driver.chain(r.value)
    }
  }

  // ── Cooperative close ──

  /** BOLT #2: both closing_signed agreed: the closing tx, with both signatures, goes on-chain
   *  (host/channel/closing.ts). Both sides may broadcast it; a second broadcast is a no-op. */
  private async broadcastClosing (ch: ClientChannel, tx: SignedClosing): Promise<void> {
    if (tx.trimmedLocalSat > 0) {
      const why = `below the dust limit of ${tx.dustLimitSat} sat`
      this.host.warn(`channel ${ch.driver.channelId}: the closing transaction leaves out our ${tx.trimmedLocalSat} sat (${why})`)
    }
    const r = await broadcastClose(this.chain, tx)
    if (!r.ok) this.host.warn(`closing broadcast: ${JSON.stringify(r.error)}`)
  }

  /** A preimage any channel stored (a fulfil we learned before a crash): the preimage index
   *  (host/channel/record.ts), one point read. */
  async storedPreimage (paymentHash: string): Promise<string | undefined> {
    return await loadPreimage(this.store, paymentHash)
  }

  /** Asks the hub to close `ch` cooperatively (shutdown → closing_signed). */
  async shutdown (ch: ClientChannel): Promise<void> {
    await ch.driver.idle()
    await ch.driver.command({ type: 'shutdown' })
  }
}
