// Cooperative close, on-chain, at the hub: once both sides signed the same closing_signed fee
// (`closing_agreed`, which carries the closing transaction with both signatures), the hub broadcasts it
// (host/channel/closing.ts). After a restart, a channel whose agreed close may not be out yet
// broadcasts it again (resume). The record of a close says what that transaction pays: an output
// below the dust limit is not in it (BOLT #3), its balance goes to the miners, and the record says so
// instead of the balances before.
import type { ChannelEvent, SignedClosing } from '../../protocol/channel/index.ts'
import type { Txid } from '../../protocol/types.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import { broadcastClose, pendingClose } from '../../host/channel/closing.ts'
import type { ChannelListener, ManagedChannel } from './manager.ts'

export interface ClosedChannel {
  channelId: string
  peer: string
  closingTxid: Txid
  /** What the transaction pays the hub and the peer (0: no output, its balance was dust). */
  toLocalSat: number
  toRemoteSat: number
  /** What it pays the miners: the capacity minus its outputs (the agreed fee, the msat both outputs
   *  round away, and any balance trimmed as dust). */
  feeSat: number
  /** fee_satoshis both closing_signed agreed on. */
  agreedFeeSat: number
  /** Balances left out as dust, by side. */
  trimmedLocalSat: number
  trimmedRemoteSat: number
}

export class CloseBroadcaster implements ChannelListener {
  readonly closed = new Map<string, ClosedChannel>()

  constructor (
    private readonly chain: Pick<ChainBackend, 'broadcast' | 'getTxOut'>,
    private readonly log: (e: Record<string, unknown>) => void,
  ) {}

  event (ch: Pick<ManagedChannel, 'channelId' | 'peer'>, e: ChannelEvent): void {
    // A closing_agreed a restored channel emits again, for a close already out: nothing to do.
    if (e.type !== 'closing_agreed' || this.closed.get(ch.channelId)?.closingTxid === e.tx.txid) return
    void this.broadcast(ch, e.tx)
  }

  /** After a restart: broadcasts the agreed closing transaction of every channel whose funding output
   *  is still unspent (a crash came between the agreement and the broadcast). */
  async resume (channels: ReadonlyArray<Pick<ManagedChannel, 'channelId' | 'peer' | 'state'>>): Promise<void> {
    for (const ch of channels) {
      const pending = await pendingClose(this.chain, ch.state)
      if (pending.ok) {
        if (pending.value !== undefined) await this.broadcast(ch, pending.value)
      } else {
        this.log({ event: 'closing_not_broadcast', channel_id: ch.channelId, detail: `funding output lookup: ${pending.error.detail}` })
      }
    }
  }

  private async broadcast (ch: Pick<ManagedChannel, 'channelId' | 'peer'>, tx: SignedClosing): Promise<void> {
    const id = ch.channelId
    const r = await broadcastClose(this.chain, tx)
    this.log({
      event: 'closing_broadcast', channel_id: id, peer: ch.peer, ok: r.ok, txid: tx.txid, fee_sat: tx.agreedFeeSat,
      ...(r.ok ? {} : { error: r.error }),
    })
    if (!r.ok) return
    this.closed.set(id, {
      channelId: id, peer: ch.peer, closingTxid: tx.txid, toLocalSat: tx.localSat, toRemoteSat: tx.remoteSat,
      feeSat: tx.feeSat, agreedFeeSat: tx.agreedFeeSat, trimmedLocalSat: tx.trimmedLocalSat, trimmedRemoteSat: tx.trimmedRemoteSat,
    })
    if (tx.trimmedLocalSat > 0 || tx.trimmedRemoteSat > 0) {
      this.log({
        event: 'closing_trimmed_dust', channel_id: id, peer: ch.peer,
        trimmed_local_sat: tx.trimmedLocalSat, trimmed_remote_sat: tx.trimmedRemoteSat, dust_limit_sat: tx.dustLimitSat,
      })
    }
  }
}
