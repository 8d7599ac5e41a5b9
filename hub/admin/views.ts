// What the admin API shows (its GET routes, hub/admin/server.ts): the hub itself, every channel with
// its balances and on-chain view, the router's figures, what each cooperative close paid, and the
// splices the hub took part in since it started. "local"
// is always the hub's side.
import type { NodeId } from '../../protocol/types.ts'
import type { Wallet } from '../../host/wallet/wallet.ts'
import type { CloseBroadcaster } from '../channels/closing.ts'
import type { ChannelManager } from '../channels/manager.ts'
import type { HubMonitoring } from '../channels/monitoring.ts'
import type { HubSplicing } from '../channels/splicing.ts'
import type { Router } from '../router/router.ts'
import type { HubTransport } from '../transport/server.ts'
import type { AdminHandlers } from './server.ts'

export interface ViewSources {
  hubId: NodeId
  transport: Pick<HubTransport, 'url' | 'sessionCount'>
  manager: Pick<ChannelManager, 'all'>
  router: Pick<Router, 'stats'>
  closer: Pick<CloseBroadcaster, 'closed'>
  wallet: Pick<Wallet, 'balance'>
  monitoring: Pick<HubMonitoring, 'onChain'>
  splicing: Pick<HubSplicing, 'splices'>
  height: () => number
}

export function adminViews (x: ViewSources): Pick<AdminHandlers, 'info' | 'channels' | 'stats' | 'closed' | 'splices'> {
  return {
    info: () => ({
      hub_id: x.hubId, ws: x.transport.url, height: x.height(), wallet: x.wallet.balance(), sessions: x.transport.sessionCount,
    }),
    channels: () => x.manager.all().map(ch => {
      const s = ch.state
      const spec = s.localCommit?.spec
      return {
        channel_id: s.channelId, peer: ch.peer, phase: s.phase, link: s.link, is_funder: s.setup.isFunder,
        capacity_sat: s.setup.capacitySat, funding_txid: s.setup.funding?.txid ?? null,
        local_msat: spec?.toLocalMsat ?? null, remote_msat: spec?.toRemoteMsat ?? null, htlcs: spec?.htlcs.length ?? 0,
        local_commitment_index: s.localCommit?.index ?? null, remote_commitment_index: s.remoteCommit?.index ?? null,
        stopped: ch.running && ch.driver.stoppedBy !== undefined,
        pending_splices: (s.splice?.candidates ?? []).map(c => c.txid),
        onchain: x.monitoring.onChain(s.channelId) ?? null,
      }
    }),
    stats: () => {
      const s = x.router.stats
      return { forwarded: s.forwarded, fulfilled: s.fulfilled, failed: s.failed, fees_msat: s.feesMsat }
    },
    splices: () => [...x.splicing.splices.values()].map(sp => ({
      channel_id: sp.channelId, peer: sp.peer, kind: sp.kind, txid: sp.txid, amount_sat: sp.amountSat, fee_sat: sp.feeSat,
      capacity_sat: sp.capacitySat, depth: sp.depth, locked: sp.locked,
    })),
    closed: () => [...x.closer.closed.values()].map(c => ({
      channel_id: c.channelId, peer: c.peer, closing_txid: c.closingTxid, fee_sat: c.feeSat,
      to_local_sat: c.toLocalSat, to_remote_sat: c.toRemoteSat, agreed_fee_sat: c.agreedFeeSat,
      trimmed_local_sat: c.trimmedLocalSat, trimmed_remote_sat: c.trimmedRemoteSat,
    })),
  }
}
