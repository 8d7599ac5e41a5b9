// The operator's channel commands (POST /channels/…, hub/admin/server.ts): open a hub-funded channel to
// a connected peer, close one cooperatively, force-close one, top one up (splice in hub funds), replace
// a pending top-up at a higher feerate. Each answers with an HTTP status and a body that says what
// happened or why not.
import { closingTrims } from '../../protocol/channel/index.ts'
import type { ChannelId, NodeId, Txid } from '../../protocol/types.ts'
import type { HubConfig } from '../config.ts'
import type { ChannelManager } from '../channels/manager.ts'
import type { HubMonitoring } from '../channels/monitoring.ts'
import type { HubSplicing } from '../channels/splicing.ts'
import type { InboundChannels } from '../funding/inbound.ts'
import type { AdminHandlers } from './server.ts'

export interface ChannelCommandTargets {
  config: HubConfig
  manager: Pick<ChannelManager, 'get'>
  inbound: Pick<InboundChannels, 'ensureChannel'>
  monitoring: Pick<HubMonitoring, 'forceClose'>
  splicing: Pick<HubSplicing, 'topUp' | 'topUpRbf'>
}

export function channelCommands (x: ChannelCommandTargets): Pick<AdminHandlers,
'open' | 'close' | 'forceClose' | 'spliceIn' | 'spliceRbf'> {
  return {
    spliceIn: async (channelId: string, amountSat: number) => await x.splicing.topUp(channelId, amountSat),
    spliceRbf: async (
      channelId: string, txid: string, feeratePerKw: number,
    ) => await x.splicing.topUpRbf(channelId, txid as Txid, feeratePerKw),
    open: async (peer: NodeId, fundingSat?: number) => {
      const r = await x.inbound.ensureChannel(peer, fundingSat ?? x.config.channels.fundingSat, 'operator')
      return 'error' in r ? r : { temporary_channel_id: r.driver.state.temporaryChannelId, channel_id: r.driver.channelId }
    },
    close: async (channelId: string, allowDustTrim: boolean) => {
      const ch = x.manager.get(channelId as ChannelId)
      if (ch === undefined) return { status: 404, body: { error: `channel_id: unknown channel ${channelId}` } }
      // BOLT #3: the closing transaction leaves out an output below the dust limit; its owner gets
      // nothing. The operator decides with that in view.
      const trims = closingTrims(ch.state)
      if (trims.length > 0 && !allowDustTrim) {
        const whose = (side: 'local' | 'remote'): string => side === 'local' ? 'hub' : 'peer'
        const lost = trims.map(t =>
          `the ${whose(t.side)}'s ${t.amountSat} sat are below the dust limit of ${t.dustLimitSat} sat and would not be paid`)
        return {
          status: 409,
          body: {
            error: `dust_trim: ${lost.join('; ')}; send allow_dust_trim: true to close anyway`,
            trims: trims.map(t => ({ side: whose(t.side), amount_sat: t.amountSat, dust_limit_sat: t.dustLimitSat })),
          },
        }
      }
      let refused: string | undefined
      const before = ch.driver.state.closing.localScript
      await ch.driver.command({ type: 'shutdown' }, (_b, after) => {
        if (after.closing.localScript === before) refused = `cannot shut down in phase ${after.phase}`
      })
      return refused === undefined
        ? { status: 200, body: { ok: true, phase: ch.driver.state.phase } }
        : { status: 409, body: { error: refused } }
    },
    forceClose: async (channelId: string) => {
      const r = await x.monitoring.forceClose(channelId)
      switch (r.kind) {
        case 'failing': case 'already_failed': return { status: 200, body: { ok: true, broadcast: true } }
        case 'unfunded':
          return { status: 200, body: { ok: true, broadcast: false, detail: 'never funded: failed and forgotten, nothing on-chain' } }
        case 'refused': return { status: 409, body: { error: `${r.error.reason}: ${r.error.detail}` } }
        case 'stopped': return { status: 409, body: { error: 'the channel is stopped (a write failed); restart the hub' } }
        case 'unknown_channel': return { status: 404, body: { error: `channel_id: unknown channel ${channelId}` } }
      }
    },
  }
}
