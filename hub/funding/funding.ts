// Funding: the hub pays for the channels it opens (inbound liquidity for creators and treasuries),
// broadcasts their funding transactions once the channel is stored, and tells every channel what its
// funding looks like on our node, block by block, from the chain follower.
//
// - A platform opens and funds its own channel: the hub only accepts (ChannelManager), and looks its
//   funding up here like any other. Each lookup reports the depth AND the output at the funding
//   index (host/chain/funding-output.ts): the channel machine abandons a channel whose output is
//   missing or does not pay the 2-of-2 of the funding keys exactly funding_satoshis, and sends
//   channel_ready only for the right one (protocol/channel/funding-check.ts). A txid our node does
//   not know is reported as nothing; the channel's funding deadline (fed with each block by the
//   ChannelManager) abandons it in the end, and the manager forgets it: it is no longer looked up.
// - A creator or treasury asks with `request_channel`, or a payment for it arrives and it has no
//   channel: inbound.ts decides (allow-list, budgets) and opens one of the configured size; its
//   funding_needed comes here and the hub's wallet builds it. The coins it spends are set aside until
//   the payee's funding_signed; a payee that does not send it within channels.fundingSignedTimeoutMs
//   loses the channel and the coins are free again.
// - A reorg before the funding depth is reached just lowers the depth we report; the channel machine
//   only acts once the depth is reached. A funding transaction that is final (finalityDepth) is given
//   to the wallet's chain-wipe detector: if it ever disappears, the hub stops loudly (scenario 12).
// - Zero-conf (config channels.zeroConf, off by default): for a hub-funded channel whose payee asked
//   for minimum_depth 0 in accept_channel, the channel's policy lets our own funding tx count from the
//   mempool, so it is looked up right after the broadcast. The payee's side must opt in the same way
//   (its own depth check).
import { hexToBytes, type Txid } from '../../protocol/types.ts'
import { fundingScriptPubkey } from '../../protocol/tx/index.ts'
import type { ChannelEvent } from '../../protocol/channel/index.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import { fundingEvent, lookupFunding } from '../../host/chain/funding-output.ts'
import type { HubConfig } from '../config.ts'
import type { Wallet } from '../../host/wallet/wallet.ts'
import type { ChannelListener, ChannelManager, ManagedChannel } from '../channels/manager.ts'

export interface FundingOptions {
  manager: ChannelManager
  wallet: Wallet
  chain: Pick<ChainBackend, 'getRawTransaction' | 'getTxOut'>
  config: HubConfig
  log: (event: Record<string, unknown>) => void
}

/** Node lookups in flight at once (a restart may watch many fundings). */
const LOOKUPS_IN_FLIGHT = 16

export class Funding implements ChannelListener {
  /** Funding txs the wallet built for channels not yet stored: released if the channel is forgotten. */
  private readonly built = new Map<ManagedChannel, Txid>()
  /** The funding_signed deadline of each channel in `built` (awaitSignature). */
  private readonly signatureDeadlines = new Map<ManagedChannel, ReturnType<typeof setTimeout>>()
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
    this.awaitSignature(ch)
    // The wallet lists the payments first: the funding output is output 0.
    void ch.driver.command({ type: 'funding_built', txid: tx.value.txid, outputIndex: 0 })
  }

  /** The peer signs our funding (funding_signed) within channels.fundingSignedTimeoutMs, or the channel
   *  is refused and forgotten and its coins released (forgotten(), below): a peer that never answers
   *  must not hold the coins set aside for a funding that may never be broadcast (protocol/limits.ts
   *  DEFAULT_FUNDING_SIGNED_TIMEOUT_MS). Nothing of the channel is stored or broadcast before
   *  funding_signed, so forgetting it is all there is to do. */
  private awaitSignature (ch: ManagedChannel): void {
    const ms = this.opts.config.channels.fundingSignedTimeoutMs
    const timer = setTimeout(() => {
      this.signatureDeadlines.delete(ch)
      // funding_signed arrived and its write is under way: the channel is the peer's to keep.
      if (!this.built.has(ch) || ch.state.localCommit !== undefined) return
      this.opts.log({ event: 'funding_signed_timeout', peer: ch.peer, channel_id: ch.channelId, ms })
      this.opts.manager.refuse(ch, `funding_timeout: no funding_signed within ${ms} ms; the channel is forgotten`)
    }, ms)
    timer.unref()
    this.signatureDeadlines.set(ch, timer)
  }

  private dropDeadline (ch: ManagedChannel): void {
    clearTimeout(this.signatureDeadlines.get(ch))
    this.signatureDeadlines.delete(ch)
  }

  broadcastFunding (ch: ManagedChannel, txid: Txid): void {
    this.dropDeadline(ch)
    this.built.delete(ch)
    void this.broadcast(ch, txid)
  }

  private async broadcast (ch: ManagedChannel, txid: Txid): Promise<void> {
    const r = await this.opts.wallet.broadcast(txid)
    this.opts.log({
      event: 'funding_broadcast', peer: ch.peer, channel_id: ch.channelId, txid, ok: r.ok, ...(r.ok ? {} : { error: r.error })
    })
    const s = ch.driver.state
    // Zero-conf (the channel's policy and the payee's minimum_depth 0): our own transaction counts
    // from the mempool; the channel machine decides from what the node shows.
    if (r.ok && s.policy.zeroConfOwnFunding && s.setup.minimumDepth === 0 && s.phase === 'awaiting_funding_depth' &&
      s.setup.funding !== undefined) {
      const seen = await lookupFunding(this.opts.chain, s.setup.funding.txid, s.setup.funding.outputIndex)
      if (seen.ok && seen.value !== null) await ch.driver.chain(seen.value)
    }
  }

  forgotten (ch: ManagedChannel): void {
    this.dropDeadline(ch)
    const txid = this.built.get(ch)
    if (txid !== undefined) { this.built.delete(ch); this.opts.wallet.release(txid) }
  }

  /** After a restart: a funding tx stored but maybe never broadcast (crash in between) goes out again. */
  async rebroadcastPending (): Promise<void> {
    for (const ch of this.opts.manager.all()) {
      const s = ch.state
      if (s.setup.isFunder && s.phase === 'awaiting_funding_depth' && s.setup.funding !== undefined) await this.broadcast(
        ch, s.setup.funding.txid,
      )
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

  /** A block was connected (or the chain changed): report each funding tx's depth and output to its
   *  channels. */
  async onBlock (): Promise<void> {
    const finality = this.opts.config.channels.finalityDepth
    // One getrawtransaction per funding transaction (a batch transaction funds many channels), and one
    // gettxout per channel still waiting for its funding.
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
        // The node is busy (the next block asks again), or knows no such transaction (yet): nothing
        // to report; a funding that never comes meets its deadline.
        if (!r.ok || r.value === null) continue
        const found = r.value
        const channels = watched.get(txid)!
        for (const ch of channels) {
          const s = ch.state
          if (s.phase !== 'awaiting_funding_depth') continue
          const ev = await fundingEvent(this.opts.chain, found, s.setup.funding!.outputIndex)
          if (ev.ok) await ch.driver.chain(ev.value)
        }
        // Only a funding some channel kept (an abandoned one is nothing of ours).
        if (found.confirmations >= finality && !this.final.has(txid) && channels.some(ch => ch.state.phase !== 'abandoned')) {
          this.final.add(txid)
          this.opts.wallet.addFinalTx(txid)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(LOOKUPS_IN_FLIGHT, txids.length) }, worker))
  }
}
