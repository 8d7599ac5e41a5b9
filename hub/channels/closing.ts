// Cooperative close, on-chain: once both sides signed the same closing_signed fee (`closing_agreed`),
// the hub builds the BOLT #3 closing transaction with both signatures and broadcasts it. The peer may
// broadcast the same transaction; whoever is second gets "already in mempool/chain", which is success.
// The record of a close says what that transaction pays: an output below the dust limit is not in it
// (BOLT #3), its balance goes to the miners, and the record says so instead of the balances before.
import type { ChannelEvent } from '../../protocol/channel/index.ts'
import { channelKeys } from '../../protocol/keys/channel.ts'
import { buildClosingTx, closingAmounts, finalizeFundingSpend, fundingOutput, signFundingSpend, txHex, txid as txidOf, verifyFundingSpend } from '../../protocol/tx/index.ts'
import { hexToBytes, type Sat, type Txid } from '../../protocol/types.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
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

  constructor (private readonly chain: Pick<ChainBackend, 'broadcast'>, private readonly log: (e: Record<string, unknown>) => void) {}

  event (ch: ManagedChannel, e: ChannelEvent): void {
    if (e.type !== 'closing_agreed') return
    void this.broadcast(ch, e.feeSat)
  }

  private async broadcast (ch: ManagedChannel, feeSat: Sat): Promise<void> {
    const s = ch.driver.state
    const theirs = ch.remoteClosing
    if (theirs === undefined || theirs.feeSat !== feeSat || s.setup.funding === undefined || s.setup.remote === undefined || s.localCommit === undefined) {
      this.log({ event: 'closing_not_broadcast', channel_id: s.channelId, detail: 'no peer signature for the agreed fee (the peer broadcasts it)' })
      return
    }
    const keys = channelKeys(hexToBytes(ch.seed))
    const localPub = hexToBytes(s.setup.local.fundingPubkey)
    const remotePub = hexToBytes(s.setup.remote.fundingPubkey)
    const funding = fundingOutput(s.setup.funding.txid, s.setup.funding.outputIndex, s.setup.capacitySat, localPub, remotePub)
    const sig = hexToBytes(theirs.signature)
    // BOLT #2: the peer signed the variant without outputs below *its* dust limit; try both.
    for (const dust of [s.setup.remote.dustLimitSat, s.setup.local.dustLimitSat]) {
      const built = buildClosingTx({
        funding, localScript: hexToBytes(s.closing.localScript!), remoteScript: hexToBytes(s.closing.remoteScript!),
        localMsat: s.localCommit.spec.toLocalMsat, remoteMsat: s.localCommit.spec.toRemoteMsat, feeSat,
        localIsOpener: s.setup.isFunder, dustLimitSat: dust,
      })
      if (!verifyFundingSpend(built.tx, funding, sig, remotePub)) continue
      const ours = signFundingSpend(built.tx, funding, keys.secrets.fundingPrivkey)
      const tx = finalizeFundingSpend(built.tx, funding, { pubkey: localPub, sig64: ours }, { pubkey: remotePub, sig64: sig })
      const r = await this.chain.broadcast(txHex(tx))
      const alreadyOut = !r.ok && r.error.kind === 'rejected' && (r.error.reason === 'already_in_mempool' || r.error.reason === 'already_in_chain')
      const txidHex = r.ok ? r.value : undefined
      this.log({ event: 'closing_broadcast', channel_id: s.channelId, peer: ch.peer, ok: r.ok || alreadyOut, txid: txidHex, fee_sat: feeSat, ...(r.ok || alreadyOut ? {} : { error: r.error }) })
      if (txidHex !== undefined || alreadyOut) {
        const a = closingAmounts({ localMsat: s.localCommit.spec.toLocalMsat, remoteMsat: s.localCommit.spec.toRemoteMsat, feeSat, localIsOpener: s.setup.isFunder, dustLimitSat: dust })
        const paid = (vout: number | undefined): number => vout === undefined ? 0 : built.tx.outputs[vout]!.valueSat
        const toLocalSat = paid(built.localVout)
        const toRemoteSat = paid(built.remoteVout)
        this.closed.set(s.channelId, {
          channelId: s.channelId, peer: ch.peer, closingTxid: txidOf(tx), toLocalSat, toRemoteSat,
          feeSat: s.setup.capacitySat - toLocalSat - toRemoteSat, agreedFeeSat: feeSat, trimmedLocalSat: a.trimmedLocalSat, trimmedRemoteSat: a.trimmedRemoteSat,
        })
        if (a.trimmedLocalSat > 0 || a.trimmedRemoteSat > 0) {
          this.log({ event: 'closing_trimmed_dust', channel_id: s.channelId, peer: ch.peer, trimmed_local_sat: a.trimmedLocalSat, trimmed_remote_sat: a.trimmedRemoteSat, dust_limit_sat: dust })
        }
      }
      return
    }
    this.log({ event: 'closing_not_broadcast', channel_id: s.channelId, detail: 'the peer signature matches no closing transaction variant' })
  }
}
