// How the admin API words a channel's life and what happened to it on-chain: the `status` and
// `onchain` of GET /channels and the rows of GET /closed (hub/admin/views.ts). Pure functions of the
// channel's state, its monitor's summary (hub/channels/monitoring.ts onChain) and, for a cooperative
// close this process broadcast, its record (hub/channels/closing.ts). "local" is the hub's side.
import { closingAmounts } from '../../protocol/tx/index.ts'
import type { ChannelState } from '../../protocol/channel/index.ts'
import type { Sat } from '../../protocol/types.ts'
import type { FundingSpend } from '../../protocol/monitor/index.ts'
import type { ClosedChannel } from '../channels/closing.ts'
import type { OnChainView } from '../channels/monitoring.ts'

/** Where a channel is, in the operator's words. */
export type ChannelStatus =
  | 'opening'        // before channel_ready both ways
  | 'open'           // payments flow
  | 'closing'        // a cooperative close is under way, or its closing transaction is not resolved yet
  | 'force_closing'  // a commitment is going (or went) on-chain; the monitor claims the outputs
  | 'closed'         // the funding output's spend and every output of it are resolved at depth
  | 'abandoned'      // the funding never showed up as agreed: nothing on-chain

/** How the funding output was spent, from the hub's side. */
export type ClosedHow = 'mutual' | 'hub_commitment' | 'peer_commitment' | 'peer_revoked_commitment' | 'unknown_commitment'

const HOW: Record<FundingSpend['kind'], ClosedHow> = {
  mutual: 'mutual',
  local: 'hub_commitment',
  remote: 'peer_commitment',
  revoked: 'peer_revoked_commitment',
  unknown: 'unknown_commitment',
}

/** The phases in which the hub looks at the channel's monitor for the admin view: the channel ended
 *  or is ending (a channel that is still open has nothing on-chain but its funding). */
export function endingOrEnded (s: ChannelState): boolean {
  return s.phase === 'closing' || s.phase === 'failed' || s.phase === 'awaiting_remote_close' || s.phase === 'closed'
}

export function channelStatus (s: ChannelState, onchain: OnChainView | undefined): ChannelStatus {
  if (s.phase === 'closed' || onchain?.closed === true) return 'closed'
  if (s.phase === 'abandoned') return 'abandoned'
  const spent = onchain?.spend?.how
  if (spent !== undefined) return spent === 'mutual' ? 'closing' : 'force_closing'
  if (s.phase === 'failed' || s.phase === 'awaiting_remote_close' || onchain?.forceClose !== undefined ||
    onchain?.stale === true) return 'force_closing'
  if (s.phase === 'closing' || s.phase === 'shutting_down' || s.phase === 'negotiating_close') return 'closing'
  if (s.phase === 'normal') return 'open'
  return 'opening'
}

/** The `onchain` field of a GET /channels row. */
export function onChainJson (v: OnChainView): Record<string, unknown> {
  return {
    force_close_reason: v.forceClose?.reason ?? null,
    closing_txid: v.spend?.txid ?? null,
    closing_height: v.spend?.height ?? null,
    how: v.spend !== undefined ? HOW[v.spend.how] : null,
    resolved: v.closed,
    sweeps: v.sweeps.map(w => ({ txid: w.txid, height: w.height, amount_sat: w.amountSat })),
    swept_sat: v.sweeps.reduce((n, w) => n + w.amountSat, 0),
    stale: v.stale,
    we_lost_state: v.doNotBroadcast,
  }
}

/** A GET /closed row: a channel whose funding output is spent on-chain, or whose cooperative closing
 *  transaction this process broadcast (not confirmed yet: `closing_height` null). What the closing
 *  transaction pays each side is given for a cooperative close (for a commitment, `sweeps` say what
 *  came back to the hub's wallet). */
export function closedRow (peer: string, s: ChannelState, v: OnChainView | undefined, broadcast: ClosedChannel | undefined): Record<string,
unknown> | undefined {
  const spend = v?.spend
  if (spend === undefined && broadcast === undefined) return undefined
  const how = spend !== undefined ? HOW[spend.how] : 'mutual'
  const row: Record<string, unknown> = {
    channel_id: s.channelId, peer, how,
    closing_txid: spend?.txid ?? broadcast!.closingTxid,
    closing_height: spend?.height ?? null,
    resolved: v?.closed ?? false,
    force_close_reason: v?.forceClose?.reason ?? null,
    sweeps: (v?.sweeps ?? []).map(w => ({ txid: w.txid, height: w.height, amount_sat: w.amountSat })),
    swept_sat: (v?.sweeps ?? []).reduce((n, w) => n + w.amountSat, 0),
  }
  if (how !== 'mutual') return row
  const paid = broadcast !== undefined && (spend === undefined || spend.txid === broadcast.closingTxid)
    ? {
      toLocal: broadcast.toLocalSat, toRemote: broadcast.toRemoteSat, fee: broadcast.feeSat, agreed: broadcast.agreedFeeSat,
      trimmedLocal: broadcast.trimmedLocalSat, trimmedRemote: broadcast.trimmedRemoteSat,
    }
    : mutualFromChain(s, spend!.outputs)
  return {
    ...row,
    to_local_sat: paid.toLocal, to_remote_sat: paid.toRemote, fee_sat: paid.fee, agreed_fee_sat: paid.agreed,
    trimmed_local_sat: paid.trimmedLocal, trimmed_remote_sat: paid.trimmedRemote,
  }
}

/** What a confirmed cooperative closing transaction paid, read from its outputs and the channel's
 *  last state (the record of the broadcast is gone after a restart, or the peer broadcast it). An
 *  output below the dust limit is not in the transaction (BOLT #3): that side's balance was trimmed. */
function mutualFromChain (s: ChannelState, outputs: ReadonlyArray<{ valueSat: number; script: string }>): {
  toLocal: number; toRemote: number; fee: number; agreed: Sat | null; trimmedLocal: number | null; trimmedRemote: number | null
} {
  const to = (script: string | undefined): number => outputs.filter(o => o.script === script).reduce((n, o) => n + o.valueSat, 0)
  const toLocal = to(s.closing.localScript)
  const toRemote = to(s.closing.remoteScript)
  const fee = s.setup.capacitySat - outputs.reduce((n, o) => n + o.valueSat, 0)
  const agreed = s.closing.agreedFeeSat ?? null
  const spec = s.localCommit?.spec
  if (agreed === null || spec === undefined) return { toLocal, toRemote, fee, agreed, trimmedLocal: null, trimmedRemote: null }
  const owed = closingAmounts({
    localMsat: spec.toLocalMsat, remoteMsat: spec.toRemoteMsat, feeSat: agreed as Sat, localIsOpener: s.setup.isFunder,
    dustLimitSat: 0 as Sat,
  })
  return {
    toLocal, toRemote, fee, agreed, trimmedLocal: toLocal === 0 ? owed.localSat : 0, trimmedRemote: toRemote === 0 ? owed.remoteSat : 0,
  }
}
