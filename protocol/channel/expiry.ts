// HTLC deadlines on each new block (BOLT #2 "`cltv_expiry_delta` Selection").
import { channelError } from '../errors.ts'
import { FULFILL_DEADLINE_BLOCKS, OFFERED_HTLC_GRACE_BLOCKS } from '../limits.ts'
import type { StepBuilder } from './effects.ts'
import { failChannel } from './failure.ts'
import { isOperating } from './phase.ts'
import type { ChannelState, Htlc } from './state.ts'
import { proposeUpdate } from './updates.ts'

/** Every HTLC in either side's current commitment (ours, the peer's, and one signed but unrevoked). */
function current (s: ChannelState): Htlc[] {
  const all = [
    ...(s.localCommit?.spec.htlcs ?? []), ...(s.remoteCommit?.spec.htlcs ?? []), ...(s.nextRemoteCommit?.commit.spec.htlcs ?? [])
  ]
  const seen = new Set<string>()
  return all.filter(h => { const k = `${h.offerer}${h.id}`; if (seen.has(k)) return false; seen.add(k); return true })
}

export function onBlock (b: StepBuilder, height: number): void {
  const s = b.state
  s.height = Math.max(s.height, height)
  if (!isOperating(s.phase)) return
  const fulfilled = new Set<number>()
  for (const l of [
    s.localChanges.proposed, s.localChanges.signed, s.localChanges.acked, s.holding,
  ]) for (const u of l) if (u.kind === 'fulfill') fulfilled.add(u.id)
  for (const h of current(s)) {
    // BOLT #2 (offering node): "if an HTLC which it offered is in either node's current commitment
    // transaction, AND is past this timeout deadline: SHOULD send an `error` to the receiving peer (if
    // connected). MUST fail the channel." The monitor then times it out on-chain.
    if (h.offerer === 'local' && s.height >= h.cltvExpiry + OFFERED_HTLC_GRACE_BLOCKS) {
      return failChannel(b, channelError('htlc_deadline', `offered HTLC ${h.id} expired at ${h.cltvExpiry}, now ${s.height}`))
    }
    // BOLT #2 (fulfilling node): "if an HTLC it has fulfilled is in either node's current commitment
    // transaction, AND is past this fulfillment deadline: SHOULD send an `error` to the offering peer
    // (if connected). MUST fail the channel." The monitor then claims it on-chain with the preimage.
    if (h.offerer === 'remote' && fulfilled.has(h.id) && s.height >= h.cltvExpiry - FULFILL_DEADLINE_BLOCKS) {
      return failChannel(
        b, channelError('htlc_deadline', `fulfilled HTLC ${h.id} still unresolved at ${s.height}, expires ${h.cltvExpiry}`),
      )
    }
  }
  // BOLT #2: "MUST fail (and not forward) an HTLC whose fulfillment deadline is already past." Incoming
  // HTLCs the host has not settled yet are failed back while that is still safe off-chain.
  const inLocal = new Set((s.localCommit?.spec.htlcs ?? []).filter(h => h.offerer === 'remote').map(h => h.id))
  for (const h of s.remoteCommit?.spec.htlcs ?? []) {
    if (h.offerer !== 'remote' || !inLocal.has(h.id) || s.height < h.cltvExpiry - FULFILL_DEADLINE_BLOCKS) continue
    const removing = [
      s.localChanges.proposed, s.localChanges.signed, s.localChanges.acked, s.holding,
    ].some(l => l.some(u => (u.kind === 'fulfill' || u.kind === 'fail') && u.id === h.id))
    if (removing) continue
    b.emit({ type: 'htlc_auto_failed', id: h.id, reason: 'expiry_too_soon' })
    proposeUpdate(b, { kind: 'fail', id: h.id, reason: 'expiry_too_soon' })
  }
}
