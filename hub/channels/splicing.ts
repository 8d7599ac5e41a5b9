// Splicing at the hub (BOLT #2 "Channel Splicing"; the host side is host/channel/splicing.ts, the same
// code the SDK runs):
//
// - A peer's splice (a creator's splice-out to an on-chain payout, a platform's splice-in) is accepted
//   with contribution 0 within config.splices (acceptFromPeers, maxPeerSpliceInSat): it costs the hub
//   no coins, the peer's balance pays the payout and the fee, and the channel machine checks every rule
//   (balances, reserves, feerate, the transaction's inputs and outputs) before anything is signed.
// - A top-up: the hub splices its own wallet funds into its side of a channel (admin POST
//   /channels/splice-in, or config.splices.autoTopUp when the hub's balance in a payee's channel falls
//   below a floor), so a creator whose inbound is used up keeps receiving without a new channel. A
//   top-up not confirmed yet can be replaced at a higher feerate (admin POST /channels/splice-rbf).
// - Each block: every pending candidate's depth on our node (splice_locked at
//   config.splices.minimumDepth), and a signed candidate our node does not know is broadcast again.
//
// What the hub saw of each splice is kept for the admin API (GET /splices) while the hub runs.
import type { ChannelEvent } from '../../protocol/channel/index.ts'
import { quiescence } from '../../protocol/channel/index.ts'
import type { NodeId, Sat, Txid } from '../../protocol/types.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import {
  Splicing, refusalText, type PlannedContribution, type SpliceAnswer, type SpliceProgress, type SpliceRefusal, type SpliceRequest,
} from '../../host/channel/index.ts'
import type { Result } from '../../protocol/result.ts'
import type { Wallet } from '../../host/wallet/wallet.ts'
import type { HubConfig } from '../config.ts'
import type { ChannelListener, ChannelManager, ManagedChannel } from './manager.ts'
import { isBatchSession } from '../settlement/session-command.ts'

export interface HubSplicingOptions {
  manager: Pick<ChannelManager, 'all' | 'get'>
  wallet: Wallet
  chain: Pick<ChainBackend, 'broadcast' | 'getRawTransaction' | 'getTxOut' | 'getBlock' | 'tip'>
  config: HubConfig
  /** The hub id `peer` authenticated the hub under (during a node-key rotation, either key). */
  hubIdFor: (peer: NodeId) => NodeId
  log: (event: Record<string, unknown>) => void
}

/** A splice the hub took part in, as the admin API shows it ("local" is the hub's side). */
export interface HubSplice {
  channelId: string
  peer: NodeId
  /** out: the peer paid itself on-chain; in: the peer added funds; topup: the hub added funds. */
  kind: 'out' | 'in' | 'topup'
  txid: Txid
  /** The payout (out), or what was added (in, topup). */
  amountSat: number
  /** What its initiator paid the miners. */
  feeSat: number
  capacitySat: Sat
  depth: number
  /** Both sides signed it. */
  signed: boolean
  locked: boolean
  /** Another signed transaction of the same splice (an RBF replacement, or the original it replaced)
   *  locked instead: this one never will. */
  replacedBy?: Txid
  /** Why it was dropped unconfirmed: an input of it is spent elsewhere (the peer double-spent the coin
   *  it contributed, or a batch's other channel closed), so it can never confirm. */
  droppedBecause?: string
}

export type TopUpOutcome =
  | { status: 200; body: { channel_id: string; txid: Txid; amount_sat: number; fee_sat: number; capacity_sat: number } }
  | { status: 400 | 404 | 409 | 504; body: { error: string } }

type Waiter = (p: Extract<SpliceProgress, { kind: 'signed' | 'aborted' }>) => void

export class HubSplicing implements ChannelListener {
  readonly splicing: Splicing<ManagedChannel>
  /** Splices negotiated since the hub started, by channel and txid (a payout batch is one transaction
   *  of many channels: one entry each). */
  readonly splices = new Map<string, HubSplice>()
  /** Channels with a top-up of ours under way. */
  private readonly toppingUp = new Set<ManagedChannel>()
  private readonly waiters = new Map<ManagedChannel, Waiter>()
  /** Each splice transaction's broadcast, once handed to our node (a top-up answers after it). */
  private readonly broadcasts = new Map<Txid, Promise<void>>()

  constructor (private readonly opts: HubSplicingOptions) {
    this.splicing = new Splicing<ManagedChannel>({
      chain: opts.chain, wallet: opts.wallet, finalityDepth: opts.config.channels.finalityDepth, localNodeId: ch => opts.hubIdFor(ch.peer),
      remoteNodeId: ch => ch.peer,
      respond: (ch, req) => this.respond(ch, req),
      progress: (ch, p) => { this.progress(ch, p) },
      log: opts.log,
    })
  }

