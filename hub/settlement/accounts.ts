// The accounts the settlement scheduler looks at (protocol/settlement/schedule.ts AccountChannel): every
// stored payout policy within the operator's bounds, with each of the account's open channels as the
// hub sees it now. A channel whose peer is offline, that is not in `normal`, or that has a splice
// pending is reported as waiting; its payout is planned in a later window.
import { quiescence } from '../../protocol/channel/index.ts'
import type { AccountChannel } from '../../protocol/settlement/schedule.ts'
import type { Txid } from '../../protocol/types.ts'
import type { ManagedChannel } from '../channels/manager.ts'
import type { PolicyStore } from './policy.ts'

export interface AccountsSource {
  policies: Pick<PolicyStore, 'list'>
  channelsOf: (nodeId: string) => ManagedChannel[]
  online: (nodeId: string) => boolean
  /** The height of the account's last payout in a batch that was broadcast (absent: none). */
  lastPayoutHeight: (nodeId: string) => number | undefined
  /** The height of the channel's last activity (hub/settlement/activity.ts); undefined: unknown, the
   *  channel counts as active now (an idle close can only come later). */
  lastActivityHeight?: (channelId: string) => number | undefined
}

export interface AccountsNow {
  accounts: AccountChannel[]
  /** Channels not planned at all (their policy is outside the bounds, or the channel cannot splice now). */
  skipped: Array<{ nodeId: string; channelId?: string; reason: string }>
}

export async function accountsNow (src: AccountsSource, height: number): Promise<AccountsNow> {
  const accounts: AccountChannel[] = []
  const skipped: AccountsNow['skipped'] = []
  for (const p of await src.policies.list()) {
    if ('error' in p) { skipped.push({ nodeId: p.nodeId, reason: p.error }); continue }
    if (!src.online(p.nodeId)) { skipped.push({ nodeId: p.nodeId, reason: 'offline' }); continue }
    for (const ch of src.channelsOf(p.nodeId)) {
      const s = ch.state
      const spec = s.localCommit?.spec
      const f = s.setup.funding
      if (s.phase !== 'normal' || s.link !== 'up' || spec === undefined || f === undefined) {
        skipped.push({ nodeId: p.nodeId, channelId: ch.channelId, reason: `phase ${s.phase}, link ${s.link}` })
        continue
      }
      const last = src.lastPayoutHeight(p.nodeId)
      accounts.push({
        nodeId: p.nodeId, channelId: ch.channelId, policy: p.policy,
        funding: { txid: f.txid as Txid, vout: f.outputIndex }, capacitySat: s.setup.capacitySat,
        balanceSat: Math.floor(spec.toRemoteMsat / 1000),
        // BOLT #2: our channel_reserve_satoshis is what the peer must keep.
        reserveSat: s.setup.local.channelReserveSat,
        ...(last !== undefined ? { lastPayoutHeight: last } : {}),
        lastActivityHeight: src.lastActivityHeight?.(ch.channelId) ?? height,
        splicePending: (s.splice?.candidates.length ?? 0) > 0 || s.splice?.session !== undefined || quiescence(s) !== 'none',
      })
    }
  }
  return { accounts, skipped }
}
