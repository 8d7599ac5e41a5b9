// What the admin API shows (its GET routes, hub/admin/server.ts): the hub itself, every channel with
// its balances, where it is (`status`, hub/admin/onchain-view.ts) and, once it is ending, what its
// chain monitor saw and swept; the router's figures; and every channel whose funding output is spent,
// with how and what it paid; the splices the hub took part in since it started. "local" is always the
// hub's side.
import type { NodeId } from '../../protocol/types.ts'
import type { Wallet } from '../../host/wallet/wallet.ts'
import type { CloseBroadcaster } from '../channels/closing.ts'
import type { ChannelManager } from '../channels/manager.ts'
import type { HubMonitoring } from '../channels/monitoring.ts'
import type { HubSplicing } from '../channels/splicing.ts'
import type { HubTransport } from '../transport/server.ts'
import { channelStatus, closedRow, endingOrEnded, onChainJson } from './onchain-view.ts'
import type { PaymentFigures } from './payments.ts'
import type { AdminHandlers } from './server.ts'

export interface ViewSources {
  hubId: NodeId
  transport: Pick<HubTransport, 'url' | 'sessionCount' | 'session'>
  manager: Pick<ChannelManager, 'all'>
  figures: Pick<PaymentFigures, 'figures' | 'payments'>
  closer: Pick<CloseBroadcaster, 'closed'>
  wallet: Pick<Wallet, 'balance'>
  monitoring: Pick<HubMonitoring, 'onChain' | 'stale'>
  splicing: Pick<HubSplicing, 'splices'>
  height: () => number
  /** A hub started from a restored backup: which backup, and the channels still held until their
   *  peers prove them current (hub/backup/restored.ts). */
  restored?: () => { backup_created_at: string; backup_height: number; channels_held: string[] } | null
}

type ViewRoutes = 'info' | 'channels' | 'stats' | 'payments' | 'peers' | 'closed' | 'splices'

export function adminViews (x: ViewSources): Pick<AdminHandlers, ViewRoutes> {
  return {
    info: () => ({
      hub_id: x.hubId, ws: x.transport.url, height: x.height(), wallet: x.wallet.balance(), sessions: x.transport.sessionCount,
      restored: x.restored?.() ?? null,
    }),
    channels: async () => await Promise.all(x.manager.all().map(async ch => {
      const s = ch.state
      const spec = s.localCommit?.spec
      const onchain = endingOrEnded(s) || x.monitoring.stale.has(s.channelId) ? await x.monitoring.onChain(s.channelId) : undefined
      return {
        channel_id: s.channelId, peer: ch.peer, status: channelStatus(s, onchain), phase: s.phase, link: s.link,
        is_funder: s.setup.isFunder,
        capacity_sat: s.setup.capacitySat, funding_txid: s.setup.funding?.txid ?? null,
        local_msat: spec?.toLocalMsat ?? null, remote_msat: spec?.toRemoteMsat ?? null, htlcs: spec?.htlcs.length ?? 0,
        local_commitment_index: s.localCommit?.index ?? null, remote_commitment_index: s.remoteCommit?.index ?? null,
        stopped: ch.running && ch.driver.stoppedBy !== undefined,
        pending_splices: (s.splice?.candidates ?? []).map(c => c.txid),
        onchain: onchain !== undefined ? onChainJson(onchain) : null,
      }
    })),
    stats: () => x.figures.figures(),
    payments: (limit, failed) => x.figures.payments({ limit, failed }),
    peers: () => {
      const byPeer = new Map<NodeId, { channels: number; open: number; local: number; remote: number }>()
      for (const ch of x.manager.all()) {
        const p = byPeer.get(ch.peer) ?? { channels: 0, open: 0, local: 0, remote: 0 }
        const spec = ch.state.localCommit?.spec
        p.channels++
        if (ch.state.phase === 'normal') { p.open++; p.local += spec?.toLocalMsat ?? 0; p.remote += spec?.toRemoteMsat ?? 0 }
        byPeer.set(ch.peer, p)
      }
      return [...byPeer].map(([peer, p]) => ({
        node_id: peer, connected: x.transport.session(peer) !== undefined, channels: p.channels, open_channels: p.open,
        local_msat: p.local, remote_msat: p.remote,
      }))
    },
    splices: () => [...x.splicing.splices.values()].map(sp => ({
      channel_id: sp.channelId, peer: sp.peer, kind: sp.kind, txid: sp.txid, amount_sat: sp.amountSat, fee_sat: sp.feeSat,
      capacity_sat: sp.capacitySat, depth: sp.depth, locked: sp.locked,
      ...(sp.replacedBy !== undefined ? { replaced_by: sp.replacedBy } : {}),
      ...(sp.droppedBecause !== undefined ? { dropped: sp.droppedBecause } : {}),
    })),
    closed: async () => {
      const rows: Array<Record<string, unknown>> = []
      for (const ch of x.manager.all()) {
        const s = ch.state
        if (!endingOrEnded(s) && !x.monitoring.stale.has(s.channelId)) continue
        const row = closedRow(ch.peer, s, await x.monitoring.onChain(s.channelId), x.closer.closed.get(s.channelId))
        if (row !== undefined) rows.push(row)
      }
      return rows
    },
  }
}