  event (ch: ManagedChannel, e: ChannelEvent): void {
    // A payout batch's inputs are the other channels' funding outputs: the settlement coordinator
    // signs them (hub/settlement/coordinator.ts), the wallet has nothing to sign.
    if (e.type === 'splice_sign_inputs' && isBatchSession(ch)) return
    this.splicing.event(ch, e)
  }

  broadcastSplice (ch: ManagedChannel, txid: Txid, tx: string): void {
    const done = this.splicing.broadcast(ch, txid, tx).finally(() => { this.broadcasts.delete(txid) })
    this.broadcasts.set(txid, done)
  }

  /** A block: depths of pending splices, then the automatic top-ups. */
  async onBlock (): Promise<void> {
    await this.splicing.onBlock(this.opts.manager.all().filter(ch => (ch.state.splice?.candidates.length ?? 0) > 0))
    this.autoTopUp()
  }

  /** After a restart: splices stored with their channels go on (broadcast, depths), and wallet locks of
   *  splices that can no longer happen are released. Only channels with a splice or a lock are looked at
   *  (their drivers are built; the others stay as loaded). */
  async resume (): Promise<void> {
    const locked = new Set(this.opts.wallet.pendingTxs().flatMap(p => p.inputs))
    await this.splicing.resume(this.opts.manager.all().filter(ch => {
      const f = ch.state.setup.funding
      return (ch.state.splice?.candidates.length ?? 0) > 0 || (f !== undefined && locked.has(`${f.txid}:${f.outputIndex}`))
    }))
  }

  stop (): void { this.splicing.stop() }

  /** The hub's policy on a peer's splice: take part with nothing, within the configured bounds. */
  private respond (ch: ManagedChannel, req: SpliceRequest): SpliceAnswer {
    const c = this.opts.config.splices
    if (!c.acceptFromPeers) return { accept: false, reason: 'the hub takes no splices' }
    if (req.remoteContributionSat > c.maxPeerSpliceInSat) {
      return { accept: false, reason: `a splice-in of ${req.remoteContributionSat} sat is above the hub's ${c.maxPeerSpliceInSat} sat` }
    }
    this.opts.log({
      event: 'splice_accepted', channel_id: ch.channelId, peer: ch.peer, contribution_sat: req.remoteContributionSat, rbf: req.rbf,
    })
    return { accept: true }
  }

  /** Splices `amountSat` of the hub's wallet into its side of `channelId`; answers once both sides
   *  signed and our node answered the broadcast (or why not). */
  async topUp (channelId: string, amountSat: number): Promise<TopUpOutcome> {
    const c = this.opts.config.splices
    const ch = this.opts.manager.get(channelId)
    if (ch === undefined) return { status: 404, body: { error: `channel_id: unknown channel ${channelId}` } }
    if (amountSat > c.maxTopUpSat) return { status: 400, body: { error: `amount_sat: at most splices.maxTopUpSat = ${c.maxTopUpSat}` } }
    return await this.untilSigned(ch, async () => {
      const r = await this.splicing.splice(ch, { kind: 'in', amountSat }, c.feeratePerKw)
      return r.ok ? { ok: true, value: { ...r.value, amountSat } } : r
    })
  }

  /** Replaces the hub's pending top-up `txid` of `channelId` by one at `feeratePerKw` (BOLT #2
   *  tx_init_rbf): the same coins and amount, the higher fee paid by the hub's wallet. Answers as topUp;
   *  404 when the channel does not have `txid` pending, 409 when the machine refuses (a feerate below
   *  25/24 of the replaced one's, a splice of the peer's, one we sent splice_locked for). */
  async topUpRbf (channelId: string, txid: Txid, feeratePerKw: number): Promise<TopUpOutcome> {
    const ch = this.opts.manager.get(channelId)
    if (ch === undefined) return { status: 404, body: { error: `channel_id: unknown channel ${channelId}` } }
    if (ch.state.splice?.candidates.some(x => x.txid === txid) !== true) {
      return { status: 404, body: { error: `txid: channel ${channelId} has no pending splice ${txid} (signed and not locked)` } }
    }
    return await this.untilSigned(ch, async () => await this.splicing.rbf(ch, txid, feeratePerKw))
  }

