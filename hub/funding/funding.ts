// Funding: the hub pays for the channels it opens (inbound liquidity for creators and treasuries),
// broadcasts their funding transactions once the channel is stored, and tells every channel how deep
// its funding transaction is, block by block, from the chain follower.
//
// - A platform opens and funds its own channel: the hub only accepts (ChannelManager), and watches
//   the depth here like any other.
// - A creator or treasury asks with `request_channel`, or a payment for it arrives and it has no
//   channel (router → ensureChannel): the hub opens one of the configured size with its wallet.
// - A reorg before the funding depth is reached just lowers the depth we report; the channel machine
//   only acts once the depth is reached. A funding transaction that is final (finalityDepth) is given
//   to the wallet's chain-wipe detector: if it ever disappears, the hub stops loudly (scenario 12).
// - Zero-conf (config channels.zeroConf, off by default): for a hub-funded channel whose payee asked
//   for minimum_depth 0 in accept_channel, the hub sends channel_ready as soon as its funding tx is
//   broadcast. The payee's side must opt in the same way (its own depth check).
import { hexToBytes, type NodeId, type Txid } from '../../protocol/types.ts'
import { fundingScriptPubkey } from '../../protocol/tx/index.ts'
import type { ChannelEvent } from '../../protocol/channel/index.ts'
import type { RequestChannel } from '../../protocol/wire/index.ts'
import type { ChainBackend } from '../chain/backend.ts'
import type { HubConfig } from '../config.ts'
import type { Wallet } from '../wallet/wallet.ts'
import type { ChannelListener, ChannelManager, ManagedChannel } from '../channels/manager.ts'

export interface FundingOptions {
  manager: ChannelManager
  wallet: Wallet
  chain: Pick<ChainBackend, 'getRawTransaction'>
  config: HubConfig
  log: (event: Record<string, unknown>) => void
}

export class Funding implements ChannelListener {
  /** Funding txs the wallet built for channels not yet stored: released if the channel is forgotten. */
  private readonly built = new Map<ManagedChannel, Txid>()
  private readonly final = new Set<string>()

  constructor (private readonly opts: FundingOptions) {}

  event (ch: ManagedChannel, e: ChannelEvent): void {
    if (e.type === 'funding_needed') this.buildFunding(ch, e)
  }

  private buildFunding (ch: ManagedChannel, e: Extract<ChannelEvent, { type: 'funding_needed' }>): void {
    const script = fundingScriptPubkey(hexToBytes(e.fundingScriptPubkeys.local), hexToBytes(e.fundingScriptPubkeys.remote))
    const tx = this.opts.wallet.buildTx([{ script, value: e.capacitySat }])
    if (!tx.ok) {
      this.opts.log({ event: 'funding_failed', peer: ch.peer, error: tx.error })
      this.opts.manager.refuse(ch, `temporary_node_failure: the hub cannot fund this channel now (${tx.error.kind})`)
      this.opts.manager.tell(ch.peer, `request_channel refused: the hub cannot fund a channel now (${tx.error.kind})`)
      return
    }
    this.built.set(ch, tx.value.txid)
    // The wallet lists the payments first: the funding output is output 0.
    void ch.driver.command({ type: 'funding_built', txid: tx.value.txid, outputIndex: 0 })
  }

  broadcastFunding (ch: ManagedChannel, txid: Txid): void {
    this.built.delete(ch)
    void this.broadcast(ch, txid)
  }

  private async broadcast (ch: ManagedChannel, txid: Txid): Promise<void> {
    const r = await this.opts.wallet.broadcast(txid)
    this.opts.log({ event: 'funding_broadcast', peer: ch.peer, channel_id: ch.channelId, txid, ok: r.ok, ...(r.ok ? {} : { error: r.error }) })
    const s = ch.driver.state
    if (r.ok && this.opts.config.channels.zeroConf && s.setup.isFunder && s.setup.minimumDepth === 0 && s.phase === 'awaiting_funding_depth') {
      // Zero-conf (the payee asked for minimum_depth 0): our own transaction, in the mempool, counts.
      await ch.driver.chain({ type: 'funding_depth', depth: 1 })
    }
  }

