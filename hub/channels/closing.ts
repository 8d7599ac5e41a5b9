// Cooperative close, on-chain: once both sides signed the same closing_signed fee (`closing_agreed`),
// the hub builds the BOLT #3 closing transaction with both signatures and broadcasts it. The peer may
// broadcast the same transaction; whoever is second gets "already in mempool/chain", which is success.
import type { ChannelEvent } from '../../protocol/channel/index.ts'
import { channelKeys } from '../../protocol/driver/index.ts'
import { buildClosingTx, finalizeFundingSpend, fundingOutput, signFundingSpend, txHex, txid as txidOf, verifyFundingSpend } from '../../protocol/tx/index.ts'
import { hexToBytes, type Sat, type Txid } from '../../protocol/types.ts'
import type { ChainBackend } from '../chain/backend.ts'
import type { ChannelListener, ManagedChannel } from './manager.ts'

export interface ClosedChannel { channelId: string; peer: string; closingTxid: Txid; feeSat: number; toLocalSat: number; toRemoteSat: number }

export class CloseBroadcaster implements ChannelListener {
  readonly closed = new Map<string, ClosedChannel>()

  constructor (private readonly chain: Pick<ChainBackend, 'broadcast'>, private readonly log: (e: Record<string, unknown>) => void) {}

  event (ch: ManagedChannel, e: ChannelEvent): void {
    if (e.type !== 'closing_agreed') return
    void this.broadcast(ch, e.feeSat, e.toLocalSat, e.toRemoteSat)
  }

  private async broadcast (ch: ManagedChannel, feeSat: Sat, toLocalSat: number, toRemoteSat: number): Promise<void> {
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
        this.closed.set(s.channelId, { channelId: s.channelId, peer: ch.peer, closingTxid: txidOf(tx), feeSat, toLocalSat, toRemoteSat })
      }
      return
    }
    this.log({ event: 'closing_not_broadcast', channel_id: s.channelId, detail: 'the peer signature matches no closing transaction variant' })
  }
}