  /** Starts a top-up (or its RBF) with `start` and waits for both signatures and the broadcast. */
  private async untilSigned (
    ch: ManagedChannel, start: () => Promise<Result<PlannedContribution & { amountSat: number }, SpliceRefusal>>,
  ): Promise<TopUpOutcome> {
    const c = this.opts.config.splices
    if (this.waiters.has(ch)) return { status: 409, body: { error: 'a top-up of this channel is already under way' } }
    const outcome = new Promise<Parameters<Waiter>[0] | 'timeout'>(resolve => {
      const timer = setTimeout(() => { this.waiters.delete(ch); resolve('timeout') }, c.topUpTimeoutMs)
      this.waiters.set(ch, p => { clearTimeout(timer); this.waiters.delete(ch); resolve(p) })
    })
    this.toppingUp.add(ch)
    const started = await start()
    if (!started.ok) {
      this.toppingUp.delete(ch)
      this.waiters.get(ch)?.({ kind: 'aborted', reason: '', byPeer: false })
      return { status: 409, body: { error: refusalText(started.error) } }
    }
    const p = await outcome
    if (p === 'timeout') return {
      status: 504, body: { error: `no signed splice within ${c.topUpTimeoutMs} ms: the top-up goes on if the peer answers` },
    }
    if (p.kind === 'aborted') return { status: 409, body: { error: `the splice ended: ${p.reason}` } }
    await this.broadcasts.get(p.txid)
    const s = this.splices.get(spliceKey(ch, p.txid))
    return {
      status: 200,
      body: {
        channel_id: ch.channelId, txid: p.txid, amount_sat: started.value.amountSat, fee_sat: s?.feeSat ?? started.value.feeSat,
        capacity_sat: s?.capacitySat ?? ch.state.setup.capacitySat,
      },
    }
  }

  /** config.splices.autoTopUp: payee channels where the hub's balance fell below the floor get a top-up
   *  (one at a time per channel, only while nothing else is spliced on it). */
  private autoTopUp (): void {
    const auto = this.opts.config.splices.autoTopUp
    if (auto === undefined) return
    for (const ch of this.opts.manager.all()) {
      const s = ch.state
      if (!s.setup.isFunder || s.phase !== 'normal' || s.link !== 'up' || this.toppingUp.has(ch)) continue
      if (auto.peers !== undefined && !auto.peers.includes(ch.peer)) continue
      if ((s.splice?.candidates.length ?? 0) > 0 || quiescence(s) !== 'none') continue
      const balanceSat = Math.floor((s.localCommit?.spec.toLocalMsat ?? 0) / 1000)
      if (balanceSat >= auto.belowSat) continue
      this.opts.log({ event: 'auto_top_up', channel_id: ch.channelId, peer: ch.peer, balance_sat: balanceSat, amount_sat: auto.amountSat })
      void this.topUp(ch.channelId, auto.amountSat).then(r => {
        if (r.status !== 200) this.opts.log({
          event: 'auto_top_up_failed', channel_id: ch.channelId, status: r.status, error: r.body.error,
        })
      })
    }
  }

  private progress (ch: ManagedChannel, p: SpliceProgress): void {
    switch (p.kind) {
      case 'negotiated': {
        const ours = this.toppingUp.has(ch)
        const theirs = p.contributionSat.remote
        this.splices.set(spliceKey(ch, p.txid), {
          channelId: ch.channelId, peer: ch.peer, kind: ours ? 'topup' : theirs < 0 ? 'out' : 'in', txid: p.txid,
          amountSat: ours ? p.contributionSat.local : theirs < 0 ? -theirs - p.feeSat.remote : theirs,
          feeSat: ours ? p.feeSat.local : p.feeSat.remote, capacitySat: p.capacitySat, depth: 0, signed: false, locked: false,
        })
        return
      }
      case 'signed': {
        const s = this.splices.get(spliceKey(ch, p.txid))
        if (s !== undefined) s.signed = true
        this.toppingUp.delete(ch); this.waiters.get(ch)?.(p); return
      }
      case 'aborted': this.toppingUp.delete(ch); this.waiters.get(ch)?.(p); return
      case 'confirmed': { const s = this.splices.get(spliceKey(ch, p.txid)); if (s !== undefined) s.depth = p.depth; return }
      case 'locked': {
        const s = this.splices.get(spliceKey(ch, p.txid))
        if (s !== undefined) s.locked = true
        // One splice at a time: every other signed, unlocked transaction of this channel spends the same
        // funding output (an RBF family), and can no longer confirm.
        for (const o of this.splices.values()) {
          if (o.channelId === ch.channelId && o.txid !== p.txid && o.signed && !o.locked &&
            o.replacedBy === undefined) o.replacedBy = p.txid
        }
        return
      }
      case 'dropped': { const s = this.splices.get(spliceKey(ch, p.txid)); if (s !== undefined) s.droppedBecause = p.reason; return }
      case 'broadcast': return
    }
  }
}

const spliceKey = (ch: ManagedChannel, txid: Txid): string => `${ch.channelId}:${txid}`