  forgotten (ch: ManagedChannel): void {
    const txid = this.built.get(ch)
    if (txid !== undefined) { this.built.delete(ch); this.opts.wallet.release(txid) }
  }

  requestChannel (peer: NodeId, msg: RequestChannel): void {
    const size = Math.min(msg.funding_satoshis ?? this.opts.config.channels.fundingSat, this.opts.config.channels.fundingSat)
    void this.ensureChannel(peer, size).then(r => {
      // A connection-level error (channel_id 0): the request itself was refused.
      if ('error' in r) this.opts.manager.tell(peer, `request_channel refused: ${r.error}`)
    })
  }

  /** Opens a hub-funded channel to `peer` unless it already has one usable or on its way. */
  async ensureChannel (peer: NodeId, fundingSat = this.opts.config.channels.fundingSat): Promise<ManagedChannel | { error: string }> {
    const existing = this.opts.manager.channelsOf(peer).find(c => c.state.setup.isFunder && ['awaiting_accept', 'awaiting_funding_tx', 'awaiting_funding_signed', 'awaiting_funding_depth', 'normal'].includes(c.state.phase))
    if (existing !== undefined) return existing
    return await this.opts.manager.openTo(peer, fundingSat)
  }

  /** After a restart: a funding tx stored but maybe never broadcast (crash in between) goes out again. */
  async rebroadcastPending (): Promise<void> {
    for (const ch of this.opts.manager.all()) {
      const s = ch.state
      if (s.setup.isFunder && s.phase === 'awaiting_funding_depth' && s.setup.funding !== undefined) await this.broadcast(ch, s.setup.funding.txid)
    }
  }

  /** After a restart: funding transactions already `finalityDepth` deep by the chain monitor's count
   *  (it knows each funding's confirmation height) need no more depth checks: one node RPC per
   *  channel per block would not scale to thousands of channels. The wallet keeps the final txids it
   *  was given in its own state. */
  markFinal (fundingHeight: (channelId: string) => number | undefined, height: number): void {
    const finality = this.opts.config.channels.finalityDepth
    for (const ch of this.opts.manager.all()) {
      const s = ch.state
      const f = s.setup.funding
      if (f === undefined || s.localCommit === undefined || s.phase === 'awaiting_funding_depth') continue
      const h = fundingHeight(ch.channelId)
      if (h !== undefined && h > 0 && height - h + 1 >= finality) this.final.add(f.txid)
    }
  }

  /** A block was connected (or the chain changed): report each funding tx's depth to its channel. */
  async onBlock (): Promise<void> {
    const finality = this.opts.config.channels.finalityDepth
    // One node RPC per funding transaction (a batch transaction funds many channels).
    const watched = new Map<string, ManagedChannel[]>()
    for (const ch of this.opts.manager.all()) {
      const s = ch.state
      const f = s.setup.funding
      if (f === undefined || s.localCommit === undefined || !(s.phase === 'awaiting_funding_depth' || !this.final.has(f.txid))) continue
      const list = watched.get(f.txid)
      if (list === undefined) watched.set(f.txid, [ch]); else list.push(ch)
    }
    const txids = [...watched.keys()]
    // A bounded number of node RPCs at a time (a restart may watch many).
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < txids.length) {
        const txid = txids[next++]!
        const r = await this.opts.chain.getRawTransaction(txid)
        if (!r.ok) continue // the node is busy; the next block asks again
        const depth = r.value?.confirmations ?? 0
        for (const ch of watched.get(txid)!) if (ch.state.phase === 'awaiting_funding_depth') await ch.driver.chain({ type: 'funding_depth', depth })
        if (depth >= finality && !this.final.has(txid)) {
          this.final.add(txid)
          this.opts.wallet.addFinalTx(txid)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(16, txids.length) }, worker))
  }
}
